//! Buffering a head until its empty line, under a size cap (RFC 9112 §2.1; RFC 6455 §4).
//!
//! Bytes are appended as they arrive; the scan for the end of the head resumes where it stopped, so
//! a head sent one byte at a time costs linear work, and the answer never depends on how the bytes
//! were split. Line feeds without a carriage return are accepted as httparse accepts them, and empty
//! lines before the start line are skipped (RFC 9112 §2.2).

use bytes::BytesMut;

/// What [`HeadBuffer::push`] found.
#[derive(Debug)]
pub(crate) enum Scan {
    /// No end of head yet, and still under the cap.
    Incomplete,
    /// The head (up to and including its empty line) and every byte that came after it.
    Complete { head: BytesMut, leftover: BytesMut },
    /// The cap was reached with no end of head in it.
    TooLarge,
}

/// A growing buffer that finds the end of an HTTP head.
#[derive(Debug)]
pub(crate) struct HeadBuffer {
    buf: BytesMut,
    /// Bytes before this index hold no end of head.
    scanned: usize,
    /// Whether a byte other than CR/LF has been seen (the start line began).
    started: bool,
    max_head_bytes: usize,
}

impl HeadBuffer {
    pub(crate) fn new(max_head_bytes: usize) -> Self {
        HeadBuffer {
            buf: BytesMut::new(),
            scanned: 0,
            started: false,
            max_head_bytes,
        }
    }

    /// The cap this buffer enforces.
    pub(crate) fn max_head_bytes(&self) -> usize {
        self.max_head_bytes
    }

    /// Append `data` and look for the end of the head in the first `max_head_bytes` bytes.
    pub(crate) fn push(&mut self, data: &[u8]) -> Scan {
        self.buf.extend_from_slice(data);
        let limit = self.buf.len().min(self.max_head_bytes);
        let mut i = self.scanned;
        while i < limit {
            let byte = self.buf[i];
            if !self.started {
                if byte != b'\r' && byte != b'\n' {
                    self.started = true;
                }
                i += 1;
                continue;
            }
            if byte == b'\n' {
                // An empty line follows this line feed: `\n\n` or `\n\r\n`.
                let Some(&next) = self.buf[..limit].get(i + 1) else {
                    break;
                };
                if next == b'\n' {
                    return self.complete(i + 2);
                }
                if next == b'\r' {
                    let Some(&after) = self.buf[..limit].get(i + 2) else {
                        break;
                    };
                    if after == b'\n' {
                        return self.complete(i + 3);
                    }
                }
            }
            i += 1;
        }
        self.scanned = i;
        if self.buf.len() >= self.max_head_bytes && !self.buf.is_empty() {
            Scan::TooLarge
        } else {
            Scan::Incomplete
        }
    }

    fn complete(&mut self, end: usize) -> Scan {
        let head = self.buf.split_to(end);
        let leftover = std::mem::take(&mut self.buf);
        Scan::Complete { head, leftover }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(input: &[u8], max: usize) -> Option<(Vec<u8>, Vec<u8>)> {
        match HeadBuffer::new(max).push(input) {
            Scan::Complete { head, leftover } => Some((head.to_vec(), leftover.to_vec())),
            Scan::Incomplete => None,
            Scan::TooLarge => Some((b"TOO LARGE".to_vec(), vec![])),
        }
    }

    #[test]
    fn finds_the_empty_line() {
        let (h, l) = whole(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest", 100).unwrap();
        assert_eq!(h, b"GET / HTTP/1.1\r\nA: b\r\n\r\n");
        assert_eq!(l, b"rest");
        let (h, _) = whole(b"\r\n\r\nGET / HTTP/1.1\n\n", 100).unwrap();
        assert_eq!(h, b"\r\n\r\nGET / HTTP/1.1\n\n");
        assert!(whole(b"GET / HTTP/1.1\r\nA: b\r\n", 100).is_none());
    }

    #[test]
    fn cap_counts_the_whole_head() {
        let req = b"GET / HTTP/1.1\r\n\r\n"; // 18 bytes
        assert!(matches!(whole(req, 18), Some((h, _)) if h == req));
        assert!(matches!(whole(req, 17), Some((h, _)) if h == b"TOO LARGE"));
        assert!(whole(&req[..17], 18).is_none());
    }

    #[test]
    fn byte_at_a_time_matches_whole() {
        let input = b"GET / HTTP/1.1\r\nA: b\r\n\r\nXY";
        let mut buf = HeadBuffer::new(100);
        let mut found = None;
        for b in input.iter() {
            if let Scan::Complete { head, leftover } = buf.push(std::slice::from_ref(b)) {
                found = Some((head.to_vec(), leftover.to_vec()));
                break;
            }
        }
        let (h, l) = found.unwrap();
        assert_eq!(h, &input[..24]);
        assert!(l.is_empty()); // the rest had not arrived yet when the head completed
    }
}
