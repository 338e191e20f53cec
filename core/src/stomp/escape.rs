//! Header value escaping, STOMP 1.2 §"Value Encoding".
//!
//! In 1.1 and 1.2, header names and values of every frame except CONNECT, STOMP and CONNECTED
//! escape `\r` (1.2), LF, `:` and `\` as `\r`, `\n`, `\c` and `\\`. An undefined escape sequence is
//! a fatal protocol error (MUST). STOMP 1.0 has no escaping at all.
//!
//! We treat 1.1 like 1.2 for `\r`: a 1.1 peer never sends it, and accepting it costs nothing.

use bytes::{BufMut, BytesMut};

/// An escape sequence we do not know, or a lone `\` at the end of a name or value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadEscape {
    /// The octet after the backslash, or `None` when the backslash ended the text.
    pub octet: Option<u8>,
}

/// Decode escapes in `raw` (STOMP 1.2 §"Value Encoding": "the following transformations MUST be
/// applied"; "undefined escape sequences ... MUST be treated as a fatal protocol error").
/// Returns raw bytes; the caller validates UTF-8.
pub fn unescape(raw: &[u8]) -> Result<Vec<u8>, BadEscape> {
    let mut out = Vec::with_capacity(raw.len());
    let mut it = raw.iter().copied();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b'c') => out.push(b':'),
            Some(b'\\') => out.push(b'\\'),
            other => return Err(BadEscape { octet: other }),
        }
    }
    Ok(out)
}

/// Append `text` to `out`, escaped when `escape` is set ("conversely when encoding frame headers,
/// the reverse transformation MUST be applied").
pub fn escape_into(text: &str, escape: bool, out: &mut BytesMut) {
    let mut rest = text.as_bytes();
    if escape {
        // Copy the runs between octets to escape in one piece each (usually the whole text).
        while let Some(i) = rest
            .iter()
            .position(|&b| matches!(b, b'\r' | b'\n' | b':' | b'\\'))
        {
            out.put_slice(&rest[..i]);
            out.put_slice(match rest[i] {
                b'\r' => b"\\r",
                b'\n' => b"\\n",
                b':' => b"\\c",
                _ => b"\\\\",
            });
            rest = &rest[i + 1..];
        }
    }
    out.put_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_escapes_decode() {
        assert_eq!(unescape(br"a\nb\cc\\d\re").unwrap(), b"a\nb:c\\d\re");
    }

    #[test]
    fn unknown_and_trailing_escapes_are_errors() {
        assert_eq!(unescape(br"a\tb"), Err(BadEscape { octet: Some(b't') }));
        assert_eq!(unescape(br"ab\"), Err(BadEscape { octet: None }));
    }

    #[test]
    fn escape_round_trips() {
        let s = "x:y\nz\\w\r";
        let mut out = BytesMut::new();
        escape_into(s, true, &mut out);
        assert_eq!(&out[..], br"x\cy\nz\\w\r");
        assert_eq!(unescape(&out).unwrap(), s.as_bytes());
    }
}
