//! A misbehaving peer never makes a session panic or return `Err`: the server queues ERROR and
//! closes for good; the client reports and closes.

use duplex_core::stomp::{
    AllowAll, ClientConfig, ClientEvent, ClientSession, DecodeError, Limits, ProtocolError,
    ServerConfig, ServerEvent, ServerSession,
};
use duplex_core::{Instant, SeededRng};
use proptest::prelude::*;
use std::time::Duration;

const CONNECT: &[u8] = b"CONNECT\naccept-version:1.2\nhost:h\n\n\0";

fn server() -> ServerSession {
    let config = ServerConfig {
        limits: Limits {
            max_headers: 8,
            max_header_line: 128,
            max_body: 64,
            max_frame: 512,
        },
        ..ServerConfig::default()
    };
    ServerSession::new(Instant::ZERO, config, AllowAll, &mut SeededRng::new(3))
}

/// Feed `input` (after `prefix`), return (ERROR frame text, events after the prefix).
fn run(prefix: &[u8], input: &[u8]) -> (String, Vec<ServerEvent>) {
    let mut s = server();
    s.handle_input(Instant::ZERO, prefix);
    while s.poll_event().is_some() {}
    s.poll_transmit();
    s.handle_input(Instant::ZERO, input);
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    let out = s
        .poll_transmit()
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    assert!(s.is_closed(), "session must be closed after {input:?}");
    // Sticky: later input changes nothing, broker calls fail.
    s.handle_input(Instant::ZERO, CONNECT);
    assert!(s.poll_event().is_none() && s.poll_transmit().is_none());
    assert!(s.send_receipt(&"r".into()).is_err());
    (out.unwrap_or_default(), events)
}

fn assert_protocol_error(out: &str, events: &[ServerEvent], expected: ProtocolError) {
    assert!(
        out.starts_with("ERROR\n"),
        "expected an ERROR frame, got {out:?}"
    );
    assert!(
        out.contains("\nmessage:"),
        "ERROR SHOULD carry a message header: {out:?}"
    );
    assert_eq!(
        events,
        [ServerEvent::ProtocolError(expected), ServerEvent::Closed]
    );
}

#[test]
fn stomp_garbage_before_connect() {
    let (out, ev) = run(b"", b"\x16\x03\x01garbage\r\n\r\n");
    assert_protocol_error(
        &out,
        &ev,
        ProtocolError::Decode(DecodeError::UnknownCommand(
            "\u{16}\u{3}\u{1}garbage".into(),
        )),
    );
}

#[test]
fn stomp_unknown_command_after_connect() {
    let (out, ev) = run(CONNECT, b"PUBLISH\n\n\0");
    assert_protocol_error(
        &out,
        &ev,
        ProtocolError::Decode(DecodeError::UnknownCommand("PUBLISH".into())),
    );
}

#[test]
fn stomp_frames_before_connect() {
    let (out, ev) = run(b"", b"SEND\ndestination:/q\nreceipt:9\n\nhi\0");
    assert_protocol_error(
        &out,
        &ev,
        ProtocolError::UnexpectedFrame(duplex_core::stomp::Command::Send),
    );
    assert!(out.contains("\nreceipt-id:9\n"), "{out}");
}

#[test]
fn stomp_bad_escape() {
    let (out, ev) = run(CONNECT, b"SEND\ndestination:/q\nx:a\\tb\n\n\0");
    assert_protocol_error(
        &out,
        &ev,
        ProtocolError::Decode(DecodeError::BadEscape(Some(b't'))),
    );
}

#[test]
fn stomp_too_many_headers() {
    let mut f = b"SEND\n".to_vec();
    for i in 0..9 {
        f.extend_from_slice(format!("h{i}:v\n").as_bytes());
    }
    let (out, ev) = run(CONNECT, &f);
    assert_protocol_error(
        &out,
        &ev,
        ProtocolError::Decode(DecodeError::TooManyHeaders { limit: 8 }),
    );
}

