//! Frame encoding, STOMP 1.2 §"STOMP Frames", §"Value Encoding", §"Header content-length".
//!
//! Content-length policy: whenever a frame has a non-empty body we write `content-length` (the
//! spec says SEND, MESSAGE and ERROR SHOULD carry it, and MUST when the body holds a NUL). Any
//! `content-length` the caller put in the headers is dropped and replaced by the true count, so a
//! stale value can never desynchronise the peer. Empty bodies get no `content-length`.
//! Lines end with LF (accepted by every version; CR LF is only accepted, never produced).

use super::escape::escape_into;
use super::frame::{Command, Frame, Version};
use bytes::{BufMut, BytesMut};

/// A frame that cannot be written in the chosen version.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// Only SEND, MESSAGE and ERROR may carry a body (STOMP 1.2 §"Value Encoding").
    #[error("{0} frames must not have a body")]
    BodyNotAllowed(Command),
    /// A header that cannot be written without escaping (CONNECT/CONNECTED, or STOMP 1.0): a name
    /// holding `:`, CR or LF, a value holding CR or LF, or an empty name.
    #[error("header {0:?} cannot be encoded without escaping")]
    Unencodable(String),
}

impl Frame {
    /// Append the wire form of this frame for `version` to `out`. On error nothing is written.
    pub fn encode(&self, version: Version, out: &mut BytesMut) -> Result<(), EncodeError> {
        if !self.body.is_empty() && !self.command.allows_body() {
            return Err(EncodeError::BodyNotAllowed(self.command));
        }
        let escape = self.command.escapes_headers(version);
        let mark = out.len();
        out.reserve(self.command.as_str().len() + self.headers.text_len() + self.body.len() + 32);
        out.put_slice(self.command.as_str().as_bytes());
        out.put_u8(b'\n');
        if let Some(lines) = self
            .headers
            .line_text()
            .filter(|l| is_wire_ready(l, escape))
        {
            // The usual case: the headers' text is already the wire form. One copy.
            out.put_slice(lines.as_bytes());
            self.encode_tail(out);
            return Ok(());
        }
        // One pass: each header is checked, then written; a bad one takes back what was written.
        for (name, value) in self.headers.iter() {
            let bad_name = name.is_empty()
                || (!escape && name.bytes().any(|b| matches!(b, b':' | b'\n' | b'\r')));
            let bad_value = !escape && value.bytes().any(|b| matches!(b, b'\n' | b'\r'));
            if bad_name || bad_value {
                out.truncate(mark);
                return Err(EncodeError::Unencodable(name.to_owned()));
            }
            if name == "content-length" {
                continue;
            }
            escape_into(name, escape, out);
            out.put_u8(b':');
            escape_into(value, escape, out);
            out.put_u8(b'\n');
        }
        self.encode_tail(out);
        Ok(())
    }

    /// `content-length` (for a body), the blank line, the body and the NUL.
    fn encode_tail(&self, out: &mut BytesMut) {
        if !self.body.is_empty() {
            out.put_slice(b"content-length:");
            put_decimal(self.body.len(), out);
            out.put_u8(b'\n');
        }
        out.put_u8(b'\n');
        out.put_slice(&self.body);
        out.put_u8(0);
    }
}

impl Frame {
    /// One `name:value` line of a MESSAGE (or any frame that escapes like it) for `version`,
    /// checked and escaped exactly as [`Frame::encode`] would. On error nothing is written.
    /// For fan-out, which writes the parts shared by every subscriber's copy once.
    pub(crate) fn encode_header_line(
        version: Version,
        name: &str,
        value: &str,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let escape = Command::Message.escapes_headers(version);
        let bad_name =
            name.is_empty() || (!escape && name.bytes().any(|b| matches!(b, b':' | b'\n' | b'\r')));
        let bad_value = !escape && value.bytes().any(|b| matches!(b, b'\n' | b'\r'));
        if bad_name || bad_value {
            return Err(EncodeError::Unencodable(name.to_owned()));
        }
        escape_into(name, escape, out);
        out.put_u8(b':');
        escape_into(value, escape, out);
        out.put_u8(b'\n');
        Ok(())
    }

