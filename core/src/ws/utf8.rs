//! Incremental UTF-8 validation for text messages, RFC 6455 §5.6 and §8.1.
//!
//! A text message may arrive in many frames, and a frame in many reads; a code point may straddle
//! both. The validator keeps at most three bytes of an unfinished code point between calls and
//! fails as soon as a byte makes the sequence impossible, so a bad message is refused with 1007
//! before the rest of it arrives (Autobahn cases 6.4.x check this "fail fast" behaviour).

use simdutf8::compat::from_utf8;

/// The input is not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

/// A streaming UTF-8 validator.
#[derive(Clone, Debug, Default)]
pub struct Utf8Validator {
    carry: [u8; 4],
    carry_len: usize,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validate the next bytes of the message.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.carry_len > 0 {
            data = self.finish_carried(data)?;
            if self.carry_len > 0 {
                return Ok(()); // still unfinished, and `data` is used up
            }
        }
        match from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                // An unfinished code point at the end: it may still become valid.
                let tail = &data[e.valid_up_to()..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carry_len = tail.len();
                Ok(())
            }
        }
    }

    /// The message has ended: an unfinished code point is an error.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let unfinished = self.carry_len > 0;
        self.carry_len = 0;
        if unfinished {
            Err(InvalidUtf8)
        } else {
            Ok(())
        }
    }

    /// Complete the carried code point with bytes from `data`; return what is left of `data`.
    fn finish_carried<'a>(&mut self, data: &'a [u8]) -> Result<&'a [u8], InvalidUtf8> {
        let want = sequence_len(self.carry[0]).ok_or(InvalidUtf8)?;
        let take = (want - self.carry_len).min(data.len());
        self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&data[..take]);
        self.carry_len += take;
        match from_utf8(&self.carry[..self.carry_len]) {
            Ok(_) => {
                self.carry_len = 0;
                Ok(&data[take..])
            }
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(_) => Ok(&data[take..]), // still short of bytes; data is exhausted
        }
    }
}

/// The length of the sequence a lead byte starts (RFC 3629 §4), or `None` if it cannot lead.
fn sequence_len(lead: u8) -> Option<usize> {
    match lead {
        0x00..=0x7f => Some(1),
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn validate_in_pieces(data: &[u8], cuts: &[usize]) -> bool {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &cut in cuts {
            let cut = cut.clamp(start, data.len());
            if v.feed(&data[start..cut]).is_err() {
                return false;
            }
            start = cut;
        }
        v.feed(&data[start..]).is_ok() && v.finish().is_ok()
    }

    #[test]
    fn fails_fast_on_surrogate_prefix() {
        // ED A0 can only start a UTF-16 surrogate, which UTF-8 forbids: fail at the second byte.
        let mut v = Utf8Validator::new();
        v.feed(b"ok\xed").unwrap();
        assert_eq!(v.feed(b"\xa0"), Err(InvalidUtf8));
    }

    #[test]
    fn fails_fast_on_bad_lead_byte() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"abc\xf5"), Err(InvalidUtf8));
    }

    #[test]
    fn code_point_split_one_byte_at_a_time() {
        let s = "κόσμε €𝄞".as_bytes();
        let cuts: Vec<usize> = (0..s.len()).collect();
        assert!(validate_in_pieces(s, &cuts));
    }

    #[test]
    fn unfinished_at_end_is_invalid() {
        let mut v = Utf8Validator::new();
        v.feed(b"\xe2\x82").unwrap();
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }

    proptest! {
        #[test]
        fn agrees_with_std_for_any_chunking(data in proptest::collection::vec(any::<u8>(), 0..64),
                                            cuts in proptest::collection::vec(0usize..64, 0..6)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(validate_in_pieces(&data, &cuts), std::str::from_utf8(&data).is_ok());
        }

        #[test]
        fn valid_strings_pass_any_chunking(s in "\\PC{0,40}", cuts in proptest::collection::vec(0usize..200, 0..6)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert!(validate_in_pieces(s.as_bytes(), &cuts));
        }
    }
}