#[test]
fn stomp_huge_header_line_fails_before_it_ends() {
    let mut f = b"SEND\nx:".to_vec();
    f.extend(std::iter::repeat_n(b'a', 200)); // no LF yet
    let (out, ev) = run(CONNECT, &f);
    assert_protocol_error(
        &out,
        &ev,
        ProtocolError::Decode(DecodeError::HeaderLineTooLong { limit: 128 }),
    );
}

#[test]
fn stomp_body_longer_than_content_length() {
    let (out, ev) = run(CONNECT, b"SEND\ndestination:/q\ncontent-length:2\n\nabc\0");
    assert_protocol_error(&out, &ev, ProtocolError::Decode(DecodeError::MissingNul));
}

#[test]
fn stomp_body_over_limit() {
    let (out, ev) = run(
        CONNECT,
        &[&b"SEND\ndestination:/q\n\n"[..], &[b'x'; 65]].concat(),
    );
    assert_protocol_error(
        &out,
        &ev,
        ProtocolError::Decode(DecodeError::BodyTooLarge { limit: 64 }),
    );
}

#[test]
fn stomp_missing_required_headers_echo_the_receipt() {
    let cases: [(&[u8], &str); 6] = [
        (b"SEND\nreceipt:r1\n\n\0", "destination"),
        (b"SUBSCRIBE\ndestination:/q\nreceipt:r1\n\n\0", "id"),
        (b"UNSUBSCRIBE\nreceipt:r1\n\n\0", "id"),
        (b"ACK\nreceipt:r1\n\n\0", "id"),
        (b"BEGIN\nreceipt:r1\n\n\0", "transaction"),
        (b"COMMIT\nreceipt:r1\n\n\0", "transaction"),
    ];
    for (input, header) in cases {
        let (out, ev) = run(CONNECT, input);
        assert!(out.contains("\nreceipt-id:r1\n"), "{out}");
        assert!(
            matches!(&ev[0], ServerEvent::ProtocolError(ProtocolError::MissingHeader { header: h, .. }) if *h == header),
            "{ev:?}"
        );
    }
}

#[test]
fn stomp_unknown_ids_and_reused_ids() {
    let (_, ev) = run(CONNECT, b"UNSUBSCRIBE\nid:7\n\n\0");
    assert_eq!(
        ev[0],
        ServerEvent::ProtocolError(ProtocolError::Subscription("7".into()))
    );
    let (_, ev) = run(CONNECT, b"COMMIT\ntransaction:t\n\n\0");
    assert_eq!(
        ev[0],
        ServerEvent::ProtocolError(ProtocolError::Transaction("t".into()))
    );
    let (_, ev) = run(
        CONNECT,
        b"SUBSCRIBE\nid:1\ndestination:/a\n\n\0SUBSCRIBE\nid:1\ndestination:/b\n\n\0",
    );
    assert!(matches!(ev[0], ServerEvent::Subscribe { .. }));
    assert_eq!(
        ev[1],
        ServerEvent::ProtocolError(ProtocolError::Subscription("1".into()))
    );
    let (_, ev) = run(
        CONNECT,
        b"SUBSCRIBE\nid:1\ndestination:/a\nack:sometimes\n\n\0",
    );
    assert!(matches!(
        ev[0],
        ServerEvent::ProtocolError(ProtocolError::InvalidHeader { header: "ack", .. })
    ));
}

#[test]
fn stomp_server_frames_from_a_client_and_second_connect() {
    for input in [&b"MESSAGE\n\n\0"[..], b"CONNECT\n\n\0", b"ERROR\n\n\0"] {
        let (out, ev) = run(CONNECT, input);
        assert!(out.starts_with("ERROR\n"));
        assert!(matches!(
            ev[0],
            ServerEvent::ProtocolError(ProtocolError::UnexpectedFrame(_))
        ));
    }
}

