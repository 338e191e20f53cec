//! Arbitrary bytes, cut at fuzzer-chosen points, into a STOMP `ServerSession` as the client's
//! stream, with a broker that answers what it can.
//!
//! Nothing may panic. Invariants: `ServerEvent::Closed` is emitted at most once and no event
//! follows it; `is_closed()` holds exactly when `Closed` was emitted (checked after every drain); a
//! `ProtocolError` or `HeartBeatTimeout` event is followed by `Closed`; calls on a closed session
//! are refused.
//!
//! Flag bits: 0 small limits, 1 offer heart-beats, 2 only 1.2, 3 answer receipts, 4 send a
//! MESSAGE to every new subscription, 5 fire timers between pieces (time moves 1 s a piece), 6 end
//! with a timeout far in the future.
#![no_main]

use std::time::Duration;

use duplex_core::stomp::{
    AllowAll, HeartBeat, Limits, LocalError, ReceiptId, ServerConfig, ServerEvent, ServerSession,
    Version,
};
use duplex_core::{Instant, SeededRng};
use duplex_fuzz::Script;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let script = Script::parse(data);
    let mut config = ServerConfig::default();
    if script.flag(0) {
        config.limits = Limits {
            max_headers: 4,
            max_header_line: 64,
            max_body: 64,
            max_frame: 256,
        };
    }
    if script.flag(1) {
        config.heart_beat = HeartBeat {
            can_send: Duration::from_secs(1),
            want_receive: Duration::from_secs(1),
        };
    }
    if script.flag(2) {
        config.versions = vec![Version::V1_2];
    }
    let mut rng = SeededRng::new(3);
    let mut session = ServerSession::new(Instant::ZERO, config, AllowAll, &mut rng);
    let mut tally = Tally::default();
    let mut now = Instant::ZERO;
    for piece in script.pieces() {
        now = now + Duration::from_secs(1);
        session.handle_input(now, piece);
        drain(&mut session, &script, &mut tally);
        if script.flag(5) {
            session.handle_timeout(now);
            drain(&mut session, &script, &mut tally);
        }
    }
    if script.flag(6) {
        session.handle_timeout(now + Duration::from_secs(3600));
        drain(&mut session, &script, &mut tally);
        // Either the client connected without heart-beats, or the session is over.
    }
    if session.is_closed() {
        let receipt = ReceiptId::from("r");
        assert_eq!(session.send_receipt(&receipt), Err(LocalError::Closed));
        assert_eq!(session.send_error("x", "", None), Err(LocalError::Closed));
        session.handle_input(now, b"CONNECT\n\n\0");
        assert!(session.poll_event().is_none());
        assert!(session.poll_transmit().is_none());
    }
});

#[derive(Default)]
struct Tally {
    closed: usize,
    must_close: bool,
}

fn drain(session: &mut ServerSession, script: &Script<'_>, tally: &mut Tally) {
    let mut polls = 0;
    while let Some(event) = session.poll_event() {
        polls += 1;
        assert!(polls < 100_000, "poll_event does not run dry");
        assert_eq!(tally.closed, 0, "an event after Closed: {event:?}");
        let receipt = match &event {
            ServerEvent::Closed => {
                tally.closed += 1;
                assert!(session.is_closed());
                None
            }
            ServerEvent::ProtocolError(_) | ServerEvent::HeartBeatTimeout => {
                tally.must_close = true;
                None
            }
            ServerEvent::Subscribe { id, receipt, .. } => {
                if script.flag(4) {
                    let _ = session.send_message(id, "/queue/a", "m-1", None, &[], "hello");
                }
                receipt.clone()
            }
            ServerEvent::Send { receipt, .. }
            | ServerEvent::Unsubscribe { receipt, .. }
            | ServerEvent::Begin { receipt, .. }
            | ServerEvent::Commit { receipt, .. }
            | ServerEvent::Abort { receipt, .. }
            | ServerEvent::Disconnect { receipt } => receipt.clone(),
            ServerEvent::Ack(a) | ServerEvent::Nack(a) => a.receipt.clone(),
            ServerEvent::Connected { .. } | ServerEvent::TransactionsAborted(_) => None,
        };
        if let (Some(receipt), true) = (receipt, script.flag(3)) {
            let _ = session.send_receipt(&receipt);
        }
        while session.poll_transmit().is_some() {}
    }
    assert_eq!(
        session.is_closed(),
        tally.closed == 1,
        "is_closed() and the Closed event disagree"
    );
    if tally.must_close {
        assert_eq!(
            tally.closed, 1,
            "ProtocolError/HeartBeatTimeout without Closed"
        );
    }
}