    /// The end of a MESSAGE after its leading headers, as [`Frame::encode`] writes it: the
    /// `headers` (any `content-length` dropped), `content-length` for a body, the blank line,
    /// the body and the NUL. On error nothing is written.
    pub(crate) fn encode_message_tail(
        version: Version,
        headers: &[(String, String)],
        body: &[u8],
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let mark = out.len();
        for (name, value) in headers {
            let line = out.len();
            if let Err(e) = Frame::encode_header_line(version, name, value, out) {
                out.truncate(mark);
                return Err(e);
            }
            if name == "content-length" {
                out.truncate(line); // checked like any header, then replaced by the true count
            }
        }
        if !body.is_empty() {
            out.put_slice(b"content-length:");
            put_decimal(body.len(), out);
            out.put_u8(b'\n');
        }
        out.put_u8(b'\n');
        out.put_slice(body);
        out.put_u8(0);
        Ok(())
    }
}

/// Whether header text in line form (`name:value` lines) is exactly what [`Frame::encode`] would
/// write for it: LF line ends, no CR, no empty name, no `content-length` line (it is replaced),
/// and, when escaping, no `\` and no `:` but the one after each name.
fn is_wire_ready(lines: &str, escape: bool) -> bool {
    let mut line_start = true;
    let mut colons = 0;
    for (i, &b) in lines.as_bytes().iter().enumerate() {
        if line_start {
            if b == b':' || lines.as_bytes()[i..].starts_with(b"content-length:") {
                return false;
            }
            line_start = false;
        }
        match b {
            b'\n' => {
                line_start = true;
                colons = 0;
            }
            b':' => {
                colons += 1;
                if escape && colons > 1 {
                    return false;
                }
            }
            b'\r' => return false,
            b'\\' if escape => return false,
            _ => {}
        }
    }
    line_start // ends with a complete line (always, in line form)
}

