//! STOMP frames as values: [`Command`], [`Headers`], [`Frame`] and the protocol [`Version`].
//!
//! STOMP 1.2 §"STOMP Frames": a frame is a command line, header lines, a blank line, a body and a
//! NUL octet. Commands and header names are case sensitive (§"STOMP Frames"); when a header is
//! repeated, only the first entry is used (§"Repeated Header Entries"), but all are kept in order.

use bytes::Bytes;
use memchr::memchr;
use std::fmt;

use crate::ws::Utf8Bytes;

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
///
/// Storage is one text, not a `String` per name and value. A decoded frame's headers are the
/// received header lines themselves (a shared `Bytes` slice of the receive buffer, validated as
/// UTF-8 once) and entries are found by scanning them, so decoding allocates nothing; only a
/// head holding escape sequences is unescaped, into an owned text. Headers built with
/// [`push`](Self::push) share one growing `String` in the same `name:value` line form. Entries
/// that lines cannot describe (a name holding `:` or a line break, a value holding a line break
/// or ending in CR), and [`remove`](Self::remove), switch to a list of spans into the text.
#[derive(Clone, Default)]
pub struct Headers {
    text: Text,
    /// `None`: `text` is in line form, `name:value` lines each ended by LF or CR LF, the name
    /// before the first `:`. `Some`: where each entry lies in `text`.
    spans: Option<Vec<Span>>,
}

/// The text the entries live in.
#[derive(Clone)]
enum Text {
    /// Header lines of a received frame, exactly as received (nothing to unescape in them).
    Shared(Utf8Bytes),
    /// Entries written by `push` (or unescaped by the decoder).
    Owned(String),
}

impl Default for Text {
    fn default() -> Self {
        Text::Owned(String::new())
    }
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Shared(t) => t.as_str(),
            Text::Owned(t) => t,
        }
    }

    /// The owned text, copying shared lines out first.
    fn to_mut(&mut self) -> &mut String {
        if let Text::Shared(shared) = self {
            let mut owned = String::with_capacity(shared.len() + 64);
            owned.push_str(shared.as_str());
            *self = Text::Owned(owned);
        }
        match self {
            Text::Owned(text) => text,
            Text::Shared(_) => unreachable!("made owned above"),
        }
    }
}

/// One entry: the name is `text[start..colon]`, the value `text[colon + 1..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    colon: u32,
    end: u32,
}

/// The entries of text in line form, in order.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lines<'a> {
    /// The next line as (start, colon, end) offsets, the EOL excluded.
    fn next_span(&mut self) -> Option<(usize, usize, usize)> {
        let bytes = self.text.as_bytes();
        loop {
            let start = self.pos;
            if start >= bytes.len() {
                return None;
            }
            let eol = memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            self.pos = eol + 1;
            let end = if eol > start && bytes[eol - 1] == b'\r' {
                eol - 1
            } else {
                eol
            };
            if let Some(colon) = memchr(b':', &bytes[start..end]) {
                return Some((start, start + colon, end));
            }
        }
    }
}

/// Iterator over the entries of [`Headers`].
enum Iter<'a> {
    Lines(Lines<'a>),
    Spans(&'a str, std::slice::Iter<'a, Span>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (text, (start, colon, end)) = match self {
            Iter::Lines(lines) => (lines.text, lines.next_span()?),
            Iter::Spans(text, spans) => {
                let s = spans.next()?;
                (*text, (s.start as usize, s.colon as usize, s.end as usize))
            }
        };
        Some((&text[start..colon], &text[colon + 1..end]))
    }
}

