//! The incremental STOMP frame decoder, STOMP 1.2 §"STOMP Frames", §"Augmented BNF",
//! §"Header content-length", §"Size Limits".
//!
//! Feed it bytes as they arrive, in any chunking; pull [`Decoded`] items out. Frames are parsed in
//! place from one `BytesMut`; bodies are handed out as [`Bytes`] slices of it, never copied.
//! EOLs between frames (heart-beats, or the optional EOLs after a NUL) come out as
//! [`Decoded::HeartBeat`], one per EOL, so any chunking yields the same items.
//! Errors are sticky: after one, every call returns it again.

use std::ops::Range;

use super::escape;
use super::frame::{Command, Frame, Headers, Version};
use crate::ws::Utf8Bytes;
use bytes::{Buf, Bytes, BytesMut};
use memchr::memchr;

/// Limits on what a peer may make us buffer (STOMP 1.2 §"Size Limits": servers MAY limit header
/// count, header line length and body size, and SHOULD send ERROR and close when exceeded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most header entries in one frame (repeats count). Default 64.
    pub max_headers: usize,
    /// Longest header line (or command line) in octets, before unescaping, without the EOL.
    /// Default 8 KiB.
    pub max_header_line: usize,
    /// Largest body in octets. Default 1 MiB: Spring's 64 KiB rejects ordinary JSON documents,
    /// while a cap of a few MiB per connection still bounds memory on a server holding thousands
    /// of connections. Raise it for file-sized payloads.
    pub max_body: usize,
    /// Largest whole frame (command, headers, body) in octets. Default 1 MiB + 64 KiB.
    pub max_frame: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_headers: 64,
            max_header_line: 8 * 1024,
            max_body: 1024 * 1024,
            max_frame: 1024 * 1024 + 64 * 1024,
        }
    }
}

/// Why the input is not a valid STOMP stream. Every variant is fatal for the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The command line is not one of the STOMP 1.2 commands (case sensitive).
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    /// A header or command line is longer than [`Limits::max_header_line`].
    #[error("header line longer than {limit} octets")]
    HeaderLineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// More header entries than [`Limits::max_headers`].
    #[error("more than {limit} headers")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// The body is larger than [`Limits::max_body`].
    #[error("body larger than {limit} octets")]
    BodyTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The frame is larger than [`Limits::max_frame`].
    #[error("frame larger than {limit} octets")]
    FrameTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A header line has no `:`.
    #[error("header line without ':'")]
    MissingColon,
    /// A header line starts with `:`.
    #[error("empty header name")]
    EmptyHeaderName,
    /// An undefined escape sequence (STOMP 1.2 §"Value Encoding": fatal).
    #[error("undefined escape sequence \\{}", .0.map(|b| (b as char).to_string()).unwrap_or_default())]
    BadEscape(Option<u8>),
    /// A command or header is not UTF-8.
    #[error("header is not valid UTF-8")]
    InvalidUtf8,
    /// `content-length` is not a decimal octet count.
    #[error("invalid content-length {0:?}")]
    InvalidContentLength(String),
    /// A body on a frame other than SEND, MESSAGE or ERROR (STOMP 1.2 §"Value Encoding").
    #[error("{0} frames must not have a body")]
    BodyNotAllowed(Command),
    /// The octet after a `content-length` body is not NUL: the body is longer than declared.
    #[error("frame not terminated by NUL after content-length octets")]
    MissingNul,
    /// A CR not followed by LF where an EOL was expected.
    #[error("CR not followed by LF")]
    StrayCarriageReturn,
}

/// One item out of the decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A complete frame.
    Frame(Frame),
    /// One EOL (LF or CR LF) between frames: a heart-beat (STOMP 1.2 §"Heart-beating").
    HeartBeat,
}

#[derive(Debug)]
enum State {
    /// Between frames, or inside a header block (`scan`/`lines` track progress).
    Head,
    /// Headers parsed, waiting for the body and NUL.
    Body {
        command: Command,
        headers: Headers,
        content_length: Option<usize>,
        head_len: usize,
    },
}

/// The incremental decoder. See the module docs.
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    version: Version,
    limits: Limits,
    state: State,
    /// Offset where the next search (for LF in the head, NUL in the body) resumes.
    scan: usize,
    /// Complete lines (command included) seen in the current head.
    lines: usize,
    /// What those lines hold, noted as they are found.
    head: HeadScan,
    failed: Option<DecodeError>,
}

