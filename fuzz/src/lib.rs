//! Helpers shared by the fuzz targets: turning the fuzzer's bytes into options and a chunked
//! byte stream.
//!
//! Every target reads its input the same way:
//!
//! ```text
//! [flags: u8] [n: u8] [n x u16 little-endian chunk lengths] [stream bytes...]
//! ```
//!
//! `n` is taken modulo 16. The stream is cut into pieces of the given lengths (each clamped to what
//! is left), and whatever remains after the last length is one more piece. That lets the fuzzer
//! choose the split points independently of the bytes themselves, so "any chunking of the input"
//! is explored, as the property tests do for the parsers.

/// The fuzzer's input, decoded.
pub struct Script<'a> {
    /// Free option bits for the target.
    pub flags: u8,
    chunks: [usize; 16],
    n_chunks: usize,
    /// The byte stream to feed.
    pub stream: &'a [u8],
}

impl<'a> Script<'a> {
    /// Decode `data`. Inputs too short for the prelude give an empty stream.
    pub fn parse(data: &'a [u8]) -> Script<'a> {
        let flags = data.first().copied().unwrap_or(0);
        let n = usize::from(data.get(1).copied().unwrap_or(0) & 0x0f);
        let mut rest = data.get(2..).unwrap_or(&[]);
        let mut chunks = [0usize; 16];
        let mut n_chunks = 0;
        for slot in chunks.iter_mut().take(n) {
            if rest.len() < 2 {
                break;
            }
            *slot = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
            rest = &rest[2..];
            n_chunks += 1;
        }
        Script {
            flags,
            chunks,
            n_chunks,
            stream: rest,
        }
    }

    /// Whether option bit `bit` (0..8) is set.
    pub fn flag(&self, bit: u8) -> bool {
        self.flags & (1 << bit) != 0
    }

    /// The stream cut into pieces. Never yields an empty piece except for an empty stream.
    pub fn pieces(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let mut rest = self.stream;
        let mut lens = self.chunks[..self.n_chunks].iter();
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let len = match lens.next() {
                Some(&len) => len.clamp(1, rest.len()),
                None => rest.len(),
            };
            let (piece, tail) = rest.split_at(len);
            rest = tail;
            Some(piece)
        })
    }
}