#[test]
fn stomp_connect_without_accept_version_is_1_0_and_eols_before_connect_are_ignored() {
    let mut s = server();
    s.handle_input(Instant::ZERO, b"\n\r\nCONNECT\nlogin:bob\n\n\0");
    match s.poll_event() {
        Some(ServerEvent::Connected {
            version, principal, ..
        }) => {
            assert_eq!(version, duplex_core::stomp::Version::V1_0);
            assert_eq!(principal, "bob");
        }
        e => panic!("{e:?}"),
    }
    let out = s.poll_transmit().unwrap();
    assert!(out.starts_with(b"CONNECTED\nversion:1.0\n"));
}

#[test]
fn stomp_connect_timeout_closes_with_error() {
    let mut s = server();
    let deadline = s.poll_timeout().unwrap();
    assert_eq!(deadline, Instant::ZERO + Duration::from_secs(30));
    s.handle_timeout(Instant::ZERO + Duration::from_secs(29));
    assert!(s.poll_event().is_none());
    s.handle_timeout(deadline);
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::ProtocolError(ProtocolError::ConnectTimeout))
    );
    assert!(s.poll_transmit().unwrap().starts_with(b"ERROR\n"));
}

#[test]
fn stomp_client_reports_garbage_and_error_frames() {
    let mut c = ClientSession::new(Instant::ZERO, ClientConfig::new("h")).unwrap();
    c.handle_input(Instant::ZERO, b"HTTP/1.1 400 Bad Request\r\n\r\n");
    assert!(matches!(
        c.poll_event(),
        Some(ClientEvent::ProtocolError(ProtocolError::Decode(_)))
    ));
    assert_eq!(c.poll_event(), Some(ClientEvent::Closed));
    assert!(c.is_closed());

    let mut c = ClientSession::new(Instant::ZERO, ClientConfig::new("h")).unwrap();
    c.handle_input(Instant::ZERO, b"ERROR\nmessage:no\n\n\0");
    assert!(
        matches!(c.poll_event(), Some(ClientEvent::Error(f)) if f.get("message") == Some("no"))
    );
    assert_eq!(c.poll_event(), Some(ClientEvent::Closed));

    let mut c = ClientSession::new(Instant::ZERO, ClientConfig::new("h")).unwrap();
    c.handle_input(Instant::ZERO, b"MESSAGE\nsubscription:1\n\n\0");
    assert!(matches!(
        c.poll_event(),
        Some(ClientEvent::ProtocolError(ProtocolError::UnexpectedFrame(
            _
        )))
    ));
}

proptest! {
    /// Arbitrary bytes, in arbitrary chunks, before or after CONNECT: never a panic; either the
    /// session is still open or it closed with ERROR queued and ProtocolError + Closed reported.
    #[test]
    fn stomp_arbitrary_input_never_panics(
        connect_first in any::<bool>(),
        data in proptest::collection::vec(any::<u8>(), 0..600),
        cut in 0usize..600,
    ) {
        let mut s = server();
        if connect_first {
            s.handle_input(Instant::ZERO, CONNECT);
            while s.poll_event().is_some() {}
            s.poll_transmit();
        }
        let cut = cut.min(data.len());
        s.handle_input(Instant::ZERO, &data[..cut]);
        s.handle_input(Instant::ZERO, &data[cut..]);
        let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
        if s.is_closed() {
            prop_assert_eq!(events.last(), Some(&ServerEvent::Closed));
            let out = s.poll_transmit().unwrap_or_default();
            prop_assert!(out.windows(6).any(|w| w == b"ERROR\n"), "no ERROR queued");
        }
    }
}

/// Limits as large as `usize::MAX` mean "no limit", not an overflow (found by the
/// `stomp_decoder` fuzz target).
#[test]
fn stomp_decoder_with_unbounded_limits_does_not_overflow() {
    use duplex_core::stomp::{Decoded, Decoder, Limits, Version};
    let limits = Limits {
        max_headers: usize::MAX,
        ..Limits::default()
    };
    let mut decoder = Decoder::new(Version::V1_2, limits);
    decoder.feed(b"SEND\ndestination:/q\n\n\0");
    assert!(matches!(decoder.decode(), Ok(Some(Decoded::Frame(_)))));
}
