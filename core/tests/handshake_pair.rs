//! A client and a server back to back in memory: the client's bytes into the server, the server's
//! into the client.

// In a module named after the file, so `cargo test -p duplex-core handshake` selects these tests.
mod handshake_pair {
    use std::sync::Arc;

    use duplex_core::ws::handshake::{
        ClientHandshake, ClientOutcome, ClientRequest, ServerConfig, ServerHandshake, ServerOutcome,
    };
    use duplex_core::{Instant, SeededRng};

    const T0: Instant = Instant::ZERO;

    struct Pair {
        client: ClientHandshake,
        server: ServerHandshake,
    }

    impl Pair {
        fn new(request: ClientRequest, config: ServerConfig, seed: u64) -> Self {
            let mut rng = SeededRng::new(seed);
            Pair {
                client: ClientHandshake::new(T0, request, &mut rng),
                server: ServerHandshake::new(T0, Arc::new(config)),
            }
        }

        /// Client request (plus `to_server`) in, server answer (plus `to_client`) back.
        fn run(&mut self, to_server: &[u8], to_client: &[u8]) -> (ServerOutcome, ClientOutcome) {
            let request = self.client.poll_transmit().expect("request");
            assert_eq!(self.client.poll_transmit(), None, "request sent once");
            let mut glued = request.to_vec();
            glued.extend_from_slice(to_server);
            self.server.handle_input(T0, &glued);
            let server_outcome = self.server.poll_outcome().expect("server outcome");
            let mut answer = self.server.poll_transmit().expect("server answer").to_vec();
            answer.extend_from_slice(to_client);
            self.client.handle_input(T0, &answer);
            let client_outcome = self.client.poll_outcome().expect("client outcome");
            (server_outcome, client_outcome)
        }
    }

    fn request(protocols: &[&str]) -> ClientRequest {
        ClientRequest {
            protocols: protocols.iter().map(|p| p.to_string()).collect(),
            ..ClientRequest::new("example.com:8080", "/stomp?x=1")
        }
    }

    fn config(protocols: &[&str]) -> ServerConfig {
        ServerConfig {
            protocols: protocols.iter().map(|p| p.to_string()).collect(),
            ..ServerConfig::default()
        }
    }

    #[test]
    fn both_accept_and_the_server_preference_wins() {
        // The client prefers v10.stomp; the server prefers v12.stomp: the server's order decides.
        let mut pair = Pair::new(
            request(&["v10.stomp", "v11.stomp", "v12.stomp"]),
            config(&["v12.stomp", "v11.stomp"]),
            1,
        );
        let (server, client) = pair.run(b"", b"");
        match server {
            ServerOutcome::Upgraded {
                request, protocol, ..
            } => {
                assert_eq!(protocol.as_deref(), Some("v12.stomp"));
                assert_eq!(request.path, "/stomp?x=1");
                assert_eq!(request.header("host"), Some("example.com:8080"));
                assert_eq!(request.header("Sec-WebSocket-Key"), Some(pair.client.key()));
            }
            other => panic!("server: {other:?}"),
        }
        match client {
            ClientOutcome::Accepted {
                response, protocol, ..
            } => {
                assert_eq!(response.status, 101);
                assert_eq!(protocol.as_deref(), Some("v12.stomp"));
            }
            other => panic!("client: {other:?}"),
        }
        assert_eq!(pair.client.poll_timeout(), None);
        assert_eq!(pair.server.poll_timeout(), None);
    }

    #[test]
    fn no_common_protocol_means_none() {
        let mut pair = Pair::new(request(&["mqtt"]), config(&["v12.stomp"]), 2);
        let (server, client) = pair.run(b"", b"");
        assert!(matches!(
            server,
            ServerOutcome::Upgraded { protocol: None, .. }
        ));
        assert!(matches!(
            client,
            ClientOutcome::Accepted { protocol: None, .. }
        ));
    }

    #[test]
    fn leftover_is_preserved_on_both_sides() {
        // A masked text frame "Hello" (RFC 6455 §5.7) glued to the request, and an unmasked one glued
        // to the 101.
        let from_client = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let from_server = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let mut pair = Pair::new(request(&[]), config(&[]), 3);
        let (server, client) = pair.run(&from_client, &from_server);
        match server {
            ServerOutcome::Upgraded { leftover, .. } => assert_eq!(&leftover[..], &from_client),
            other => panic!("server: {other:?}"),
        }
        match client {
            ClientOutcome::Accepted { leftover, .. } => assert_eq!(&leftover[..], &from_server),
            other => panic!("client: {other:?}"),
        }
    }

    #[test]
    fn bytes_arriving_before_the_outcome_is_polled_join_the_leftover() {
        let mut rng = SeededRng::new(4);
        let mut client = ClientHandshake::new(T0, request(&[]), &mut rng);
        let mut server = ServerHandshake::new(T0, Arc::new(config(&[])));
        server.handle_input(T0, &client.poll_transmit().unwrap());
        server.handle_input(T0, b"late");
        let answer = server.poll_transmit().unwrap();
        client.handle_input(T0, &answer);
        client.handle_input(T0, b"frames");
        assert!(matches!(
            server.poll_outcome(),
            Some(ServerOutcome::Upgraded { leftover, .. }) if leftover[..] == b"late"[..]
        ));
        assert!(matches!(
            client.poll_outcome(),
            Some(ClientOutcome::Accepted { leftover, .. }) if leftover[..] == b"frames"[..]
        ));
    }

    #[test]
    fn origin_and_extra_headers_cross() {
        let mut req = request(&[]);
        req.origin = Some("https://app.example.com".into());
        req.extra_headers = vec![("Cookie".into(), "session=abc".into())];
        let mut cfg = config(&[]);
        cfg.extra_response_headers = vec![("Set-Cookie".into(), "seen=1".into())];
        let mut pair = Pair::new(req, cfg, 5);
        let (server, client) = pair.run(b"", b"");
        match server {
            ServerOutcome::Upgraded { request, .. } => {
                assert_eq!(request.header("origin"), Some("https://app.example.com"));
                assert_eq!(request.header("cookie"), Some("session=abc"));
            }
            other => panic!("server: {other:?}"),
        }
        match client {
            ClientOutcome::Accepted { response, .. } => {
                assert_eq!(response.header("set-cookie"), Some("seen=1"))
            }
            other => panic!("client: {other:?}"),
        }
    }

    #[test]
    fn keys_come_from_the_rng() {
        let a = ClientHandshake::new(T0, request(&[]), &mut SeededRng::new(9));
        let b = ClientHandshake::new(T0, request(&[]), &mut SeededRng::new(9));
        let c = ClientHandshake::new(T0, request(&[]), &mut SeededRng::new(10));
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        assert_eq!(a.key().len(), 24);
    }
}
