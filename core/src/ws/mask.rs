//! Payload masking, RFC 6455 §5.3.
//!
//! Masking is an XOR with a 4-byte key that repeats across the payload. We apply it eight bytes at a
//! time (a `u64` built from the key twice), which the compiler turns into wide vector XORs; the tail
//! is done a byte at a time. Masking is its own inverse, so the same function unmasks.
//!
//! [`extend_masked`] fuses the copy into a buffer with the XOR: received payload bytes are read
//! once and written once, already unmasked, instead of being copied and then unmasked in place.

use std::mem::MaybeUninit;

use bytes::BytesMut;

/// XOR `buf` with `key`, where `buf[0]` sits at position `offset` of the payload (so a payload that
/// arrives in pieces is unmasked piece by piece). RFC 6455 §5.3: `j = i MOD 4`.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotated_key(key, offset);
    let wide = u64::from(key) | u64::from(key) << 32;
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
    let mut tail = words.into_remainder();
    if tail.len() >= 4 {
        let (word, rest) = tail.split_at_mut(4);
        let v = u32::from_ne_bytes((&*word).try_into().expect("4 bytes")) ^ key;
        word.copy_from_slice(&v.to_ne_bytes());
        tail = rest;
    }
    for (b, k) in tail.iter_mut().zip(key.to_ne_bytes()) {
        *b ^= k;
    }
}

/// Append `src` XOR the mask to `dst`, where `src[0]` sits at payload position `offset`: the
/// same bytes as `dst.extend_from_slice(src)` followed by [`apply_mask`] on them, in one pass.
pub fn extend_masked(dst: &mut BytesMut, src: &[u8], key: [u8; 4], offset: usize) {
    dst.reserve(src.len());
    let len = dst.len();
    copy_masked(&mut dst.spare_capacity_mut()[..src.len()], src, key, offset);
    // SAFETY: `copy_masked` wrote every one of the `src.len()` bytes after `len` (it writes each
    // destination byte exactly once, see below), and `reserve` made room for them.
    #[allow(unsafe_code)]
    unsafe {
        dst.set_len(len + src.len())
    };
}

/// `dst[i] = src[i] ^ key[(offset + i) % 4]` for every `i`; `dst` and `src` have the same length.
/// Writes every byte of `dst`.
fn copy_masked(dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4], offset: usize) {
    assert_eq!(dst.len(), src.len());
    let key = rotated_key(key, offset).to_ne_bytes();
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut dst_blocks = dst.chunks_exact_mut(64);
    let mut src_blocks = src.chunks_exact(64);
    for (d, s) in (&mut dst_blocks).zip(&mut src_blocks) {
        for (dw, sw) in d.chunks_exact_mut(8).zip(s.chunks_exact(8)) {
            let v = u64::from_ne_bytes(sw.try_into().expect("8-byte chunk")) ^ wide;
            for (o, b) in dw.iter_mut().zip(v.to_ne_bytes()) {
                o.write(b);
            }
        }
    }
    let (d, s) = (dst_blocks.into_remainder(), src_blocks.remainder());
    let mut dst_words = d.chunks_exact_mut(8);
    let mut src_words = s.chunks_exact(8);
    for (dw, sw) in (&mut dst_words).zip(&mut src_words) {
        let v = u64::from_ne_bytes(sw.try_into().expect("8-byte chunk")) ^ wide;
        for (o, b) in dw.iter_mut().zip(v.to_ne_bytes()) {
            o.write(b);
        }
    }
    let (d, s) = (dst_words.into_remainder(), src_words.remainder());
    for (i, (o, b)) in d.iter_mut().zip(s).enumerate() {
        o.write(b ^ key[i & 3]);
    }
}

/// The key as seen from payload position `offset`, as the word whose native-endian bytes are
/// the next four mask bytes (so a `u64` of it twice masks eight bytes).
fn rotated_key(key: [u8; 4], offset: usize) -> u32 {
    let key = u32::from_ne_bytes(key);
    let shift = 8 * (offset & 3) as u32;
    if cfg!(target_endian = "little") {
        key.rotate_right(shift)
    } else {
        key.rotate_left(shift)
    }
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
        fn extend_masked_equals_copy_then_mask(prefix in proptest::collection::vec(any::<u8>(), 0..40),
                                               data in proptest::collection::vec(any::<u8>(), 0..200),
                                               key in any::<[u8; 4]>(), offset in 0usize..8) {
            let mut fused = BytesMut::from(&prefix[..]);
            extend_masked(&mut fused, &data, key, offset);
            let mut slow = prefix.clone();
            let mut tail = data.clone();
            naive(&mut tail, key, offset);
            slow.extend_from_slice(&tail);
            prop_assert_eq!(&fused[..], &slow[..]);
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
