//! STOMP frames as values: [`Command`], [`Headers`], [`Frame`] and the protocol [`Version`].
//!
//! STOMP 1.2 §"STOMP Frames": a frame is a command line, header lines, a blank line, a body and a
//! NUL octet. Commands and header names are case sensitive (§"STOMP Frames"); when a header is
//! repeated, only the first entry is used (§"Repeated Header Entries"), but all are kept in order.

use bytes::Bytes;
use std::fmt;

/// A STOMP protocol version (STOMP 1.2 §"Protocol Negotiation").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// STOMP 1.0: no header escaping, no NACK, no heart-beats.
    V1_0,
    /// STOMP 1.1.
    V1_1,
    /// STOMP 1.2.
    V1_2,
}

impl Version {
    /// Every version we speak, lowest first.
    pub const ALL: [Version; 3] = [Version::V1_0, Version::V1_1, Version::V1_2];

    /// The wire form: `"1.0"`, `"1.1"` or `"1.2"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }

    /// Parse the wire form; `None` for versions we do not speak.
    pub fn parse(s: &str) -> Option<Version> {
        match s {
            "1.0" => Some(Version::V1_0),
            "1.1" => Some(Version::V1_1),
            "1.2" => Some(Version::V1_2),
            _ => None,
        }
    }

    /// Whether header values are escaped in this version (1.1 and later, STOMP 1.2 §"Value Encoding").
    pub const fn escapes_headers(self) -> bool {
        !matches!(self, Version::V1_0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every STOMP 1.2 command (STOMP 1.2 §"Augmented BNF"). Case sensitive on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Client: open a session.
    Connect,
    /// Client: open a session (1.2 alias of CONNECT, distinguishable from HTTP).
    Stomp,
    /// Server: session accepted.
    Connected,
    /// Client: send a message to a destination.
    Send,
    /// Client: subscribe to a destination.
    Subscribe,
    /// Client: end a subscription.
    Unsubscribe,
    /// Client: acknowledge a message.
    Ack,
    /// Client: negatively acknowledge a message (1.1+).
    Nack,
    /// Client: start a transaction.
    Begin,
    /// Client: commit a transaction.
    Commit,
    /// Client: roll back a transaction.
    Abort,
    /// Client: graceful disconnect.
    Disconnect,
    /// Server: a message delivered to a subscription.
    Message,
    /// Server: acknowledges a frame that carried a `receipt` header.
    Receipt,
    /// Server: something went wrong; the connection closes after it.
    Error,
}

impl Command {
    /// The wire form, e.g. `"SEND"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Command::Connect => "CONNECT",
            Command::Stomp => "STOMP",
            Command::Connected => "CONNECTED",
            Command::Send => "SEND",
            Command::Subscribe => "SUBSCRIBE",
            Command::Unsubscribe => "UNSUBSCRIBE",
            Command::Ack => "ACK",
            Command::Nack => "NACK",
            Command::Begin => "BEGIN",
            Command::Commit => "COMMIT",
            Command::Abort => "ABORT",
            Command::Disconnect => "DISCONNECT",
            Command::Message => "MESSAGE",
            Command::Receipt => "RECEIPT",
            Command::Error => "ERROR",
        }
    }

    /// Parse the wire form, case sensitively (STOMP 1.2 §"STOMP Frames").
    pub fn parse(s: &[u8]) -> Option<Command> {
        Some(match s {
            b"CONNECT" => Command::Connect,
            b"STOMP" => Command::Stomp,
            b"CONNECTED" => Command::Connected,
            b"SEND" => Command::Send,
            b"SUBSCRIBE" => Command::Subscribe,
            b"UNSUBSCRIBE" => Command::Unsubscribe,
            b"ACK" => Command::Ack,
            b"NACK" => Command::Nack,
            b"BEGIN" => Command::Begin,
            b"COMMIT" => Command::Commit,
            b"ABORT" => Command::Abort,
            b"DISCONNECT" => Command::Disconnect,
            b"MESSAGE" => Command::Message,
            b"RECEIPT" => Command::Receipt,
            b"ERROR" => Command::Error,
            _ => return None,
        })
    }

    /// Only SEND, MESSAGE and ERROR may carry a body (STOMP 1.2 §"Value Encoding").
    pub const fn allows_body(self) -> bool {
        matches!(self, Command::Send | Command::Message | Command::Error)
    }

    /// CONNECT, STOMP and CONNECTED headers are never escaped, for 1.0 compatibility
    /// (STOMP 1.2 §"Value Encoding").
    pub const fn escapes_headers(self, version: Version) -> bool {
        version.escapes_headers()
            && !matches!(self, Command::Connect | Command::Stomp | Command::Connected)
    }

    /// Every command, for tests and tables.
    pub const ALL: [Command; 15] = [
        Command::Connect,
        Command::Stomp,
        Command::Connected,
        Command::Send,
        Command::Subscribe,
        Command::Unsubscribe,
        Command::Ack,
        Command::Nack,
        Command::Begin,
        Command::Commit,
        Command::Abort,
        Command::Disconnect,
        Command::Message,
        Command::Receipt,
        Command::Error,
    ];
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The headers of a frame, in wire order. Repeats are kept; [`Headers::get`] returns the first
/// (STOMP 1.2 §"Repeated Header Entries"). Values are never trimmed or padded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// The value of the first entry named `name` (case sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in wire order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Append an entry (after any existing ones of the same name).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Remove every entry named `name`.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|(n, _)| n != name);
    }

    /// Whether an entry named `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All entries in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of entries, repeats included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Headers {
            entries: iter
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }
}

/// One STOMP frame. The body is a shared [`Bytes`] slice of the receive buffer when decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The command.
    pub command: Command,
    /// The headers, in wire order.
    pub headers: Headers,
    /// The body (empty for commands that cannot carry one).
    pub body: Bytes,
}

impl Frame {
    /// A frame with no headers and no body.
    pub fn new(command: Command) -> Self {
        Frame {
            command,
            headers: Headers::new(),
            body: Bytes::new(),
        }
    }

    /// Builder: append a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Builder: set the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of header `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_and_are_case_sensitive() {
        for c in Command::ALL {
            assert_eq!(Command::parse(c.as_str().as_bytes()), Some(c));
            assert_eq!(
                Command::parse(c.as_str().to_ascii_lowercase().as_bytes()),
                None
            );
        }
    }

    #[test]
    fn first_repeated_header_wins() {
        let f = Frame::new(Command::Message)
            .header("foo", "World")
            .header("foo", "Hello");
        assert_eq!(f.get("foo"), Some("World"));
        assert_eq!(
            f.headers.get_all("foo").collect::<Vec<_>>(),
            ["World", "Hello"]
        );
        assert_eq!(f.get("Foo"), None);
    }

    #[test]
    fn only_send_message_error_carry_bodies() {
        let with: Vec<_> = Command::ALL
            .into_iter()
            .filter(|c| c.allows_body())
            .collect();
        assert_eq!(with, [Command::Send, Command::Message, Command::Error]);
    }

    #[test]
    fn connect_frames_never_escape() {
        assert!(!Command::Connect.escapes_headers(Version::V1_2));
        assert!(!Command::Connected.escapes_headers(Version::V1_2));
        assert!(!Command::Send.escapes_headers(Version::V1_0));
        assert!(Command::Send.escapes_headers(Version::V1_1));
    }
}