/// What finding the end of a head learned about its lines, so that parsing it scans them no
/// more: each header line is looked at once, as its EOL is found. Offsets are into the head.
#[derive(Debug, Default)]
struct HeadScan {
    /// End of the command line, EOL excluded.
    cmd_end: usize,
    /// Start of the first header line.
    lines_start: usize,
    /// Octets of the blank line that ends the head (1 for LF, 2 for CR LF).
    blank: usize,
    /// The first header line without a `:` or with an empty name, in wire order.
    bad_line: Option<DecodeError>,
    /// The value of the first `content-length` line.
    content_length: Option<Range<usize>>,
}

impl HeadScan {
    /// Note one header line (`line` starts at `start`, EOL excluded, not empty).
    fn header_line(&mut self, line: &[u8], start: usize) {
        const CONTENT_LENGTH: &[u8] = b"content-length";
        match memchr(b':', line) {
            Some(0) => {
                self.bad_line.get_or_insert(DecodeError::EmptyHeaderName);
            }
            Some(colon) => {
                if self.content_length.is_none() && &line[..colon] == CONTENT_LENGTH {
                    self.content_length = Some(start + colon + 1..start + line.len());
                }
            }
            None => {
                self.bad_line.get_or_insert(DecodeError::MissingColon);
            }
        }
    }
}

impl Decoder {
    /// A decoder for `version` (which decides header escaping) under `limits`.
    pub fn new(version: Version, limits: Limits) -> Self {
        Decoder {
            buf: BytesMut::new(),
            version,
            limits,
            state: State::Head,
            scan: 0,
            lines: 0,
            head: HeadScan::default(),
            failed: None,
        }
    }

