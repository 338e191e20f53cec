//! Arbitrary bytes, cut at fuzzer-chosen points, into a `ServerHandshake`.
//!
//! Nothing may panic, and there is at most one outcome over the machine's whole life (input, then
//! timeout, then EOF). A `Rejected` or `Upgraded` outcome comes with bytes to transmit, and
//! `Rejected` carries the status its error maps to.
//!
//! Flag bits: 0 offer subprotocols, 1 restrict origins, 2 small head limit, 3 fire the timeout
//! after the input, 4 answer an `HttpRequest` with `respond` (else `reject_not_websocket`).
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use duplex_core::ws::handshake::{
    http_response, HandshakeLimits, OriginPolicy, ServerConfig, ServerHandshake, ServerOutcome,
};
use duplex_core::Instant;
use duplex_fuzz::Script;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let script = Script::parse(data);
    let mut config = ServerConfig::default();
    if script.flag(0) {
        config.protocols = vec!["stomp".into(), "v12.stomp".into()];
    }
    if script.flag(1) {
        config.origin = OriginPolicy::AllowList(vec!["https://example.com".into()]);
    }
    if script.flag(2) {
        config.limits = HandshakeLimits {
            max_head_bytes: 256,
            timeout: Duration::from_secs(1),
        };
    }
    let mut hs = ServerHandshake::new(Instant::ZERO, Arc::new(config));
    let mut outcomes = 0;
    let mut now = Instant::ZERO;
    for piece in script.pieces() {
        now = now + Duration::from_millis(1);
        hs.handle_input(now, piece);
        outcomes += check(&mut hs, &script);
    }
    if script.flag(3) {
        hs.handle_timeout(now + Duration::from_secs(3600));
        outcomes += check(&mut hs, &script);
    }
    hs.handle_eof();
    outcomes += check(&mut hs, &script);
    hs.handle_input(now, b"GET / HTTP/1.1\r\n\r\n");
    outcomes += check(&mut hs, &script);
    assert!(outcomes <= 1, "{outcomes} outcomes");
    assert!(hs.poll_outcome().is_none());
});

fn check(hs: &mut ServerHandshake, script: &Script<'_>) -> usize {
    let Some(outcome) = hs.poll_outcome() else {
        // No outcome: nothing may be queued either.
        assert!(hs.poll_transmit().is_none());
        return 0;
    };
    assert!(hs.poll_outcome().is_none(), "a second outcome at once");
    match outcome {
        ServerOutcome::Upgraded { .. } => {
            assert!(hs.poll_transmit().is_some(), "Upgraded without a 101");
        }
        ServerOutcome::Rejected { status, error } => {
            assert_eq!(error.status(), Some(status));
            let answer = hs.poll_transmit().expect("Rejected without an answer");
            assert!(answer.starts_with(format!("HTTP/1.1 {status} ").as_bytes()));
        }
        ServerOutcome::HttpRequest { .. } => {
            assert!(hs.poll_transmit().is_none());
            if script.flag(4) {
                hs.respond(http_response(200, "OK", &[], b"hello\n"));
            } else {
                hs.reject_not_websocket();
            }
            assert!(hs.poll_transmit().is_some());
        }
    }
    assert!(hs.poll_timeout().is_none(), "a deadline after the outcome");
    1
}
