//! The base framing protocol, RFC 6455 §5.2: frame headers, decoded and encoded.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! ```
//!
//! Decoding checks everything that can be checked from the header alone; the connection checks
//! what depends on its state (masking direction, continuation order, size limits).

/// The longest possible header: 2 + 8 (length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;

/// A frame opcode, RFC 6455 §5.2 and §11.8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: a continuation of a fragmented message.
    Continuation,
    /// 0x1: a text frame.
    Text,
    /// 0x2: a binary frame.
    Binary,
    /// 0x8: connection close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for the reserved ones (§5.2: MUST fail).
    pub fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Control frames are close, ping and pong (§5.5).
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1..RSV3 as the low three bits.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the MASK bit was set.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

/// A header that breaks RFC 6455 §5.2 or §5.5 on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// An RSV bit is set and no extension was negotiated (§5.2).
    ReservedBits,
    /// A reserved opcode (§5.2).
    ReservedOpCode,
    /// A control frame is fragmented (§5.5).
    FragmentedControl,
    /// A control frame carries more than 125 bytes (§5.5).
    ControlTooLong,
    /// The 64-bit length has its most significant bit set (§5.2).
    LengthOverflow,
}

impl HeaderError {
    /// A short description for close reasons and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            HeaderError::ReservedBits => "reserved bits set",
            HeaderError::ReservedOpCode => "reserved opcode",
            HeaderError::FragmentedControl => "fragmented control frame",
            HeaderError::ControlTooLong => "control frame longer than 125 bytes",
            HeaderError::LengthOverflow => "payload length has its top bit set",
        }
    }
}

impl FrameHeader {
    /// Decode a header from the front of `buf`. `Ok(None)` means more bytes are needed; `Ok(Some((h,
    /// n)))` gives the header and its length in bytes.
    pub fn decode(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, HeaderError> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (buf[0], buf[1]);
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x07;
        if rsv != 0 {
            return Err(HeaderError::ReservedBits);
        }
        let opcode = OpCode::from_bits(b0 & 0x0f).ok_or(HeaderError::ReservedOpCode)?;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7f;
        if opcode.is_control() {
            if !fin {
                return Err(HeaderError::FragmentedControl);
            }
            if len7 > 125 {
                return Err(HeaderError::ControlTooLong);
            }
        }
        let ext = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + ext + if masked { 4 } else { 0 };
        if buf.len() < header_len {
            return Ok(None);
        }
        let payload_len = match ext {
            0 => u64::from(len7),
            2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            _ => {
                let len = u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes"));
                if len >> 63 != 0 {
                    return Err(HeaderError::LengthOverflow);
                }
                len
            }
        };
        let mask = masked.then(|| {
            let at = 2 + ext;
            [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]
        });
        Ok(Some((
            FrameHeader {
                fin,
                rsv,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        )))
    }

    /// Encode the header into `out`, returning its length. The length uses the minimal form
    /// (§5.2: "the minimal number of bytes MUST be used").
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0x07) << 4) | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = match self.payload_len {
            len @ 0..=125 => {
                out[1] = mask_bit | len as u8;
                2
            }
            len @ 126..=0xffff => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            len => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(bytes: &[u8]) -> (FrameHeader, usize) {
        FrameHeader::decode(bytes).unwrap().unwrap()
    }

    /// RFC 6455 §5.7, the examples section, header by header.
    #[test]
    fn rfc_5_7_examples() {
        let (h, n) = decode_all(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(
            (h.fin, h.opcode, h.mask, h.payload_len, n),
            (true, OpCode::Text, None, 5, 2)
        );
        let (h, n) = decode_all(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f]);
        assert_eq!((h.mask, n), (Some([0x37, 0xfa, 0x21, 0x3d]), 6));
        let (h, _) = decode_all(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
        assert_eq!((h.fin, h.opcode), (false, OpCode::Text));
        let (h, _) = decode_all(&[0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!((h.fin, h.opcode), (true, OpCode::Continuation));
        let (h, _) = decode_all(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(h.opcode, OpCode::Ping);
        let (h, _) = decode_all(&[0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!((h.opcode, h.payload_len), (OpCode::Pong, 5));
        let (h, n) = decode_all(&[0x82, 0x7e, 0x01, 0x00]);
        assert_eq!((h.opcode, h.payload_len, n), (OpCode::Binary, 256, 4));
        let (h, n) = decode_all(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!((h.payload_len, n), (65536, 10));
    }

    #[test]
    fn rejects_what_the_header_alone_forbids() {
        assert_eq!(
            FrameHeader::decode(&[0xc1, 0x00]),
            Err(HeaderError::ReservedBits)
        );
        assert_eq!(
            FrameHeader::decode(&[0x83, 0x00]),
            Err(HeaderError::ReservedOpCode)
        );
        assert_eq!(
            FrameHeader::decode(&[0x09, 0x00]),
            Err(HeaderError::FragmentedControl)
        );
        assert_eq!(
            FrameHeader::decode(&[0x89, 0x7e]),
            Err(HeaderError::ControlTooLong)
        );
        let mut huge = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::decode(&huge), Err(HeaderError::LengthOverflow));
        huge[2] = 0x7f;
        assert!(FrameHeader::decode(&huge).unwrap().is_some());
    }

    #[test]
    fn incomplete_headers_ask_for_more() {
        for bytes in [
            &[][..],
            &[0x82],
            &[0x82, 0x7e, 0x01],
            &[0x82, 0xfe, 0x01, 0x00, 0xaa],
        ] {
            assert_eq!(FrameHeader::decode(bytes), Ok(None));
        }
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(fin in any::<bool>(), op in 0usize..3, mask in any::<Option<[u8; 4]>>(),
                                    len in prop_oneof![0u64..=125, 126u64..=0xffff, 0x1_0000u64..(1 << 63)]) {
            let opcode = [OpCode::Continuation, OpCode::Text, OpCode::Binary][op];
            let h = FrameHeader { fin, rsv: 0, opcode, mask, payload_len: len };
            let mut buf = [0u8; MAX_HEADER_LEN];
            let n = h.encode(&mut buf);
            prop_assert_eq!(FrameHeader::decode(&buf[..n]), Ok(Some((h, n))));
            prop_assert_eq!(FrameHeader::decode(&buf[..n - 1]), Ok(None));
        }
    }
}
