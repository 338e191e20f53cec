//! Close codes and the close frame body, RFC 6455 §5.5.1 and §7.4.

use std::fmt;

use super::utf8::Utf8Validator;

/// A close status code, RFC 6455 §7.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigated away, idle).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection closed without a close frame (never sent on the wire).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with the message type (invalid UTF-8 in a text message).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a policy was violated.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// May this code appear in a close frame on the wire? RFC 6455 §7.4.1–§7.4.2: 1000–1003,
    /// 1007–1011 and the IANA-registered 1012–1014 are defined; 1004, 1005, 1006 and 1015 are
    /// reserved and MUST NOT be sent; 3000–4999 are for libraries and applications; the rest of
    /// 0–2999 is unassigned and invalid.
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a received close frame said, RFC 6455 §5.5.1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseBody {
    /// The status code, if the frame had one.
    pub code: Option<CloseCode>,
    /// The reason (UTF-8), possibly empty.
    pub reason: String,
}

/// Why a close frame body is refused, with the code to fail the connection with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadCloseBody {
    /// A one-byte body, or a code that may not be sent (§7.4): 1002.
    Protocol(&'static str),
    /// The reason is not UTF-8 (§5.5.1, §8.1): 1007.
    Utf8,
}

impl CloseBody {
    /// Parse a close frame payload (already unmasked).
    pub fn parse(payload: &[u8]) -> Result<CloseBody, BadCloseBody> {
        match payload.len() {
            0 => Ok(CloseBody {
                code: None,
                reason: String::new(),
            }),
            1 => Err(BadCloseBody::Protocol("close frame with a one-byte body")),
            _ => {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_valid_on_wire() {
                    return Err(BadCloseBody::Protocol("invalid close code"));
                }
                let mut v = Utf8Validator::new();
                v.feed(&payload[2..]).map_err(|_| BadCloseBody::Utf8)?;
                v.finish().map_err(|_| BadCloseBody::Utf8)?;
                let reason = String::from_utf8_lossy(&payload[2..]).into_owned();
                Ok(CloseBody {
                    code: Some(code),
                    reason,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autobahn_valid_and_invalid_codes() {
        for c in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert!(CloseCode(c).is_valid_on_wire(), "{c} should be valid");
        }
        for c in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!CloseCode(c).is_valid_on_wire(), "{c} should be invalid");
        }
    }

    #[test]
    fn parses_bodies() {
        assert_eq!(CloseBody::parse(b"").unwrap().code, None);
        assert!(matches!(
            CloseBody::parse(&[3]),
            Err(BadCloseBody::Protocol(_))
        ));
        let body = CloseBody::parse(b"\x03\xe8bye").unwrap();
        assert_eq!(body.code, Some(CloseCode::NORMAL));
        assert_eq!(body.reason, "bye");
        assert_eq!(CloseBody::parse(b"\x03\xe8\xff"), Err(BadCloseBody::Utf8));
        assert!(matches!(
            CloseBody::parse(b"\x03\xed"),
            Err(BadCloseBody::Protocol(_))
        ));
    }
}