/// Write `n` in decimal, without allocating.
fn put_decimal(mut n: usize, out: &mut BytesMut) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_content_length_for_bodies_and_replaces_callers() {
        let f = Frame::new(Command::Send)
            .header("destination", "/q")
            .header("content-length", "99")
            .with_body(&b"a\0b"[..]);
        let mut out = BytesMut::new();
        f.encode(Version::V1_2, &mut out).unwrap();
        assert_eq!(
            &out[..],
            b"SEND\ndestination:/q\ncontent-length:3\n\na\0b\0"
        );
    }

    #[test]
    fn wire_ready_text_is_copied_as_is_and_the_rest_is_not() {
        assert!(is_wire_ready("a:b\nc:d\n", true));
        assert!(is_wire_ready("", true));
        assert!(!is_wire_ready("a:b:c\n", true));
        assert!(is_wire_ready("a:b:c\n", false));
        assert!(!is_wire_ready("a:b\r\n", false));
        assert!(!is_wire_ready("a:b\\\n", true));
        assert!(!is_wire_ready(":b\n", false));
        assert!(!is_wire_ready("x:1\ncontent-length:5\n", false));
        // Every way of writing a frame gives the same bytes as the header-by-header path.
        let values = ["v", "a:b", "a\\b", "", "x\r"];
        for v in values {
            for (cmd, ver) in [
                (Command::Send, Version::V1_2),
                (Command::Send, Version::V1_0),
                (Command::Connect, Version::V1_2),
            ] {
                for cl in [false, true] {
                    let mut f = Frame::new(cmd).header("k", v).header("z", "1");
                    if cl {
                        f.headers.push("content-length", "9");
                    }
                    if cmd == Command::Send {
                        f.body = bytes::Bytes::from_static(b"body");
                    }
                    let mut fast = BytesMut::new();
                    let fast_result = f.encode(ver, &mut fast);
                    let mut spans = f.clone();
                    spans.headers.remove("nothing-to-remove");
                    spans.headers.push("k:", "force spans");
                    spans.headers.remove("k:");
                    let mut slow = BytesMut::new();
                    assert_eq!(
                        spans.encode(ver, &mut slow),
                        fast_result,
                        "{v:?} {cmd} {ver}"
                    );
                    assert_eq!(slow, fast, "{v:?} {cmd} {ver}");
                }
            }
        }
    }

    #[test]
    fn decimal_lengths() {
        for n in [0, 7, 10, 99, 100, 65_536, usize::MAX] {
            let mut out = BytesMut::new();
            put_decimal(n, &mut out);
            assert_eq!(&out[..], n.to_string().as_bytes());
        }
    }

    #[test]
    fn empty_body_has_no_content_length() {
        let mut out = BytesMut::new();
        Frame::new(Command::Begin)
            .header("transaction", "t:1")
            .encode(Version::V1_2, &mut out)
            .unwrap();
        assert_eq!(&out[..], b"BEGIN\ntransaction:t\\c1\n\n\0");
    }

    #[test]
    fn refuses_what_cannot_be_written() {
        let mut out = BytesMut::new();
        let f = Frame::new(Command::Subscribe).with_body(&b"x"[..]);
        assert_eq!(
            f.encode(Version::V1_2, &mut out),
            Err(EncodeError::BodyNotAllowed(Command::Subscribe))
        );
        let f = Frame::new(Command::Connect).header("login", "a\nb");
        assert!(f.encode(Version::V1_2, &mut out).is_err());
        let f = Frame::new(Command::Send).header("x", "a\nb");
        assert!(f.encode(Version::V1_0, &mut out).is_err());
        assert!(out.is_empty());
        // Nothing is written on error, also after earlier frames and good headers.
        out.put_slice(b"x");
        let f = Frame::new(Command::Connect)
            .header("host", "h")
            .header("login", "a\nb");
        assert!(f.encode(Version::V1_2, &mut out).is_err());
        assert_eq!(&out[..], b"x");
        out.clear();
        // 1.0 allows ':' in values (no escaping needed: the first ':' splits).
        let f = Frame::new(Command::Send).header("x", "a:b");
        f.encode(Version::V1_0, &mut out).unwrap();
        assert_eq!(&out[..], b"SEND\nx:a:b\n\n\0");
    }

    #[test]
    fn message_parts_match_whole_frame_encoding() {
        let values = ["v", "a:b", "a\\b", "", "x\r", "l\nm"];
        for v in values {
            for ver in Version::ALL {
                for body in [&b""[..], &b"a\0b"[..]] {
                    let headers = vec![
                        ("k".to_owned(), v.to_owned()),
                        ("content-length".to_owned(), "9".to_owned()),
                        (v.to_owned(), "z".to_owned()),
                    ];
                    let mut f = Frame::new(Command::Message)
                        .header("subscription", "s:1")
                        .header("message-id", "m-1")
                        .header("destination", "/topic/a")
                        .with_body(bytes::Bytes::copy_from_slice(body));
                    for (n, v) in &headers {
                        f.headers.push(n, v);
                    }
                    let mut whole = BytesMut::new();
                    let whole_result = f.encode(ver, &mut whole).map(|_| ());
                    let mut parts = BytesMut::from(&b"MESSAGE\n"[..]);
                    let parts_result = [
                        ("subscription", "s:1"),
                        ("message-id", "m-1"),
                        ("destination", "/topic/a"),
                    ]
                    .iter()
                    .try_for_each(|(n, v)| Frame::encode_header_line(ver, n, v, &mut parts))
                    .and_then(|()| Frame::encode_message_tail(ver, &headers, body, &mut parts));
                    assert_eq!(parts_result.is_ok(), whole_result.is_ok(), "{v:?} {ver}");
                    if whole_result.is_ok() {
                        assert_eq!(parts, whole, "{v:?} {ver}");
                    }
                }
            }
        }
    }
}