    /// Switch version once negotiated (affects frames not yet decoded).
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// The version in force.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Append received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(data);
        }
    }

    /// Octets buffered but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next item, `Ok(None)` when more input is needed. Errors are sticky.
    pub fn decode(&mut self) -> Result<Option<Decoded>, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.step();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            self.buf = BytesMut::new();
        }
        r
    }

    fn step(&mut self) -> Result<Option<Decoded>, DecodeError> {
        if matches!(self.state, State::Head) {
            if self.lines == 0 && self.scan == 0 {
                match self.buf.first() {
                    None => return Ok(None),
                    Some(b'\n') => {
                        self.buf.advance(1);
                        return Ok(Some(Decoded::HeartBeat));
                    }
                    Some(b'\r') => match self.buf.get(1) {
                        None => return Ok(None),
                        Some(b'\n') => {
                            self.buf.advance(2);
                            return Ok(Some(Decoded::HeartBeat));
                        }
                        Some(_) => return Err(DecodeError::StrayCarriageReturn),
                    },
                    Some(_) => {}
                }
            }
            let Some(head_len) = self.find_head_end()? else {
                return Ok(None);
            };
            let head = self.buf.split_to(head_len).freeze();
            self.scan = 0;
            self.lines = 0;
            let scan = std::mem::take(&mut self.head);
            self.state = self.parse_head(head, scan)?;
        }
        self.body()
    }

    /// Find the blank line ending the head, noting what each line holds on the way (in
    /// `self.head`); returns the head length including it.
    fn find_head_end(&mut self) -> Result<Option<usize>, DecodeError> {
        let l = self.limits;
        loop {
            let start = self.scan;
            let Some(i) = memchr(b'\n', &self.buf[start..]) else {
                if self.buf.len() - start > l.max_header_line + 1 {
                    return Err(DecodeError::HeaderLineTooLong {
                        limit: l.max_header_line,
                    });
                }
                if self.buf.len() > l.max_frame {
                    return Err(DecodeError::FrameTooLarge { limit: l.max_frame });
                }
                return Ok(None);
            };
            let eol = start + i;
            let line = strip_cr(&self.buf[start..eol]);
            if line.len() > l.max_header_line {
                return Err(DecodeError::HeaderLineTooLong {
                    limit: l.max_header_line,
                });
            }
            self.scan = eol + 1;
            if self.lines == 0 {
                self.head.cmd_end = start + line.len();
                self.head.lines_start = self.scan;
            } else if line.is_empty() {
                if self.scan > l.max_frame {
                    return Err(DecodeError::FrameTooLarge { limit: l.max_frame });
                }
                self.head.blank = self.scan - start;
                return Ok(Some(self.scan));
            } else {
                self.head.header_line(line, start);
            }
            self.lines += 1;
            if self.lines - 1 > l.max_headers {
                return Err(DecodeError::TooManyHeaders {
                    limit: l.max_headers,
                });
            }
        }
    }

    /// Parse a complete head (command line, header lines, blank line), as `scan` found it.
    ///
    /// The usual head, valid UTF-8 with no escape sequence to decode, is parsed in place: the
    /// headers keep the head's bytes (a shared slice of the receive buffer), and nothing is
    /// allocated. Any other head takes [`owned_headers`], which unescapes into an owned text and
    /// reports the first error in wire order.
    fn parse_head(&self, head: Bytes, scan: HeadScan) -> Result<State, DecodeError> {
        let cmd_line = &head[..scan.cmd_end];
        let command = Command::parse(cmd_line).ok_or_else(|| {
            let shown = &cmd_line[..cmd_line.len().min(64)];
            DecodeError::UnknownCommand(String::from_utf8_lossy(shown).into_owned())
        })?;
        let escape = command.escapes_headers(self.version);
        // The header lines, each with its EOL, without the blank line that ends the head.
        let (lines_start, lines_end) = (scan.lines_start, head.len() - scan.blank);
        let lines = head.slice(lines_start..lines_end);
        let plain = !(escape && memchr(b'\\', &lines).is_some());
        let (headers, content_length) = match plain.then(|| Utf8Bytes::try_from_bytes(lines)) {
            Some(Ok(text)) => shared_headers(text, scan, lines_start)?,
            _ => {
                let headers = owned_headers(&head[lines_start..lines_end], escape)?;
                let length = headers
                    .get("content-length")
                    .map(parse_length)
                    .transpose()?;
                (headers, length)
            }
        };
        if let Some(n) = content_length {
            if n > 0 && !command.allows_body() {
                return Err(DecodeError::BodyNotAllowed(command));
            }
            if n > self.limits.max_body {
                return Err(DecodeError::BodyTooLarge {
                    limit: self.limits.max_body,
                });
            }
            if head.len().saturating_add(n).saturating_add(1) > self.limits.max_frame {
                return Err(DecodeError::FrameTooLarge {
                    limit: self.limits.max_frame,
                });
            }
        }
        Ok(State::Body {
            command,
            headers,
            content_length,
            head_len: head.len(),
        })
    }

    fn body(&mut self) -> Result<Option<Decoded>, DecodeError> {
        let State::Body {
            command,
            content_length,
            head_len,
            ..
        } = &self.state
        else {
            return Ok(None);
        };
        let (command, head_len) = (*command, *head_len);
        let len = match *content_length {
            Some(n) => {
                if self.buf.len() <= n {
                    return Ok(None);
                }
                if self.buf[n] != 0 {
                    return Err(DecodeError::MissingNul);
                }
                n
            }
            None => {
                if !command.allows_body() && self.buf.first().is_some_and(|&b| b != 0) {
                    return Err(DecodeError::BodyNotAllowed(command));
                }
                match memchr(0, &self.buf[self.scan..]) {
                    Some(i) => self.scan + i,
                    None => {
                        self.scan = self.buf.len();
                        if self.buf.len() > self.limits.max_body {
                            return Err(DecodeError::BodyTooLarge {
                                limit: self.limits.max_body,
                            });
                        }
                        if head_len + self.buf.len() > self.limits.max_frame {
                            return Err(DecodeError::FrameTooLarge {
                                limit: self.limits.max_frame,
                            });
                        }
                        return Ok(None);
                    }
                }
            }
        };
        if len > self.limits.max_body {
            return Err(DecodeError::BodyTooLarge {
                limit: self.limits.max_body,
            });
        }
        let mut body = self.buf.split_to(len + 1); // the NUL too, cut off below
        body.truncate(len);
        let body: Bytes = body.freeze();
        self.scan = 0;
        let State::Body {
            command, headers, ..
        } = std::mem::replace(&mut self.state, State::Head)
        else {
            unreachable!("state checked above")
        };
        Ok(Some(Decoded::Frame(Frame {
            command,
            headers,
            body,
        })))
    }
}

/// Headers that are the header lines `text` themselves (UTF-8, nothing to unescape), which
/// `scan` found to hold a `:` and a name each (or else reports the first that does not, as
/// [`owned_headers`] would); and the first `content-length` value, parsed. `text` starts at
/// offset `at` of the head.
fn shared_headers(
    text: Utf8Bytes,
    scan: HeadScan,
    at: usize,
) -> Result<(Headers, Option<usize>), DecodeError> {
    if let Some(e) = scan.bad_line {
        return Err(e);
    }
    let length = scan
        .content_length
        .map(|range| parse_length(&text.as_str()[range.start - at..range.end - at]))
        .transpose()?;
    Ok((Headers::from_lines(text), length))
}

