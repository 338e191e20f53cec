//! Connection behaviour, from the RFC's own examples to the closing handshake.

use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::rng::SeededRng;
use crate::ws::event::LocalError;
use crate::ws::message::{Message, Utf8Bytes};

const T0: Instant = Instant::ZERO;

fn server() -> Connection {
    Connection::server(T0, Config::default())
}

fn client() -> Connection {
    Connection::client(T0, Config::default(), Box::new(SeededRng::new(1)))
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn transmit(c: &mut Connection) -> Vec<u8> {
    c.poll_transmit().map(|b| b.to_vec()).unwrap_or_default()
}

fn text(s: &str) -> Event {
    Event::Message(Message::Text(
        Utf8Bytes::try_from_bytes(Bytes::copy_from_slice(s.as_bytes())).unwrap(),
    ))
}

fn closed_code(events: &[Event]) -> Option<u16> {
    events.iter().find_map(|e| match e {
        Event::Closed(info) => Some(info.code.0),
        _ => None,
    })
}

/// Move everything each side has queued to the other, polling events as the contract says, until
/// both are quiet. Returns the events each side saw.
fn drive(a: &mut Connection, b: &mut Connection, now: Instant) -> (Vec<Event>, Vec<Event>) {
    let (mut seen_a, mut seen_b) = (Vec::new(), Vec::new());
    loop {
        seen_a.extend(events(a));
        seen_b.extend(events(b));
        let (ab, ba) = (transmit(a), transmit(b));
        if ab.is_empty() && ba.is_empty() {
            return (seen_a, seen_b);
        }
        b.handle_input(now, &ab);
        a.handle_input(now, &ba);
    }
}

#[test]
fn rfc_5_7_single_frame_unmasked_text_to_client() {
    let mut c = client();
    c.handle_input(T0, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(events(&mut c), vec![text("Hello")]);
}

#[test]
fn rfc_5_7_single_frame_masked_text_to_server() {
    let mut s = server();
    s.handle_input(
        T0,
        &[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ],
    );
    assert_eq!(events(&mut s), vec![text("Hello")]);
}

#[test]
fn rfc_5_7_fragmented_unmasked_text() {
    let mut c = client();
    c.handle_input(T0, &[0x01, 0x03, 0x48, 0x65, 0x6c]);
    assert!(events(&mut c).is_empty());
    c.handle_input(T0, &[0x80, 0x02, 0x6c, 0x6f]);
    assert_eq!(events(&mut c), vec![text("Hello")]);
}

#[test]
fn rfc_5_7_ping_is_answered_with_a_masked_pong() {
    let mut c = client();
    c.handle_input(T0, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(
        events(&mut c),
        vec![Event::Ping(Bytes::from_static(b"Hello"))]
    );
    let pong = transmit(&mut c);
    let mut s = server();
    s.handle_input(T0, &pong);
    assert_eq!(
        events(&mut s),
        vec![Event::Pong(Bytes::from_static(b"Hello"))]
    );
    assert_eq!(pong[0], 0x8a);
    assert_eq!(pong[1], 0x85, "masked, five bytes");
}

#[test]
fn rfc_5_7_binary_256_and_64k_lengths() {
    for len in [256usize, 65536] {
        let mut s = server();
        let mut c = client();
        let payload = vec![0xab; len];
        c.send_binary(&payload).unwrap();
        let wire = transmit(&mut c);
        let expect_head = if len == 256 {
            &[0x82u8, 0xfe, 0x01, 0x00][..]
        } else {
            &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0][..]
        };
        assert_eq!(&wire[..expect_head.len()], expect_head);
        s.handle_input(T0, &wire);
        assert_eq!(
            events(&mut s),
            vec![Event::Message(Message::Binary(payload.into()))]
        );
    }
}

#[test]
fn server_fails_on_unmasked_frame_with_1002() {
    let mut s = server();
    s.handle_input(T0, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    let ev = events(&mut s);
    assert_eq!(closed_code(&ev), Some(1002));
    assert_eq!(&transmit(&mut s)[..4], &[0x88, 0x1e, 0x03, 0xea][..]);
    assert_eq!(s.state(), State::Closed);
    // Sticky: more input changes nothing, sends are refused.
    s.handle_input(T0, &[0x81, 0x85, 0, 0, 0, 0, b'x', b'x', b'x', b'x', b'x']);
    assert!(events(&mut s).is_empty());
    assert_eq!(s.send_text("late"), Err(LocalError::Closed));
}

#[test]
fn answers_to_earlier_messages_go_out_before_a_later_failure() {
    // A message and a bad frame in one read: the echo must precede the 1002 close (Autobahn 3.2).
    let mut c = client();
    c.handle_input(T0, &[0x81, 0x02, b'h', b'i', 0xa1, 0x00]);
    assert_eq!(c.poll_event(), Some(text("hi")));
    c.send_text("hi").unwrap();
    assert_eq!(closed_code(&events(&mut c)), Some(1002));
    let wire = transmit(&mut c);
    let mut s = server();
    s.handle_input(T0, &wire);
    let seen = events(&mut s);
    assert_eq!(seen[0], text("hi"));
    assert_eq!(closed_code(&seen), Some(1002));
}

#[test]
fn client_fails_on_masked_frame() {
    let mut c = client();
    c.handle_input(
        T0,
        &[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ],
    );
    assert_eq!(closed_code(&events(&mut c)), Some(1002));
}

#[test]
fn invalid_utf8_fails_fast_mid_frame() {
    let mut c = client();
    // A 10-byte text frame; only its first 4 bytes have arrived, and the 4th cannot be UTF-8.
    c.handle_input(T0, &[0x81, 10, b'a', b'b', b'c']);
    assert!(events(&mut c).is_empty());
    c.handle_input(T0, &[0xff]);
    assert_eq!(closed_code(&events(&mut c)), Some(1007));
}

#[test]
fn invalid_utf8_fails_fast_mid_fragment() {
    let mut c = client();
    c.handle_input(T0, &[0x01, 0x02, 0xce, 0xba]); // "κ", not final
    c.handle_input(T0, &[0x00, 0x02, 0xed, 0xa0]); // a surrogate prefix
    assert_eq!(closed_code(&events(&mut c)), Some(1007));
}

#[test]
fn text_split_inside_a_code_point_across_fragments_is_fine() {
    let mut c = client();
    c.handle_input(T0, &[0x01, 0x01, 0xce]);
    c.handle_input(T0, &[0x80, 0x01, 0xba]);
    assert_eq!(events(&mut c), vec![text("κ")]);
}

#[test]
fn control_frames_between_fragments() {
    let mut c = client();
    c.handle_input(T0, &[0x01, 0x02, b'H', b'e', 0x89, 0x00, 0x80, 0x01, b'y']);
    assert_eq!(events(&mut c), vec![Event::Ping(Bytes::new()), text("Hey")]);
}

#[test]
fn fragment_order_is_enforced() {
    let mut c = client();
    c.handle_input(T0, &[0x80, 0x01, b'x']); // continuation with nothing to continue
    assert_eq!(closed_code(&events(&mut c)), Some(1002));
    let mut c = client();
    c.handle_input(T0, &[0x01, 0x01, b'x', 0x81, 0x01, b'y']); // new message inside one
    assert_eq!(closed_code(&events(&mut c)), Some(1002));
}

#[test]
fn oversized_frame_and_message_give_1009_before_the_payload() {
    let config = Config {
        max_frame_size: 100,
        max_message_size: 150,
        ..Config::default()
    };
    let mut c = Connection::client(T0, config.clone(), Box::new(SeededRng::new(1)));
    c.handle_input(T0, &[0x82, 101]);
    assert_eq!(closed_code(&events(&mut c)), Some(1009));
    let mut c = Connection::client(T0, config, Box::new(SeededRng::new(1)));
    c.handle_input(T0, &[0x02, 100]);
    c.handle_input(T0, &[0u8; 100]);
    c.handle_input(T0, &[0x80, 51]);
    assert_eq!(closed_code(&events(&mut c)), Some(1009));
}

#[test]
fn closing_handshake_started_by_the_client() {
    let (mut c, mut s) = (client(), server());
    c.close(T0, CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(c.state(), State::CloseSent);
    assert_eq!(c.send_text("late"), Err(LocalError::Closed));
    let (client_saw, server_saw) = drive(&mut c, &mut s, T0);
    for (ev, initiator) in [
        (&server_saw, Initiator::Remote),
        (&client_saw, Initiator::Local),
    ] {
        match &ev[..] {
            [Event::Closed(info)] => {
                assert_eq!(info.code, CloseCode::NORMAL);
                assert_eq!(info.initiator, initiator);
                assert!(info.clean);
            }
            other => panic!("expected one Closed, got {other:?}"),
        }
    }
    assert_eq!(
        server_saw,
        vec![Event::Closed(CloseInfo {
            code: CloseCode::NORMAL,
            reason: "bye".into(),
            initiator: Initiator::Remote,
            clean: true,
            failure: None
        })]
    );
    assert!(c.is_done() && s.is_done());
}

#[test]
fn close_without_code_is_answered_with_an_empty_close() {
    let mut c = client();
    c.handle_input(T0, &[0x88, 0x00]);
    assert_eq!(closed_code(&events(&mut c)), Some(1005));
    let reply = transmit(&mut c);
    assert_eq!(&reply[..2], &[0x88, 0x80]);
}

#[test]
fn bad_close_frames() {
    for (frame, code) in [
        (&[0x88u8, 0x01, 0x03][..], 1002),
        (&[0x88, 0x02, 0x03, 0xed], 1002),
        (&[0x88, 0x03, 0x03, 0xe8, 0xff], 1007),
    ] {
        let mut c = client();
        c.handle_input(T0, frame);
        assert_eq!(closed_code(&events(&mut c)), Some(code), "{frame:?}");
    }
}

#[test]
fn close_times_out_exactly_at_the_deadline() {
    let mut c = client();
    c.close(T0, CloseCode::GOING_AWAY, "").unwrap();
    let deadline = c.poll_timeout().unwrap();
    assert_eq!(deadline, T0 + Duration::from_secs(5));
    c.handle_timeout(Instant::from_nanos(deadline.as_nanos() - 1));
    assert!(events(&mut c).is_empty(), "early timeout is a no-op");
    c.handle_timeout(deadline);
    match &events(&mut c)[..] {
        [Event::Closed(info)] => assert_eq!(info.failure, Some(Failure::CloseTimeout)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn local_misuse_is_refused() {
    let mut c = client();
    assert_eq!(c.ping(&[0; 126]), Err(LocalError::ControlTooLong));
    assert_eq!(
        c.close(T0, CloseCode(1005), ""),
        Err(LocalError::BadCloseCode(1005))
    );
    assert_eq!(
        c.close(T0, CloseCode::NORMAL, &"x".repeat(124)),
        Err(LocalError::ReasonTooLong)
    );
    c.send_fragment(MessageKind::Text, b"a", false).unwrap();
    assert_eq!(c.send_text("b"), Err(LocalError::MessageInProgress));
    assert_eq!(
        c.send_fragment(MessageKind::Binary, b"b", true),
        Err(LocalError::FragmentKindMismatch)
    );
    c.send_fragment(MessageKind::Text, b"b", true).unwrap();
    let mut s = server();
    s.handle_input(T0, &transmit(&mut c));
    assert_eq!(events(&mut s), vec![text("ab")]);
}

#[test]
fn keepalive_pings_and_idle_timeout() {
    let config = Config {
        ping_interval: Some(Duration::from_secs(10)),
        idle_timeout: Some(Duration::from_secs(25)),
        ..Config::default()
    };
    let mut s = Connection::server(T0, config);
    assert_eq!(s.poll_timeout(), Some(T0 + Duration::from_secs(10)));
    s.handle_timeout(T0 + Duration::from_secs(10));
    assert_eq!(transmit(&mut s), vec![0x89, 0x00]);
    s.handle_timeout(T0 + Duration::from_secs(20));
    assert_eq!(transmit(&mut s), vec![0x89, 0x00]);
    s.handle_timeout(T0 + Duration::from_secs(25));
    let ev = events(&mut s);
    assert_eq!(closed_code(&ev), Some(1001));
    match &ev[..] {
        [Event::Closed(info)] => assert_eq!(info.failure, Some(Failure::IdleTimeout)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn input_pushes_back_the_idle_deadline() {
    let config = Config {
        idle_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    };
    let mut s = Connection::server(T0, config);
    let t = T0 + Duration::from_secs(4);
    s.handle_input(t, &[0x8a, 0x80, 1, 2, 3, 4]);
    s.handle_timeout(T0 + Duration::from_secs(5));
    assert_eq!(events(&mut s), vec![Event::Pong(Bytes::new())]);
    assert_eq!(s.poll_timeout(), Some(t + Duration::from_secs(5)));
}

#[test]
fn eof_before_close_is_abnormal() {
    let mut s = server();
    s.handle_eof(T0);
    assert_eq!(closed_code(&events(&mut s)), Some(1006));
}

#[test]
fn streaming_hands_out_pieces_as_they_arrive() {
    let config = Config {
        streaming: true,
        ..Config::default()
    };
    let mut c = Connection::client(T0, config, Box::new(SeededRng::new(1)));
    c.handle_input(T0, &[0x02, 0x04, 1, 2]);
    let mut seen = events(&mut c);
    c.handle_input(T0, &[3, 4, 0x80, 0x01, 5]);
    seen.extend(events(&mut c));
    let kinds: Vec<(Vec<u8>, bool)> = seen
        .into_iter()
        .map(|e| match e {
            Event::Chunk {
                kind: MessageKind::Binary,
                data,
                fin,
            } => (data.to_vec(), fin),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![(vec![1, 2], false), (vec![3, 4], false), (vec![5], true)]
    );
}

#[test]
fn single_frame_messages_are_zero_copy_slices_of_the_input_buffer() {
    let mut c = client();
    let buf = c.input_buffer(64);
    buf.extend_from_slice(&[0x82, 0x03, 7, 8, 9]);
    let base = buf.as_ptr() as usize;
    c.handle_buffered_input(T0);
    match c.poll_event() {
        Some(Event::Message(Message::Binary(b))) => assert_eq!(b.as_ptr() as usize, base + 2),
        other => panic!("{other:?}"),
    }
}

/// One generated message: its kind, payload and how it is fragmented.
fn arb_message() -> impl Strategy<Value = (bool, Vec<u8>, Vec<usize>)> {
    (
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec(0usize..300, 0..4),
    )
        .prop_map(|(is_text, bytes, cuts)| {
            let payload = if is_text {
                String::from_utf8_lossy(&bytes).into_owned().into_bytes()
            } else {
                bytes
            };
            (is_text, payload, cuts)
        })
}

proptest! {
    /// Encode → decode round trip, with any fragmentation, pings between fragments, and any chunking
    /// of the byte stream on the way.
    #[test]
    fn any_messages_any_fragmentation_any_chunking(msgs in proptest::collection::vec(arb_message(), 1..8),
                                                   chunk_sizes in proptest::collection::vec(1usize..64, 1..16),
                                                   seed in any::<u64>()) {
        let mut c = Connection::client(T0, Config::default(), Box::new(SeededRng::new(seed)));
        let mut expected = Vec::new();
        for (is_text, payload, cuts) in &msgs {
            let kind = if *is_text { MessageKind::Text } else { MessageKind::Binary };
            let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(payload.len())).collect();
            cuts.sort_unstable();
            let mut start = 0;
            for cut in cuts {
                c.send_fragment(kind, &payload[start..cut], false).unwrap();
                c.ping(b"p").unwrap();
                expected.push(Event::Ping(Bytes::from_static(b"p")));
                start = cut;
            }
            c.send_fragment(kind, &payload[start..], true).unwrap();
            let bytes = Bytes::from(payload.clone());
            expected.push(Event::Message(if *is_text { Message::Text(Utf8Bytes::try_from_bytes(bytes).unwrap()) } else { Message::Binary(bytes) }));
        }
        let wire = transmit(&mut c);
        let mut s = server();
        let mut at = 0;
        let mut got = Vec::new();
        for size in chunk_sizes.iter().cycle() {
            if at >= wire.len() { break; }
            let end = (at + size).min(wire.len());
            s.handle_input(T0, &wire[at..end]);
            got.extend(events(&mut s));
            at = end;
        }
        prop_assert_eq!(got, expected);
    }

    /// Garbage never panics, and the machine ends up open (waiting for more) or closed with a code.
    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512), as_server in any::<bool>()) {
        let mut conn = if as_server { server() } else { client() };
        conn.handle_input(T0, &data);
        conn.handle_eof(T0);
        let ev = events(&mut conn);
        prop_assert!(matches!(ev.last(), Some(Event::Closed(_))));
        prop_assert_eq!(conn.state(), State::Closed);
    }
}
