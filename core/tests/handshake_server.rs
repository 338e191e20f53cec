//! The server's handshake: every rejection with its status and answer, plain HTTP requests, the
//! timeout, and stickiness (RFC 6455 §4.2.1, §4.2.2, §4.4).

// In a module named after the file, so `cargo test -p duplex-core handshake` selects these tests.
mod handshake_server {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use duplex_core::ws::handshake::{
        http_response, HandshakeError, HandshakeLimits, OriginPolicy, ServerConfig,
        ServerHandshake, ServerOutcome,
    };
    use duplex_core::Instant;

    const T0: Instant = Instant::ZERO;
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    /// A valid WebSocket request with `extra` header lines (each ending in CRLF) added, or with the
    /// line starting with `drop` left out.
    fn ws_request(drop: &str, extra: &str) -> String {
        let lines = [
            "Host: example.com".to_string(),
            "Upgrade: websocket".to_string(),
            "Connection: Upgrade".to_string(),
            format!("Sec-WebSocket-Key: {KEY}"),
            "Sec-WebSocket-Version: 13".to_string(),
        ];
        let mut out = "GET /ws HTTP/1.1\r\n".to_string();
        for line in lines
            .iter()
            .filter(|l| drop.is_empty() || !l.starts_with(drop))
        {
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str(extra);
        out.push_str("\r\n");
        out
    }

    fn server(config: ServerConfig) -> ServerHandshake {
        ServerHandshake::new(T0, Arc::new(config))
    }

    /// Feed `input` to a default server; return its outcome and its answer.
    fn answer(config: ServerConfig, input: &[u8]) -> (ServerOutcome, String) {
        let mut s = server(config);
        s.handle_input(T0, input);
        let outcome = s.poll_outcome().expect("an outcome");
        let bytes = s.poll_transmit().map(|b| b.to_vec()).unwrap_or_default();
        (outcome, String::from_utf8(bytes).unwrap())
    }

    /// Asserts a rejection with `status` and `error`, answered with that status and `Connection: close`.
    fn assert_rejected(
        input: &[u8],
        config: ServerConfig,
        status: u16,
        error: HandshakeError,
    ) -> String {
        let (outcome, response) = answer(config, input);
        assert_eq!(
            outcome,
            ServerOutcome::Rejected {
                status,
                error: error.clone()
            }
        );
        assert_eq!(error.status(), Some(status));
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{response}"
        );
        assert!(response.contains("\r\nConnection: close\r\n"), "{response}");
        assert!(response.contains("\r\nContent-Length: "), "{response}");
        assert!(!response.contains("Sec-WebSocket-Accept"), "{response}");
        response
    }

