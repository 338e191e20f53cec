//! Arbitrary bytes, cut at fuzzer-chosen points, into a server and a client `Connection`.
//!
//! Nothing may panic. Invariants checked:
//! - `poll_event` runs dry in a bounded number of calls (no livelock);
//! - a text `Message` is UTF-8, and no message is larger than `max_message_size`;
//! - `Event::Closed` is emitted at most once, the state is `Closed` when it is, and no event
//!   follows it;
//! - after `handle_eof` the state is `Closed` and `Closed` was emitted exactly once overall;
//! - sends after close are refused with `LocalError::Closed`.
//!
//! Flag bits: 0 streaming, 1 auto_pong off, 2 small limits, 3 feed via `input_buffer`,
//! 4 echo every message back, 5 start a close after the first piece, 6 drain with
//! `poll_transmit` instead of `pending_transmit`/`advance_transmit`, 7 advance time past the
//! close timeout between pieces.
#![no_main]

use std::time::Duration;

use duplex_core::ws::{CloseCode, Config, Connection, Event, LocalError, Message, State};
use duplex_core::{Instant, SeededRng};
use duplex_fuzz::Script;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let script = Script::parse(data);
    let mut config = Config {
        streaming: script.flag(0),
        auto_pong: !script.flag(1),
        ..Config::default()
    };
    if script.flag(2) {
        config.max_frame_size = 64;
        config.max_message_size = 100;
    }
    let server = Connection::server(Instant::ZERO, config.clone());
    let client = Connection::client(Instant::ZERO, config, Box::new(SeededRng::new(7)));
    for conn in [server, client] {
        run(conn, &script);
    }
});

struct Tally {
    closed: usize,
}

fn run(mut conn: Connection, script: &Script<'_>) {
    let mut tally = Tally { closed: 0 };
    let mut now = Instant::ZERO;
    let step = if script.flag(7) {
        Duration::from_secs(3)
    } else {
        Duration::from_millis(1)
    };
    for (i, piece) in script.pieces().enumerate() {
        now = now + step;
        if script.flag(3) {
            conn.input_buffer(piece.len()).extend_from_slice(piece);
            conn.handle_buffered_input(now);
        } else {
            conn.handle_input(now, piece);
        }
        drain(&mut conn, script, &mut tally, piece.len());
        if i == 0 && script.flag(5) {
            let state_before = conn.state();
            let r = conn.close(now, CloseCode::NORMAL, "bye");
            assert_eq!(r.is_ok(), state_before == State::Open);
            drain(&mut conn, script, &mut tally, 0);
        }
        conn.handle_timeout(now);
        drain(&mut conn, script, &mut tally, 0);
    }
    conn.handle_eof(now);
    drain(&mut conn, script, &mut tally, 0);
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(tally.closed, 1, "Closed must be emitted exactly once");
    assert_eq!(conn.send_text("late"), Err(LocalError::Closed));
    assert_eq!(conn.ping(b""), Err(LocalError::Closed));
    assert!(conn.poll_event().is_none());
    conn.handle_input(now, b"\x81\x00");
    assert!(conn.poll_event().is_none());
    flush(&mut conn, script);
    assert!(conn.is_done());
}

fn drain(conn: &mut Connection, script: &Script<'_>, tally: &mut Tally, fed: usize) {
    // Each event consumes at least one input byte, except a streaming chunk or the final Closed;
    // allow generous slack and call anything beyond it a livelock.
    let budget = 2 * fed + 64;
    let mut polls = 0;
    while let Some(event) = conn.poll_event() {
        polls += 1;
        assert!(polls <= budget, "poll_event does not run dry");
        assert_eq!(tally.closed, 0, "an event after Closed: {event:?}");
        match event {
            Event::Message(msg) => {
                assert!(msg.payload().len() as u64 <= conn.config().max_message_size);
                if let Message::Text(t) = &msg {
                    assert!(std::str::from_utf8(t.as_bytes()).is_ok());
                }
                if script.flag(4) && conn.state() == State::Open {
                    conn.send(&msg).expect("open connection accepts a send");
                }
            }
            Event::Chunk { data, .. } => {
                assert!(data.len() as u64 <= conn.config().max_message_size);
            }
            Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= 125),
            Event::Closed(_) => {
                tally.closed += 1;
                assert_eq!(conn.state(), State::Closed);
            }
        }
        flush(conn, script);
    }
    flush(conn, script);
}

fn flush(conn: &mut Connection, script: &Script<'_>) {
    if script.flag(6) {
        while let Some(bytes) = conn.poll_transmit() {
            assert!(!bytes.is_empty());
        }
    } else {
        let n = conn.pending_transmit().len();
        conn.advance_transmit(n);
    }
    assert_eq!(conn.outbound_len(), 0);
}
