//! RFC 6455's own handshake example (§1.2, §1.3), byte for byte.

// In a module named after the file, so `cargo test -p duplex-core handshake` selects these tests.
mod handshake_accept {
    use std::sync::Arc;

    use duplex_core::ws::handshake::{accept_key, ServerConfig, ServerHandshake, ServerOutcome};
    use duplex_core::Instant;

    /// RFC 6455 §1.3: key `dGhlIHNhbXBsZSBub25jZQ==` gives `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
    #[test]
    fn rfc_sample_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_ne!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZA=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    /// The request of RFC 6455 §1.2 gets the response of §1.2, with "chat" selected.
    #[test]
    fn rfc_sample_exchange() {
        let config = ServerConfig {
            protocols: vec!["chat".into()],
            ..ServerConfig::default()
        };
        let mut server = ServerHandshake::new(Instant::ZERO, Arc::new(config));
        server.handle_input(
            Instant::ZERO,
            b"GET /chat HTTP/1.1\r\n\
          Host: server.example.com\r\n\
          Upgrade: websocket\r\n\
          Connection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Origin: http://example.com\r\n\
          Sec-WebSocket-Protocol: chat, superchat\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
        );
        match server.poll_outcome() {
            Some(ServerOutcome::Upgraded {
                request,
                protocol,
                leftover,
            }) => {
                assert_eq!(request.path, "/chat");
                assert_eq!(protocol.as_deref(), Some("chat"));
                assert!(leftover.is_empty());
            }
            other => panic!("expected Upgraded, got {other:?}"),
        }
        let response = server.poll_transmit().expect("a 101");
        assert_eq!(
            std::str::from_utf8(&response).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         Sec-WebSocket-Protocol: chat\r\n\r\n"
        );
        assert_eq!(server.poll_transmit(), None);
        assert_eq!(server.poll_outcome(), None);
        assert_eq!(server.poll_timeout(), None);
    }
}