/// Headers unescaped (or checked) one name and value at a time into an owned text: for heads
/// that hold escape sequences or are not UTF-8. Errors come in wire order.
fn owned_headers(lines: &[u8], escape: bool) -> Result<Headers, DecodeError> {
    let mut headers = Headers::new();
    for line in lines.split(|&b| b == b'\n').map(strip_cr) {
        if line.is_empty() {
            continue;
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(DecodeError::MissingColon)?;
        if colon == 0 {
            return Err(DecodeError::EmptyHeaderName);
        }
        let name = text(&line[..colon], escape)?;
        let value = text(&line[colon + 1..], escape)?;
        headers.push(name, value);
    }
    Ok(headers)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn text(raw: &[u8], escape: bool) -> Result<String, DecodeError> {
    if escape && raw.contains(&b'\\') {
        let bytes = escape::unescape(raw).map_err(|e| DecodeError::BadEscape(e.octet))?;
        String::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)
    } else {
        simdutf8::basic::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8)
    }
}

/// STOMP 1.2 §"Header content-length": an octet count.
fn parse_length(v: &str) -> Result<usize, DecodeError> {
    if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError::InvalidContentLength(
            v.chars().take(32).collect(),
        ));
    }
    // At most 19 digits: below 10^19 < 2^64, so the sum cannot overflow a u64.
    let n = v
        .bytes()
        .fold(0u64, |n, digit| n * 10 + u64::from(digit - b'0'));
    usize::try_from(n).map_err(|_| DecodeError::InvalidContentLength(v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The in-place parse of plain header lines agrees with the one-by-one parse, entries
        /// and errors alike.
        #[test]
        fn in_place_headers_match_owned_parse(
            lines in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(
                        proptest::sample::select(&b"ab:\\\rnc\xc3\xa9\xff"[..]), 0..8),
                    proptest::sample::select(vec![
                        b"content-length:1".to_vec(), b"content-length:x".to_vec(),
                        b"content-length:".to_vec(), b"content-lengthx:2".to_vec()]),
                ],
                0..6),
            escape in any::<bool>(),
        ) {
            let mut raw = Vec::new();
            for line in &lines {
                raw.extend_from_slice(line);
                raw.push(b'\n');
            }
            let plain = !(escape && raw.contains(&b'\\'));
            if let (true, Ok(text)) = (plain, Utf8Bytes::try_from_bytes(Bytes::from(raw.clone()))) {
                let owned = owned_headers(&raw, escape).and_then(|h| {
                    let length = h.get("content-length").map(parse_length).transpose()?;
                    Ok((h, length))
                });
                prop_assert_eq!(shared_headers(text, scan_of(&raw), 0), owned);
            }
        }
    }

    /// What `find_head_end` notes about header lines `raw` (each ended by LF).
    fn scan_of(raw: &[u8]) -> HeadScan {
        let mut scan = HeadScan::default();
        let mut start = 0;
        for line in raw.split_inclusive(|&b| b == b'\n') {
            let text = strip_cr(line.strip_suffix(b"\n").unwrap_or(line));
            if !text.is_empty() {
                scan.header_line(text, start);
            }
            start += line.len();
        }
        scan
    }

    fn all(input: &[u8], version: Version) -> Result<Vec<Decoded>, DecodeError> {
        let mut d = Decoder::new(version, Limits::default());
        d.feed(input);
        let mut out = Vec::new();
        while let Some(item) = d.decode()? {
            out.push(item);
        }
        Ok(out)
    }

    fn frame(input: &[u8]) -> Frame {
        match all(input, Version::V1_2).unwrap().remove(0) {
            Decoded::Frame(f) => f,
            other => panic!("expected frame, got {other:?}"),
        }
    }

    #[test]
    fn simple_frame_lf_and_crlf() {
        for input in [
            &b"SEND\ndestination:/q\n\nhi\0"[..],
            &b"SEND\r\ndestination:/q\r\n\r\nhi\0"[..],
        ] {
            let f = frame(input);
            assert_eq!(f.command, Command::Send);
            assert_eq!(f.get("destination"), Some("/q"));
            assert_eq!(&f.body[..], b"hi");
        }
    }

    #[test]
    fn content_length_body_may_contain_nul() {
        let f = frame(b"SEND\ndestination:/q\ncontent-length:3\n\na\0b\0");
        assert_eq!(&f.body[..], b"a\0b");
    }

    #[test]
    fn body_longer_than_content_length_is_an_error() {
        let r = all(
            b"SEND\ndestination:/q\ncontent-length:1\n\nab\0",
            Version::V1_2,
        );
        assert_eq!(r, Err(DecodeError::MissingNul));
    }

    #[test]
    fn eols_are_heartbeats() {
        let items = all(b"\n\r\nRECEIPT\nreceipt-id:1\n\n\0\n\n", Version::V1_2).unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(items[0], Decoded::HeartBeat);
        assert_eq!(items[1], Decoded::HeartBeat);
        assert!(matches!(items[2], Decoded::Frame(_)));
        assert_eq!(items[4], Decoded::HeartBeat);
    }

    #[test]
    fn escapes_apply_except_on_connect_and_in_1_0() {
        let f = frame(b"MESSAGE\nk\\cx:a\\nb\n\n\0");
        assert_eq!(f.get("k:x"), Some("a\nb"));
        let f = frame(b"CONNECT\nlogin:a\\nb\n\n\0");
        assert_eq!(f.get("login"), Some("a\\nb"));
        let items = all(b"SEND\nx:a\\tb\n\n\0", Version::V1_0).unwrap();
        let Decoded::Frame(f) = &items[0] else {
            panic!()
        };
        assert_eq!(f.get("x"), Some("a\\tb"));
        assert_eq!(
            all(b"SEND\nx:a\\tb\n\n\0", Version::V1_2),
            Err(DecodeError::BadEscape(Some(b't')))
        );
    }

    #[test]
    fn values_are_not_trimmed_and_first_repeat_wins() {
        let f = frame(b"MESSAGE\nfoo: World \nfoo:Hello\n\n\0");
        assert_eq!(f.get("foo"), Some(" World "));
        assert_eq!(f.headers.len(), 2);
    }

    #[test]
    fn unknown_and_lowercase_commands_fail() {
        assert!(matches!(
            all(b"send\n\n\0", Version::V1_2),
            Err(DecodeError::UnknownCommand(_))
        ));
        assert!(matches!(
            all(b"GET / HTTP/1.1\r\n\r\n", Version::V1_2),
            Err(DecodeError::UnknownCommand(_))
        ));
    }

    #[test]
    fn body_on_bodiless_frame_fails() {
        assert_eq!(
            all(b"SUBSCRIBE\nid:1\n\nx\0", Version::V1_2),
            Err(DecodeError::BodyNotAllowed(Command::Subscribe))
        );
        assert_eq!(
            all(
                b"BEGIN\ntransaction:t\ncontent-length:1\n\nx\0",
                Version::V1_2
            ),
            Err(DecodeError::BodyNotAllowed(Command::Begin))
        );
    }

    #[test]
    fn limits_are_enforced_before_buffering_everything() {
        let limits = Limits {
            max_headers: 2,
            max_header_line: 16,
            max_body: 8,
            max_frame: 64,
        };
        let run = |input: &[u8]| {
            let mut d = Decoder::new(Version::V1_2, limits);
            d.feed(input);
            loop {
                match d.decode() {
                    Ok(Some(_)) => continue,
                    other => return other,
                }
            }
        };
        assert_eq!(
            run(b"SEND\na:1\nb:2\nc:3\n\n\0"),
            Err(DecodeError::TooManyHeaders { limit: 2 })
        );
        assert_eq!(
            run(&[b'S'; 40]),
            Err(DecodeError::HeaderLineTooLong { limit: 16 })
        );
        assert_eq!(
            run(b"SEND\na:0123456789abcdefg\n"),
            Err(DecodeError::HeaderLineTooLong { limit: 16 })
        );
        assert_eq!(
            run(b"SEND\n\n0123456789"),
            Err(DecodeError::BodyTooLarge { limit: 8 })
        );
        assert_eq!(
            run(b"SEND\ncontent-length:9\n\n"),
            Err(DecodeError::BodyTooLarge { limit: 8 })
        );
        assert!(run(b"SEND\n\n01234567\0").unwrap().is_none());
    }

    #[test]
    fn errors_are_sticky() {
        let mut d = Decoder::new(Version::V1_2, Limits::default());
        d.feed(b"\rX");
        assert_eq!(d.decode(), Err(DecodeError::StrayCarriageReturn));
        d.feed(b"SEND\n\n\0");
        assert_eq!(d.decode(), Err(DecodeError::StrayCarriageReturn));
    }

    #[test]
    fn bad_content_length_and_missing_colon() {
        assert!(matches!(
            all(b"SEND\ncontent-length:-1\n\n\0", Version::V1_2),
            Err(DecodeError::InvalidContentLength(_))
        ));
        assert_eq!(
            all(b"SEND\nnocolon\n\n\0", Version::V1_2),
            Err(DecodeError::MissingColon)
        );
        assert_eq!(
            all(b"SEND\n:v\n\n\0", Version::V1_2),
            Err(DecodeError::EmptyHeaderName)
        );
        assert_eq!(
            all(b"SEND\nk:\xff\n\n\0", Version::V1_2),
            Err(DecodeError::InvalidUtf8)
        );
    }
}
