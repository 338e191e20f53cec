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
        for (name, value) in self.headers.iter() {
            let bad_name = name.is_empty()
                || (!escape && name.bytes().any(|b| matches!(b, b':' | b'\n' | b'\r')));
            let bad_value = !escape && value.bytes().any(|b| matches!(b, b'\n' | b'\r'));
            if bad_name || bad_value {
                return Err(EncodeError::Unencodable(name.to_owned()));
            }
        }
        out.reserve(self.encoded_len_hint());
        out.put_slice(self.command.as_str().as_bytes());
        out.put_u8(b'\n');
        for (name, value) in self.headers.iter() {
            if name == "content-length" {
                continue;
            }
            escape_into(name, escape, out);
            out.put_u8(b':');
            escape_into(value, escape, out);
            out.put_u8(b'\n');
        }
        if !self.body.is_empty() {
            out.put_slice(b"content-length:");
            out.put_slice(self.body.len().to_string().as_bytes());
            out.put_u8(b'\n');
        }
        out.put_u8(b'\n');
        out.put_slice(&self.body);
        out.put_u8(0);
        Ok(())
    }

    fn encoded_len_hint(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 2)
            .sum();
        self.command.as_str().len() + headers + self.body.len() + 32
    }
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
        // 1.0 allows ':' in values (no escaping needed: the first ':' splits).
        let f = Frame::new(Command::Send).header("x", "a:b");
        f.encode(Version::V1_0, &mut out).unwrap();
        assert_eq!(&out[..], b"SEND\nx:a:b\n\n\0");
    }
}