    #[test]
    fn a_valid_request_upgrades() {
        let (outcome, response) = answer(ServerConfig::default(), ws_request("", "").as_bytes());
        assert!(matches!(
            outcome,
            ServerOutcome::Upgraded { protocol: None, .. }
        ));
        assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        assert!(response.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(!response.contains("Sec-WebSocket-Protocol"));
    }

    #[test]
    fn tokens_are_case_insensitive_lists() {
        let request = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c, WebSocket\r\n\
                   Connection: keep-alive, UPGRADE\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                   Sec-WebSocket-Version: 13\r\n\r\n";
        let (outcome, _) = answer(ServerConfig::default(), request.as_bytes());
        assert!(
            matches!(outcome, ServerOutcome::Upgraded { .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn protocol_offers_on_several_lines_follow_server_preference() {
        let config = ServerConfig {
            protocols: vec!["v12.stomp".into(), "v10.stomp".into()],
            ..ServerConfig::default()
        };
        let request = ws_request(
            "",
            "Sec-WebSocket-Protocol: v10.stomp\r\nSec-WebSocket-Protocol: chat, v12.stomp\r\n",
        );
        let (outcome, response) = answer(config, request.as_bytes());
        assert!(
            matches!(outcome, ServerOutcome::Upgraded { protocol: Some(p), .. } if p == "v12.stomp")
        );
        assert!(response.contains("\r\nSec-WebSocket-Protocol: v12.stomp\r\n"));
    }

    #[test]
    fn extensions_are_never_echoed() {
        let request = ws_request("", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
        let (outcome, response) = answer(ServerConfig::default(), request.as_bytes());
        assert!(matches!(outcome, ServerOutcome::Upgraded { .. }));
        assert!(!response.to_ascii_lowercase().contains("extensions"));
    }

    #[test]
    fn malformed_is_400() {
        assert_rejected(
            b"GET / HTTP/1.1\r\nHost example.com\r\n\r\n",
            ServerConfig::default(),
            400,
            HandshakeError::Malformed("invalid header name".into()),
        );
    }

    #[test]
    fn missing_host_is_400() {
        assert_rejected(
            ws_request("Host", "").as_bytes(),
            ServerConfig::default(),
            400,
            HandshakeError::MissingHost,
        );
    }

    #[test]
    fn missing_connection_upgrade_is_400() {
        assert_rejected(
            ws_request("Connection", "Connection: keep-alive\r\n").as_bytes(),
            ServerConfig::default(),
            400,
            HandshakeError::NotUpgrade,
        );
    }

    #[test]
    fn bad_or_missing_key_is_400() {
        assert_rejected(
            ws_request("Sec-WebSocket-Key", "").as_bytes(),
            ServerConfig::default(),
            400,
            HandshakeError::MissingKey,
        );
        // 10 bytes, not 16.
        assert_rejected(
            ws_request(
                "Sec-WebSocket-Key",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n",
            )
            .as_bytes(),
            ServerConfig::default(),
            400,
            HandshakeError::BadKey,
        );
        // Two keys.
        assert_rejected(
            ws_request("", &format!("Sec-WebSocket-Key: {KEY}\r\n")).as_bytes(),
            ServerConfig::default(),
            400,
            HandshakeError::BadKey,
        );
    }

    #[test]
    fn http_1_0_upgrade_is_400() {
        let request = ws_request("", "").replacen("HTTP/1.1", "HTTP/1.0", 1);
        assert_rejected(
            request.as_bytes(),
            ServerConfig::default(),
            400,
            HandshakeError::BadHttpVersion,
        );
    }

    #[test]
    fn upgrade_with_post_is_405() {
        let request = ws_request("", "").replacen("GET", "POST", 1);
        let response = assert_rejected(
            request.as_bytes(),
            ServerConfig::default(),
            405,
            HandshakeError::BadMethod("POST".into()),
        );
        assert!(response.contains("\r\nAllow: GET\r\n"));
    }

    #[test]
    fn wrong_version_is_426_with_our_version() {
        for version in ["8", "13, 8", "", "14"] {
            let line = format!("Sec-WebSocket-Version: {version}\r\n");
            let request = ws_request("Sec-WebSocket-Version", &line);
            let response = assert_rejected(
                request.as_bytes(),
                ServerConfig::default(),
                426,
                HandshakeError::BadVersion,
            );
            assert!(
                response.contains("\r\nSec-WebSocket-Version: 13\r\n"),
                "{response}"
            );
            assert!(response.contains("\r\nUpgrade: websocket\r\n"));
        }
        // No version and no key (an older draft's client): told the version, not "missing key".
        let request = ws_request("Sec-WebSocket-", "");
        assert_rejected(
            request.as_bytes(),
            ServerConfig::default(),
            426,
            HandshakeError::BadVersion,
        );
    }

    #[test]
    fn refused_origin_is_403() {
        let allow = || ServerConfig {
            origin: OriginPolicy::AllowList(vec!["https://good.example".into()]),
            ..ServerConfig::default()
        };
        assert_rejected(
            ws_request("", "Origin: https://evil.example\r\n").as_bytes(),
            allow(),
            403,
            HandshakeError::OriginRefused,
        );
        let (ok, _) = answer(
            allow(),
            ws_request("", "Origin: HTTPS://GOOD.example\r\n").as_bytes(),
        );
        assert!(matches!(ok, ServerOutcome::Upgraded { .. }));
        let (no_origin, _) = answer(allow(), ws_request("", "").as_bytes());
        assert!(matches!(no_origin, ServerOutcome::Upgraded { .. }));

        let strict = || ServerConfig {
            origin: OriginPolicy::Custom(Arc::new(|o: Option<&str>| o == Some("https://a"))),
            ..ServerConfig::default()
        };
        assert_rejected(
            ws_request("", "").as_bytes(),
            strict(),
            403,
            HandshakeError::OriginRefused,
        );
        let (ok, _) = answer(strict(), ws_request("", "Origin: https://a\r\n").as_bytes());
        assert!(matches!(ok, ServerOutcome::Upgraded { .. }));
        assert_eq!(format!("{:?}", strict().origin), "Custom(..)");
    }

    #[test]
    fn oversized_head_is_431() {
        let limits = HandshakeLimits {
            max_head_bytes: 256,
            ..HandshakeLimits::default()
        };
        let config = || ServerConfig {
            limits,
            ..ServerConfig::default()
        };
        let padding = format!("X-Pad: {}\r\n", "a".repeat(300));
        assert_rejected(
            ws_request("", &padding).as_bytes(),
            config(),
            431,
            HandshakeError::TooLarge { limit: 256 },
        );
        // Incomplete but already over the limit: no need to wait for the end.
        let mut s = server(config());
        s.handle_input(T0, &ws_request("", &padding).as_bytes()[..257]);
        assert!(matches!(
            s.poll_outcome(),
            Some(ServerOutcome::Rejected { status: 431, .. })
        ));
        // The default is 16 KiB.
        assert_eq!(HandshakeLimits::default().max_head_bytes, 16 * 1024);
        let big = format!("X-Pad: {}\r\n", "a".repeat(16 * 1024));
        assert_rejected(
            ws_request("", &big).as_bytes(),
            ServerConfig::default(),
            431,
            HandshakeError::TooLarge { limit: 16 * 1024 },
        );
    }

    #[test]
    fn slowloris_is_408_and_early_timeouts_do_nothing() {
        assert_eq!(HandshakeLimits::default().timeout, Duration::from_secs(10));
        let start = Instant::from_nanos(5_000);
        let mut s = ServerHandshake::new(start, Arc::new(ServerConfig::default()));
        let deadline = start + Duration::from_secs(10);
        assert_eq!(s.poll_timeout(), Some(deadline));
        let request = ws_request("", "");
        s.handle_input(start, &request.as_bytes()[..20]);
        s.handle_timeout(start + Duration::from_secs(9)); // early: no-op
        s.handle_timeout(Instant::from_nanos(deadline.as_nanos() - 1));
        assert_eq!(s.poll_outcome(), None);
        assert_eq!(s.poll_transmit(), None);
        assert_eq!(s.poll_timeout(), Some(deadline));
        s.handle_timeout(deadline);
        assert_eq!(
            s.poll_outcome(),
            Some(ServerOutcome::Rejected {
                status: 408,
                error: HandshakeError::Timeout
            })
        );
        let response = s.poll_transmit().unwrap();
        assert!(response.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"));
        assert_eq!(s.poll_timeout(), None);
        // Sticky: the rest of the request changes nothing.
        s.handle_input(deadline, &request.as_bytes()[20..]);
        s.handle_timeout(deadline + Duration::from_secs(100));
        assert_eq!(s.poll_outcome(), None);
        assert_eq!(s.poll_transmit(), None);
    }

    #[test]
    fn eof_before_the_head_is_rejected() {
        let mut s = server(ServerConfig::default());
        s.handle_input(T0, b"GET / HT");
        s.handle_eof();
        assert_eq!(
            s.poll_outcome(),
            Some(ServerOutcome::Rejected {
                status: 400,
                error: HandshakeError::ConnectionClosed
            })
        );
    }

    #[test]
    fn a_plain_get_is_an_http_request_for_the_caller() {
        let mut s = server(ServerConfig::default());
        s.handle_input(
            T0,
            b"GET / HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n",
        );
        match s.poll_outcome() {
            Some(ServerOutcome::HttpRequest { request, leftover }) => {
                assert_eq!(request.method, "GET");
                assert_eq!(request.path, "/");
                assert_eq!(request.header("accept"), Some("text/html"));
                assert!(leftover.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.poll_transmit(), None, "nothing until the caller answers");
        assert_eq!(s.poll_timeout(), None);
        let page = http_response(200, "OK", &[("Content-Type", "text/html")], b"<h1>hi</h1>");
        s.respond(page.clone());
        assert_eq!(s.poll_transmit(), Some(page.clone()));
        // Once answered, further answers are ignored.
        s.respond(Bytes::from_static(b"again"));
        s.reject_not_websocket();
        assert_eq!(s.poll_transmit(), None);
    }

    #[test]
    fn a_plain_request_can_be_told_to_upgrade() {
        let mut s = server(ServerConfig::default());
        // Not asking for websocket (another upgrade, another method): still plain HTTP.
        s.handle_input(
            T0,
            b"POST /healthz HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nok",
        );
        match s.poll_outcome() {
            Some(ServerOutcome::HttpRequest { request, leftover }) => {
                assert_eq!(request.method, "POST");
                assert_eq!(&leftover[..], b"ok");
            }
            other => panic!("{other:?}"),
        }
        s.reject_not_websocket();
        let response = String::from_utf8(s.poll_transmit().unwrap().to_vec()).unwrap();
        assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(response.contains("\r\nUpgrade: websocket\r\n"));
        assert!(response.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(response.contains("\r\nConnection: close\r\n"));
    }

    #[test]
    fn respond_without_an_http_request_is_ignored() {
        let mut s = server(ServerConfig::default());
        s.respond(Bytes::from_static(b"nope"));
        s.reject_not_websocket();
        assert_eq!(s.poll_transmit(), None);
        s.handle_input(T0, ws_request("", "").as_bytes());
        assert!(matches!(
            s.poll_outcome(),
            Some(ServerOutcome::Upgraded { .. })
        ));
        assert!(s.poll_transmit().unwrap().starts_with(b"HTTP/1.1 101 "));
    }

    #[test]
    fn leading_empty_lines_and_bare_line_feeds_are_tolerated() {
        let request = format!("\r\n{}", ws_request("", "").replace("\r\n", "\n"));
        let (outcome, _) = answer(ServerConfig::default(), request.as_bytes());
        assert!(
            matches!(outcome, ServerOutcome::Upgraded { .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn duplicate_host_is_400() {
        assert_rejected(
            ws_request("", "Host: other.example\r\n").as_bytes(),
            ServerConfig::default(),
            400,
            HandshakeError::Malformed("several Host headers".into()),
        );
    }
}
