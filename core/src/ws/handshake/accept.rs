//! `Sec-WebSocket-Key` and `Sec-WebSocket-Accept`, RFC 6455 §1.3 and §4.2.2 item 5.4.
//!
//! The server proves it read the client's handshake by hashing the client's key with a fixed GUID.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID appended to the client's key, RFC 6455 §1.3.
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`:
/// `base64(SHA-1(key ++ GUID))`, RFC 6455 §1.3 and §4.2.2 item 5.4.
///
/// `client_key` is the header value as sent (base64 text, surrounding whitespace already trimmed);
/// it is hashed as is, not decoded.
pub fn accept_key(client_key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(client_key);
    sha.update(WEBSOCKET_GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64-encoded, RFC 6455 §4.1 item 7.
pub(crate) fn encode_key(nonce: &[u8; 16]) -> String {
    STANDARD.encode(nonce)
}

/// Whether `key` is a valid `Sec-WebSocket-Key`: base64 that decodes to exactly 16 bytes,
/// RFC 6455 §4.2.1 item 5.
pub(crate) fn is_valid_key(key: &str) -> bool {
    // 16 bytes encode to 24 characters with padding; decoding anything longer could not fit.
    key.len() == 24 && matches!(STANDARD.decode(key), Ok(raw) if raw.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_validity() {
        assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25jZQ")); // no padding
        assert!(!is_valid_key("dGhlIHNhbXBsZQ==")); // 10 bytes
        assert!(!is_valid_key("!!!!!!!!!!!!!!!!!!!!!!=="));
        assert_eq!(encode_key(&[0; 16]).len(), 24);
    }
}
