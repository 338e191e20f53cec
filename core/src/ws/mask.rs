//! Payload masking, RFC 6455 §5.3.
//!
//! Masking is an XOR with a 4-byte key that repeats across the payload. We apply it eight bytes at a
//! time (a `u64` built from the key twice), which the compiler turns into wide vector XORs; the tail
//! is done a byte at a time. Masking is its own inverse, so the same function unmasks.

/// XOR `buf` with `key`, where `buf[0]` sits at position `offset` of the payload (so a payload that
/// arrives in pieces is unmasked piece by piece). RFC 6455 §5.3: `j = i MOD 4`.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for word in block.chunks_exact_mut(8) {
            let v = u64::from_ne_bytes(word.try_into().expect("8-byte chunk")) ^ wide;
            word.copy_from_slice(&v.to_ne_bytes());
        }
    }
    let rest = blocks.into_remainder();
    let mut words = rest.chunks_exact_mut(8);
    for word in &mut words {
        let v = u64::from_ne_bytes((&*word).try_into().expect("8-byte chunk")) ^ wide;
        word.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// The key as seen from payload position `offset`.
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset & 3;
    [key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn rfc_5_7_masked_hello() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    proptest! {
        #[test]
        fn matches_bytewise_mask(data in proptest::collection::vec(any::<u8>(), 0..200),
                                 key in any::<[u8; 4]>(), offset in 0usize..8) {
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask(&mut fast, key, offset);
            naive(&mut slow, key, offset);
            prop_assert_eq!(fast, slow);
        }

        #[test]
        fn piecewise_equals_whole(data in proptest::collection::vec(any::<u8>(), 0..200),
                                  key in any::<[u8; 4]>(), cut in 0usize..200) {
            let cut = cut.min(data.len());
            let mut whole = data.clone();
            apply_mask(&mut whole, key, 0);
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            prop_assert_eq!(whole, pieces);
        }
    }
}
