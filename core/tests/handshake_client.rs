//! The client's handshake: the request it writes (RFC 6455 §4.1) and every way the server's answer
//! can fail validation.

// In a module named after the file, so `cargo test -p duplex-core handshake` selects these tests.
mod handshake_client {
    use std::time::Duration;

    use duplex_core::ws::handshake::{
        accept_key, ClientHandshake, ClientOutcome, ClientRequest, HandshakeError, HandshakeLimits,
    };
    use duplex_core::{Instant, SeededRng};

    const T0: Instant = Instant::ZERO;

    fn client(request: ClientRequest) -> ClientHandshake {
        ClientHandshake::new(T0, request, &mut SeededRng::new(42))
    }

    fn offering(protocols: &[&str]) -> ClientHandshake {
        client(ClientRequest {
            protocols: protocols.iter().map(|p| p.to_string()).collect(),
            ..ClientRequest::new("example.com", "/ws")
        })
    }

    /// A 101 for `c`'s key, with `extra` header lines (each ending in CRLF).
    fn switching(c: &ClientHandshake, extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
            accept_key(c.key().as_bytes())
        )
    }

    fn outcome_of(mut c: ClientHandshake, response: &str) -> ClientOutcome {
        c.poll_transmit().expect("request");
        c.handle_input(T0, response.as_bytes());
        let outcome = c.poll_outcome().expect("an outcome");
        assert_eq!(c.poll_outcome(), None, "outcome given once");
        assert_eq!(c.poll_timeout(), None);
        outcome
    }

    fn failure(
        c: ClientHandshake,
        response: impl FnOnce(&ClientHandshake) -> String,
    ) -> HandshakeError {
        let text = response(&c);
        match outcome_of(c, &text) {
            ClientOutcome::Failed(error) => error,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn the_request_is_rfc_shaped() {
        let mut c = client(ClientRequest {
            origin: Some("https://example.com".into()),
            protocols: vec!["v12.stomp".into(), "v11.stomp".into()],
            extra_headers: vec![("Authorization".into(), "Bearer t".into())],
            ..ClientRequest::new("example.com:8443", "/stomp?room=1")
        });
        let request = String::from_utf8(c.poll_transmit().unwrap().to_vec()).unwrap();
        assert_eq!(
            request,
            format!(
                "GET /stomp?room=1 HTTP/1.1\r\nHost: example.com:8443\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: v12.stomp, v11.stomp\r\nOrigin: https://example.com\r\n\
             Authorization: Bearer t\r\n\r\n",
                c.key()
            )
        );
        assert_eq!(c.poll_transmit(), None);
        assert_eq!(c.poll_timeout(), Some(T0 + Duration::from_secs(10)));
        assert_eq!(c.poll_outcome(), None);
    }

    #[test]
    fn a_good_answer_is_accepted() {
        let c = offering(&["a", "b"]);
        let text = switching(&c, "Sec-WebSocket-Protocol: b\r\n");
        match outcome_of(c, &text) {
            ClientOutcome::Accepted {
                protocol, leftover, ..
            } => {
                assert_eq!(protocol.as_deref(), Some("b"));
                assert!(leftover.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // Case-insensitive Upgrade and a Connection list.
        let c = offering(&[]);
        let text = format!(
            "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n\
         sec-websocket-accept: {}\r\n\r\n",
            accept_key(c.key().as_bytes())
        );
        assert!(matches!(
            outcome_of(c, &text),
            ClientOutcome::Accepted { protocol: None, .. }
        ));
    }

    #[test]
    fn a_wrong_or_missing_accept_fails() {
        let wrong = failure(offering(&[]), |_| {
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                .to_string()
        });
        assert_eq!(wrong, HandshakeError::BadAccept);
        let missing = failure(offering(&[]), |c| {
            switching(c, "").replace("Sec-WebSocket-Accept", "X-Accept")
        });
        assert_eq!(missing, HandshakeError::BadAccept);
    }

    #[test]
    fn a_protocol_not_offered_fails() {
        assert_eq!(
            failure(offering(&["a"]), |c| switching(
                c,
                "Sec-WebSocket-Protocol: b\r\n"
            )),
            HandshakeError::UnexpectedProtocol
        );
        assert_eq!(
            failure(offering(&[]), |c| switching(
                c,
                "Sec-WebSocket-Protocol: a\r\n"
            )),
            HandshakeError::UnexpectedProtocol
        );
        assert_eq!(
            failure(offering(&["a", "b"]), |c| switching(
                c,
                "Sec-WebSocket-Protocol: a, b\r\n"
            )),
            HandshakeError::UnexpectedProtocol
        );
    }

    #[test]
    fn an_extension_not_offered_fails() {
        assert_eq!(
            failure(offering(&[]), |c| switching(
                c,
                "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            )),
            HandshakeError::UnexpectedExtension
        );
        // Offered through extra headers: allowed (the caller negotiates it).
        let c = client(ClientRequest {
            extra_headers: vec![(
                "Sec-WebSocket-Extensions".into(),
                "permessage-deflate; client_max_window_bits".into(),
            )],
            ..ClientRequest::new("h", "/")
        });
        let text = switching(&c, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        assert!(matches!(
            outcome_of(c, &text),
            ClientOutcome::Accepted { .. }
        ));
    }

    #[test]
    fn missing_upgrade_or_connection_fails() {
        assert_eq!(
            failure(offering(&[]), |c| switching(c, "")
                .replace("Upgrade: websocket\r\n", "")),
            HandshakeError::NotUpgrade
        );
        assert_eq!(
            failure(offering(&[]), |c| switching(c, "")
                .replace("Upgrade: websocket", "Upgrade: h2c")),
            HandshakeError::NotUpgrade
        );
        assert_eq!(
            failure(offering(&[]), |c| switching(c, "")
                .replace("Connection: Upgrade", "Connection: close")),
            HandshakeError::NotUpgrade
        );
    }

    #[test]
    fn a_non_101_status_is_rejected_with_its_head_and_body() {
        let mut c = offering(&[]);
        c.poll_transmit();
        c.handle_input(
            T0,
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope",
        );
        assert_eq!(
            c.poll_outcome(),
            Some(ClientOutcome::Failed(HandshakeError::Rejected {
                status: 403
            }))
        );
        let response = c.response().expect("the head is kept");
        assert_eq!(response.status, 403);
        assert_eq!(response.reason, "Forbidden");
        assert_eq!(response.header("content-length"), Some("4"));
        assert_eq!(&c.take_leftover()[..], b"nope");
        // A 200 (e.g. a proxy's page) too.
        assert_eq!(
            failure(offering(&[]), |_| "HTTP/1.0 200 OK\r\n\r\n".into()),
            HandshakeError::Rejected { status: 200 }
        );
    }

    #[test]
    fn leftover_after_101_is_kept() {
        let c = offering(&[]);
        let mut text = switching(&c, "");
        text.push_str("\u{81}\u{2}hi");
        match outcome_of(c, &text) {
            ClientOutcome::Accepted { leftover, .. } => {
                assert_eq!(&leftover[..], "\u{81}\u{2}hi".as_bytes())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_and_oversized_answers_fail() {
        assert!(matches!(
            failure(offering(&[]), |_| "SSH-2.0-OpenSSH\r\n\r\n".into()),
            HandshakeError::Malformed(_)
        ));
        let c = client(ClientRequest {
            limits: HandshakeLimits {
                max_head_bytes: 64,
                ..HandshakeLimits::default()
            },
            ..ClientRequest::new("h", "/")
        });
        assert_eq!(
            failure(c, |c| switching(c, "")),
            HandshakeError::TooLarge { limit: 64 }
        );
    }

    #[test]
    fn timeout_and_eof_fail_and_stick() {
        let mut c = offering(&[]);
        let deadline = c.poll_timeout().unwrap();
        c.handle_input(T0, b"HTTP/1.1 101 Switching");
        c.handle_timeout(T0 + Duration::from_secs(5));
        assert_eq!(c.poll_outcome(), None);
        c.handle_timeout(deadline);
        assert_eq!(
            c.poll_outcome(),
            Some(ClientOutcome::Failed(HandshakeError::Timeout))
        );
        c.handle_input(deadline, b" Protocols\r\n\r\n");
        c.handle_eof();
        assert_eq!(c.poll_outcome(), None);
        assert_eq!(c.poll_timeout(), None);

        let mut c = offering(&[]);
        c.handle_eof();
        assert_eq!(
            c.poll_outcome(),
            Some(ClientOutcome::Failed(HandshakeError::ConnectionClosed))
        );
    }

    #[test]
    fn an_invalid_request_fails_locally_and_sends_nothing() {
        let bad = [
            ClientRequest::new("", "/"),
            ClientRequest::new("h", "no-slash"),
            ClientRequest::new("h", "/a b"),
            ClientRequest::new("h\r\nX: y", "/"),
            ClientRequest {
                protocols: vec!["a".into(), "a".into()],
                ..ClientRequest::new("h", "/")
            },
            ClientRequest {
                protocols: vec!["has space".into()],
                ..ClientRequest::new("h", "/")
            },
            ClientRequest {
                extra_headers: vec![("X-A".into(), "b\r\nInjected: 1".into())],
                ..ClientRequest::new("h", "/")
            },
            ClientRequest {
                extra_headers: vec![("sec-websocket-key".into(), "x".into())],
                ..ClientRequest::new("h", "/")
            },
            ClientRequest {
                origin: Some("o\nx".into()),
                ..ClientRequest::new("h", "/")
            },
        ];
        for request in bad {
            let mut c = client(request.clone());
            assert_eq!(c.poll_transmit(), None, "{request:?}");
            assert_eq!(c.poll_timeout(), None);
            assert!(
                matches!(
                    c.poll_outcome(),
                    Some(ClientOutcome::Failed(HandshakeError::InvalidRequest(_)))
                ),
                "{request:?}"
            );
        }
    }
}
