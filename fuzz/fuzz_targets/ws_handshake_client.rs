//! Arbitrary bytes, cut at fuzzer-chosen points, into a `ClientHandshake` as the server's answer.
//!
//! Nothing may panic, and there is at most one outcome over the machine's whole life (input, then
//! timeout, then EOF). An `Accepted` outcome only selects a subprotocol the client offered.
//!
//! Flag bits: 0 put a valid `101` status line, `Upgrade`, `Connection` and the right
//! `Sec-WebSocket-Accept` in front of the fuzzer's bytes (so the fuzzer spends its time on the
//! rest of the head and on leftover bytes), 1 offer subprotocols, 2 small head limit, 3 fire the
//! timeout after the input, 4 offer an extension.
#![no_main]

use std::time::Duration;

use duplex_core::ws::handshake::{
    accept_key, ClientHandshake, ClientOutcome, ClientRequest, HandshakeLimits,
};
use duplex_core::{Instant, SeededRng};
use duplex_fuzz::Script;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let script = Script::parse(data);
    let mut request = ClientRequest::new("example.com", "/chat");
    if script.flag(1) {
        request.protocols = vec!["stomp".into(), "v12.stomp".into()];
    }
    if script.flag(2) {
        request.limits = HandshakeLimits {
            max_head_bytes: 256,
            timeout: Duration::from_secs(1),
        };
    }
    if script.flag(4) {
        request
            .extra_headers
            .push(("Sec-WebSocket-Extensions".into(), "x-test; a=1".into()));
    }
    let offered = request.protocols.clone();
    let mut rng = SeededRng::new(1);
    let mut hs = ClientHandshake::new(Instant::ZERO, request, &mut rng);
    let sent = hs.poll_transmit().expect("the request is ready at once");
    assert!(sent.starts_with(b"GET /chat HTTP/1.1\r\n"));
    let mut outcomes = 0;
    let mut now = Instant::ZERO;
    if script.flag(0) {
        let prefix = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n",
            accept_key(hs.key().as_bytes())
        );
        hs.handle_input(now, prefix.as_bytes());
        outcomes += check(&mut hs, &offered);
    }
    for piece in script.pieces() {
        now = now + Duration::from_millis(1);
        hs.handle_input(now, piece);
        outcomes += check(&mut hs, &offered);
    }
    if script.flag(3) {
        hs.handle_timeout(now + Duration::from_secs(3600));
        outcomes += check(&mut hs, &offered);
    }
    hs.handle_eof();
    outcomes += check(&mut hs, &offered);
    hs.handle_input(now, b"HTTP/1.1 101 OK\r\n\r\n");
    outcomes += check(&mut hs, &offered);
    assert!(outcomes <= 1, "{outcomes} outcomes");
    assert!(hs.poll_transmit().is_none(), "the request is sent once");
});

fn check(hs: &mut ClientHandshake, offered: &[String]) -> usize {
    let Some(outcome) = hs.poll_outcome() else {
        return 0;
    };
    assert!(hs.poll_outcome().is_none(), "a second outcome at once");
    if let ClientOutcome::Accepted { protocol, .. } = &outcome {
        if let Some(p) = protocol {
            assert!(offered.contains(p), "selected {p:?}, not offered");
        }
        assert!(hs.response().is_some());
    }
    assert!(hs.poll_timeout().is_none(), "a deadline after the outcome");
    1
}