/// Whether an entry can be written as a `name:value` line and read back the same.
fn fits_a_line(name: &str, value: &str) -> bool {
    !name.bytes().any(|b| b == b':' || b == b'\n')
        && !value.bytes().any(|b| b == b'\n')
        && !value.ends_with('\r')
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Headers that are received header lines: `text` is valid UTF-8 with nothing to
    /// unescape, every line holds a `:`, and none is empty.
    pub(super) fn from_lines(text: Utf8Bytes) -> Self {
        Headers {
            text: Text::Shared(text),
            spans: None,
        }
    }

    /// The value of the first entry named `name` (case sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        if self.spans.is_some() {
            return self.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        }
        // Line form: test each line's first octets for `name:` before splitting it.
        let text = self.text.as_str();
        let bytes = text.as_bytes();
        let n = name.len();
        let mut pos = 0;
        while pos < bytes.len() {
            if bytes.get(pos + n) == Some(&b':')
                && &bytes[pos..pos + n] == name.as_bytes()
                && !name.bytes().any(|b| b == b':')
            {
                let eol = memchr(b'\n', &bytes[pos + n..]).map_or(bytes.len(), |i| pos + n + i);
                let end = if bytes[eol - 1] == b'\r' {
                    eol - 1
                } else {
                    eol
                };
                return Some(&text[pos + n + 1..end.max(pos + n + 1)]);
            }
            pos = memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        }
        None
    }

    /// Every value of `name`, in wire order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().filter(move |(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Append an entry (after any existing ones of the same name).
    pub fn push(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        let (name, value) = (name.as_ref(), value.as_ref());
        if self.spans.is_none() && !fits_a_line(name, value) {
            self.use_spans();
        }
        let text = self.text.to_mut();
        if text.capacity() == 0 {
            text.reserve(128); // most frames' headers fit: one allocation for all of them
        }
        let start = text.len();
        text.push_str(name);
        let colon = text.len();
        text.push(':');
        text.push_str(value);
        let end = text.len();
        match &mut self.spans {
            None => text.push('\n'),
            Some(spans) => {
                let offset = |n: usize| u32::try_from(n).expect("headers shorter than 4 GiB");
                spans.push(Span {
                    start: offset(start),
                    colon: offset(colon),
                    end: offset(end),
                });
            }
        }
    }

    /// Leave line form: list where each entry lies.
    fn use_spans(&mut self) {
        if self.spans.is_some() {
            return;
        }
        let mut lines = Lines {
            text: self.text.as_str(),
            pos: 0,
        };
        let offset = |n: usize| u32::try_from(n).expect("headers shorter than 4 GiB");
        let mut spans = Vec::new();
        while let Some((start, colon, end)) = lines.next_span() {
            spans.push(Span {
                start: offset(start),
                colon: offset(colon),
                end: offset(end),
            });
        }
        self.spans = Some(spans);
    }

    /// Remove every entry named `name`.
    pub fn remove(&mut self, name: &str) {
        if !self.contains(name) {
            return;
        }
        self.use_spans();
        let text = self.text.as_str().as_bytes();
        if let Some(spans) = &mut self.spans {
            spans.retain(|s| &text[s.start as usize..s.colon as usize] != name.as_bytes());
        }
    }

    /// Whether an entry named `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All entries in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let text = self.text.as_str();
        match &self.spans {
            None => Iter::Lines(Lines { text, pos: 0 }),
            Some(spans) => Iter::Spans(text, spans.iter()),
        }
    }

    /// The text, when in line form (`name:value` lines, each ended by LF or CR LF).
    pub(super) fn line_text(&self) -> Option<&str> {
        self.spans.is_none().then(|| self.text.as_str())
    }

    /// Octets of text the entries take (names, values, separators): a size hint for encoding.
    pub(super) fn text_len(&self) -> usize {
        self.text.as_str().len()
    }

    /// Number of entries, repeats included.
    pub fn len(&self) -> usize {
        match &self.spans {
            None => self.iter().count(),
            Some(spans) => spans.len(),
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut headers = Headers::new();
        for (n, v) in iter {
            headers.push(n, v);
        }
        headers
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
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
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
    fn headers_grow_past_the_inline_spans_and_remove_keeps_order() {
        let mut h = Headers::new();
        for i in 0..20 {
            h.push(format!("k{}", i % 3), i.to_string());
        }
        assert_eq!(h.len(), 20);
        assert_eq!(h.get("k1"), Some("1"));
        assert_eq!(h.get_all("k2").count(), 6);
        h.remove("k0");
        assert_eq!(h.len(), 13);
        assert!(!h.contains("k0"));
        let values: Vec<_> = h.iter().map(|(_, v)| v).collect();
        assert_eq!(values[..4], ["1", "2", "4", "5"]);
        // Names and values holding ':' or newlines are kept as given.
        let h: Headers = [("a:b", "c:d\n"), ("", "")].into_iter().collect();
        assert_eq!(h.iter().collect::<Vec<_>>(), [("a:b", "c:d\n"), ("", "")]);
        assert_eq!(h, h.clone());
        assert_eq!(format!("{h:?}"), r#"[("a:b", "c:d\n"), ("", "")]"#);
    }

    #[test]
    fn line_form_and_spans_agree() {
        let lines = Headers::from_lines(Utf8Bytes::from("a:1\r\nb:2:3\nc:\na:4\r\n"));
        assert_eq!(
            lines.iter().collect::<Vec<_>>(),
            [("a", "1"), ("b", "2:3"), ("c", ""), ("a", "4")]
        );
        assert_eq!(lines.get("a"), Some("1"));
        assert_eq!(lines.get("b"), Some("2:3"));
        assert_eq!(lines.get("b:2"), None);
        assert_eq!(lines.get("c"), Some(""));
        assert_eq!(lines.get("d"), None);
        assert_eq!(lines.get_all("a").collect::<Vec<_>>(), ["1", "4"]);
        assert_eq!(lines.len(), 4);
        let mut spans = lines.clone();
        spans.use_spans();
        assert_eq!(spans, lines);
        assert_eq!(spans.get("b"), Some("2:3"));
        let mut pushed = lines.clone();
        pushed.push("x", "y");
        pushed.push("x:z", "w\r");
        pushed.remove("a");
        assert_eq!(
            pushed.iter().collect::<Vec<_>>(),
            [("b", "2:3"), ("c", ""), ("x", "y"), ("x:z", "w\r")]
        );
        assert!(Headers::new().is_empty());
        assert!(
            std::mem::size_of::<Frame>() <= 96,
            "Frame grew: {}",
            std::mem::size_of::<Frame>()
        );
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
