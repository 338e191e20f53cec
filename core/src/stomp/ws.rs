//! STOMP over WebSocket.
//!
//! A STOMP session does not know it rides on WebSocket: it eats a byte stream. The glue is:
//! - offer [`WS_SUBPROTOCOLS`] in `Sec-WebSocket-Protocol` (RFC 6455 §1.9, §11.3.4); the server
//!   picks one and [`accept_versions_for`] maps it to the STOMP versions to offer or accept;
//! - feed the payload of every received message, text or binary alike, to the session's
//!   `handle_input`; send what `poll_transmit` returns as one message (text when it is UTF-8,
//!   otherwise binary — the caller's choice; STOMP does not care).
//!
//! Several frames in one message and one frame split across several messages both just work,
//! because the decoder is incremental and keeps no message boundaries. We accept split frames on
//! purpose: the STOMP spec assumes a byte stream, stomp.js and Spring split large frames across
//! messages, and rejecting them would buy nothing (the size limits apply to the frame regardless
//! of how it was cut). See `spec-notes/stomp-1.2.md`.

use super::frame::Version;

/// The WebSocket subprotocols for STOMP, most preferred first.
pub const WS_SUBPROTOCOLS: [&str; 3] = ["v12.stomp", "v11.stomp", "v10.stomp"];

/// The STOMP versions to use once the WebSocket handshake settled on `subprotocol`.
///
/// `v12.stomp` → 1.2 only, `v11.stomp` → 1.1, `v10.stomp` → 1.0. With no subprotocol (or an
/// unknown one, e.g. the legacy `stomp`) every version stays on the table and STOMP's own
/// `accept-version` negotiation decides.
pub fn accept_versions_for(subprotocol: Option<&str>) -> &'static [Version] {
    match subprotocol {
        Some("v12.stomp") => &[Version::V1_2],
        Some("v11.stomp") => &[Version::V1_1],
        Some("v10.stomp") => &[Version::V1_0],
        _ => &Version::ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subprotocols_map_to_versions() {
        assert_eq!(
            accept_versions_for(Some(WS_SUBPROTOCOLS[0])),
            [Version::V1_2]
        );
        assert_eq!(accept_versions_for(Some("v11.stomp")), [Version::V1_1]);
        assert_eq!(accept_versions_for(Some("v10.stomp")), [Version::V1_0]);
        assert_eq!(accept_versions_for(None), Version::ALL);
        assert_eq!(accept_versions_for(Some("mqtt")), Version::ALL);
    }
}
