//! Property tests for both handshake machines: any chunking of the input gives the same outcome
//! and the same answer; no input makes them panic, and every handshake ends by its deadline.

// In a module named after the file, so `cargo test -p duplex-core handshake` selects these tests.
mod handshake_props {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use duplex_core::ws::handshake::{
        accept_key, ClientHandshake, ClientOutcome, ClientRequest, HandshakeLimits, ServerConfig,
        ServerHandshake, ServerOutcome,
    };
    use duplex_core::{Instant, SeededRng};
    use proptest::prelude::*;

    const T0: Instant = Instant::ZERO;

    fn config(max_head_bytes: usize) -> Arc<ServerConfig> {
        Arc::new(ServerConfig {
            protocols: vec!["v12.stomp".into(), "v11.stomp".into()],
            limits: HandshakeLimits {
                max_head_bytes,
                ..HandshakeLimits::default()
            },
            ..ServerConfig::default()
        })
    }

    /// Cut `input` at the given offsets (taken modulo its length, sorted).
    fn chunks<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        at.sort_unstable();
        let mut out = Vec::new();
        let mut start = 0;
        for cut in at {
            out.push(&input[start..cut]);
            start = cut;
        }
        out.push(&input[start..]);
        out
    }

    /// Feed `pieces` to a fresh server, then take everything it has to say.
    fn run_server(
        max: usize,
        pieces: &[&[u8]],
    ) -> (Option<ServerOutcome>, Option<Bytes>, Option<Instant>) {
        let mut s = ServerHandshake::new(T0, config(max));
        for piece in pieces {
            s.handle_input(T0, piece);
        }
        let outcome = s.poll_outcome();
        (outcome, s.poll_transmit(), s.poll_timeout())
    }

    fn run_client(pieces: &[&[u8]]) -> (Option<ClientOutcome>, Option<Instant>) {
        let mut c = client();
        c.poll_transmit();
        for piece in pieces {
            c.handle_input(T0, piece);
        }
        (c.poll_outcome(), c.poll_timeout())
    }

    fn client() -> ClientHandshake {
        let request = ClientRequest {
            protocols: vec!["v11.stomp".into(), "v12.stomp".into()],
            ..ClientRequest::new("example.com", "/ws")
        };
        ClientHandshake::new(T0, request, &mut SeededRng::new(7))
    }

    /// Requests that reach every branch of the server: valid, each rejection, plain HTTP.
    fn request_strategy() -> impl Strategy<Value = Vec<u8>> {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = format!(
            "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: v11.stomp, v12.stomp\r\n\r\n"
        );
        let variants = vec![
            good.clone(),
            good.replace("\r\n", "\n"),
            good.replace("Host: h\r\n", ""),
            good.replace("Version: 13", "Version: 8"),
            good.replace(key, "short=="),
            good.replace("GET", "PUT"),
            good.replace("Connection: Upgrade", "Connection: close"),
            good.replace("Upgrade: websocket\r\n", ""),
            good.replace("HTTP/1.1", "HTTP/1.0"),
            good.replace("Host: h", "Host h"),
            good.replace(
                "\r\n\r\n",
                &format!("\r\nX-Pad: {}\r\n\r\n", "p".repeat(400)),
            ),
            "GET / HTTP/1.1\r\nHost: h\r\n\r\n".to_string(),
        ];
        (
            proptest::sample::select(variants),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(head, tail)| {
                let mut bytes = head.into_bytes();
                bytes.extend_from_slice(&tail);
                bytes
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any chunking of a request gives the same outcome, answer and timer as one write.
        #[test]
        fn server_outcome_ignores_chunking(
            input in request_strategy(),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            max in prop_oneof![Just(16 * 1024), 64usize..600],
        ) {
            let whole = run_server(max, &[&input]);
            let split = run_server(max, &chunks(&input, &cuts));
            prop_assert_eq!(&split, &whole);
            prop_assert!(whole.0.is_some(), "every template is complete: {:?}", whole);
            if let (Some(ServerOutcome::Rejected { status, error }), Some(answer)) = (&whole.0, &whole.1) {
                prop_assert_eq!(error.status(), Some(*status));
                let status_line = format!("HTTP/1.1 {status} ");
                prop_assert!(answer.starts_with(status_line.as_bytes()));
            }
        }

        /// Any chunking of the server's answer gives the client the same outcome.
        #[test]
        fn client_outcome_ignores_chunking(
            status in prop_oneof![Just(101u16), Just(200u16), Just(403u16)],
            protocol in proptest::option::of(prop_oneof![Just("v11.stomp"), Just("mqtt")]),
            tail in proptest::collection::vec(any::<u8>(), 0..40),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let c = client();
            let mut answer = format!(
                "HTTP/1.1 {status} X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n",
                accept_key(c.key().as_bytes())
            );
            if let Some(p) = protocol {
                answer.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
            }
            answer.push_str("\r\n");
            let mut input = answer.into_bytes();
            input.extend_from_slice(&tail);
            let whole = run_client(&[&input]);
            let split = run_client(&chunks(&input, &cuts));
            prop_assert_eq!(&split, &whole);
            let accepted = matches!(whole.0, Some(ClientOutcome::Accepted { .. }));
            prop_assert_eq!(accepted, status == 101 && protocol != Some("mqtt"));
            if let Some(ClientOutcome::Accepted { leftover, .. }) = &whole.0 {
                prop_assert_eq!(&leftover[..], &tail[..]);
            }
        }

        /// The whole client/server exchange, each direction chunked at random.
        #[test]
        fn pair_agrees_under_any_chunking(
            seed in any::<u64>(),
            up in proptest::collection::vec(any::<usize>(), 0..8),
            down in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let request = ClientRequest {
                protocols: vec!["v10.stomp".into(), "v12.stomp".into()],
                ..ClientRequest::new("example.com", "/ws")
            };
            let mut c = ClientHandshake::new(T0, request, &mut SeededRng::new(seed));
            let mut s = ServerHandshake::new(T0, config(16 * 1024));
            let req = c.poll_transmit().unwrap();
            for piece in chunks(&req, &up) {
                s.handle_input(T0, piece);
            }
            let server_outcome = s.poll_outcome();
            let is_upgraded = matches!(
                &server_outcome,
                Some(ServerOutcome::Upgraded { protocol: Some(p), .. }) if p == "v12.stomp"
            );
            prop_assert!(is_upgraded, "{:?}", server_outcome);
            let res = s.poll_transmit().unwrap();
            for piece in chunks(&res, &down) {
                c.handle_input(T0, piece);
            }
            let client_outcome = c.poll_outcome();
            let is_accepted = matches!(
                &client_outcome,
                Some(ClientOutcome::Accepted { protocol: Some(p), .. }) if p == "v12.stomp"
            );
            prop_assert!(is_accepted, "{:?}", client_outcome);
        }

        /// Random bytes (raw, or behind a plausible start line) never panic either machine, give at
        /// most one outcome, and the deadline always ends the handshake.
        #[test]
        fn garbage_never_panics(
            prefix in prop_oneof![
                Just(&b""[..]),
                Just(&b"GET / HTTP/1.1\r\n"[..]),
                Just(&b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n"[..]),
                Just(&b"HTTP/1.1 101 Switching Protocols\r\n"[..]),
            ],
            garbage in proptest::collection::vec(any::<u8>(), 0..600),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
            max in prop_oneof![Just(16 * 1024), 1usize..200],
        ) {
            let mut input = prefix.to_vec();
            input.extend_from_slice(&garbage);
            let pieces = chunks(&input, &cuts);

            let mut s = ServerHandshake::new(T0, config(max));
            let mut outcomes = 0;
            for piece in &pieces {
                s.handle_input(T0, piece);
                outcomes += usize::from(s.poll_outcome().is_some());
                let _ = s.poll_transmit();
            }
            let deadline = T0 + Duration::from_secs(10);
            s.handle_timeout(deadline);
            s.reject_not_websocket();
            outcomes += usize::from(s.poll_outcome().is_some());
            prop_assert_eq!(outcomes, 1);
            prop_assert_eq!(s.poll_timeout(), None);

            let mut c = client();
            let _ = c.poll_transmit();
            let mut outcomes = 0;
            for piece in &pieces {
                c.handle_input(T0, piece);
                outcomes += usize::from(c.poll_outcome().is_some());
            }
            c.handle_timeout(deadline);
            outcomes += usize::from(c.poll_outcome().is_some());
            prop_assert_eq!(outcomes, 1);
            prop_assert_eq!(c.poll_timeout(), None);
        }
    }
}
