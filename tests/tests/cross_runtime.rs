//! The cross-runtime behaviour suite: every scenario runs for every (client runtime × server
//! runtime) pair from [`RUNTIMES`], over `ws://` and over `wss://` (a certificate made at test
//! time). A failure names the pair, the transport and what differed; all pairs run before the
//! test fails, so one run shows every broken pair.

use bytes::Bytes;
use duplex_core::stomp::AckMode;
use duplex_core::ws::{CloseCode, Initiator, Message, MessageKind};
use duplex_tests::rt::{
    ClientOutcome, ClientPlan, Reply, Runtime, Step, StompPlan, TestCert, RUNTIMES,
};

/// Run `check(client, server, tls)` for every pair, plain and TLS, in parallel threads; panic
/// with the list of failing pairs.
fn for_every_pair<F>(scenario: &str, check: F)
where
    F: Fn(&dyn Runtime, &dyn Runtime, Option<&TestCert>) -> Result<(), String> + Sync,
{
    let cert = TestCert::new();
    let mut failures = Vec::new();
    std::thread::scope(|scope| {
        let mut runs = Vec::new();
        for &server in RUNTIMES {
            for &client in RUNTIMES {
                for tls in [None, Some(&cert)] {
                    let label = format!(
                        "{scenario}: client={} server={} {}",
                        client.name(),
                        server.name(),
                        if tls.is_some() { "wss" } else { "ws" }
                    );
                    let check = &check;
                    runs.push((label, scope.spawn(move || check(client, server, tls))));
                }
            }
        }
        for (label, run) in runs {
            match run.join() {
                Ok(Ok(())) => println!("ok   {label}"),
                Ok(Err(why)) => failures.push(format!("FAIL {label}: {why}")),
                Err(_) => failures.push(format!("FAIL {label}: panicked")),
            }
        }
    });
    for f in &failures {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} pair(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Run `plan` from `client` against an echo server on `server`.
fn run_echo(
    client: &dyn Runtime,
    server: &dyn Runtime,
    tls: Option<&TestCert>,
    plan: &ClientPlan,
) -> Result<ClientOutcome, String> {
    let handle = server.spawn_echo_server(tls);
    client.run_ws_client(&handle.url(tls.is_some(), "/"), tls, plan)
}

fn text(s: &str) -> Message {
    Message::Text(String::from(s).into())
}

fn binary(len: usize) -> Message {
    Message::Binary(
        (0..len)
            .map(|i| (i * 31 % 251) as u8)
            .collect::<Vec<u8>>()
            .into(),
    )
}

fn short(r: &Reply) -> String {
    match r {
        Reply::Message(m) => format!("{:?} message of {} bytes", m.kind(), m.payload().len()),
        Reply::Pong(p) => format!("pong of {} bytes", p.len()),
    }
}

/// Replies must equal `expected` one for one; a clean close started by `initiator` with `code`.
fn check_outcome(
    outcome: ClientOutcome,
    expected: &[Reply],
    code: CloseCode,
    initiator: Initiator,
) -> Result<(), String> {
    if outcome.replies.len() != expected.len() {
        return Err(format!(
            "{} replies, expected {}",
            outcome.replies.len(),
            expected.len()
        ));
    }
    for (i, (got, want)) in outcome.replies.iter().zip(expected).enumerate() {
        if got != want {
            return Err(format!(
                "reply {i}: got {}, expected {} (or the bytes differ)",
                short(got),
                short(want)
            ));
        }
    }
    let close = &outcome.close;
    if !close.clean || close.code != code || close.initiator != initiator || close.failure.is_some()
    {
        return Err(format!(
            "close: expected a clean close {} started by {initiator:?}, got {close:?}",
            code.0
        ));
    }
    Ok(())
}

#[test]
fn messages_of_every_size_echo_back_byte_for_byte() {
    let messages = vec![
        text(""),
        binary(0),
        text("twenty bytes: ✓✓✓ ok"),
        binary(20),
        text(&"ü".repeat(8 * 1024)), // 16 KiB of two-byte code points
        binary(16 * 1024),
        binary(1024 * 1024),
        text(&"x".repeat(1024 * 1024)),
    ];
    let plan = ClientPlan {
        steps: messages.iter().cloned().map(Step::Send).collect(),
        close: Some((CloseCode::NORMAL, "done".into())),
    };
    let expected: Vec<Reply> = messages.into_iter().map(Reply::Message).collect();
    for_every_pair("echo sizes", |client, server, tls| {
        let outcome = run_echo(client, server, tls, &plan)?;
        check_outcome(outcome, &expected, CloseCode::NORMAL, Initiator::Local)
    });
}

#[test]
fn fragmented_messages_come_back_whole() {
    // "héllo wörld" cut inside the two-byte code points: only the whole is UTF-8.
    let hello = "héllo wörld".as_bytes();
    let text_fragments: Vec<Bytes> = vec![
        Bytes::copy_from_slice(&hello[..2]),
        Bytes::copy_from_slice(&hello[2..3]),
        Bytes::new(),
        Bytes::copy_from_slice(&hello[3..9]),
        Bytes::copy_from_slice(&hello[9..]),
    ];
    let binary_fragments: Vec<Bytes> = (0..10u8).map(|i| Bytes::from(vec![i; 7000])).collect();
    let binary_whole: Vec<u8> = binary_fragments.iter().flatten().copied().collect();
    let plan = ClientPlan {
        steps: vec![
            Step::SendFragmented {
                kind: MessageKind::Text,
                fragments: text_fragments,
            },
            Step::SendFragmented {
                kind: MessageKind::Binary,
                fragments: binary_fragments,
            },
            Step::SendFragmented {
                kind: MessageKind::Binary,
                fragments: vec![Bytes::from_static(b"one frame")],
            },
        ],
        close: Some((CloseCode::NORMAL, String::new())),
    };
    let expected = vec![
        Reply::Message(text("héllo wörld")),
        Reply::Message(Message::Binary(binary_whole.into())),
        Reply::Message(Message::Binary(Bytes::from_static(b"one frame"))),
    ];
    for_every_pair("fragmented", |client, server, tls| {
        let outcome = run_echo(client, server, tls, &plan)?;
        check_outcome(outcome, &expected, CloseCode::NORMAL, Initiator::Local)
    });
}

#[test]
fn pings_get_pongs_with_the_same_payload_between_messages() {
    let plan = ClientPlan {
        steps: vec![
            Step::Ping(Bytes::new()),
            Step::Send(text("between pings")),
            Step::Ping(Bytes::from(vec![0xa5; 125])),
            Step::Ping(Bytes::from_static(b"last")),
        ],
        close: Some((CloseCode::NORMAL, String::new())),
    };
    let expected = vec![
        Reply::Pong(Bytes::new()),
        Reply::Message(text("between pings")),
        Reply::Pong(Bytes::from(vec![0xa5; 125])),
        Reply::Pong(Bytes::from_static(b"last")),
    ];
    for_every_pair("pings", |client, server, tls| {
        let outcome = run_echo(client, server, tls, &plan)?;
        check_outcome(outcome, &expected, CloseCode::NORMAL, Initiator::Local)
    });
}

#[test]
fn client_close_code_and_reason_are_echoed() {
    let code = CloseCode(4001);
    let plan = ClientPlan {
        steps: vec![Step::Send(text("before closing"))],
        close: Some((code, "client says bye ✓".into())),
    };
    let expected = vec![Reply::Message(text("before closing"))];
    for_every_pair("client close", |client, server, tls| {
        let outcome = run_echo(client, server, tls, &plan)?;
        check_outcome(outcome, &expected, code, Initiator::Local)
    });
}

#[test]
fn server_initiated_close_reaches_the_client_with_code_and_reason() {
    let code = CloseCode::GOING_AWAY;
    let plan = ClientPlan {
        steps: vec![
            Step::Send(binary(100)),
            Step::AskServerToClose(code, "server going away".into()),
        ],
        close: None,
    };
    let expected = vec![Reply::Message(binary(100))];
    for_every_pair("server close", |client, server, tls| {
        let outcome = run_echo(client, server, tls, &plan)?;
        if outcome.close.reason != "server going away" {
            return Err(format!("close reason {:?}", outcome.close.reason));
        }
        check_outcome(outcome, &expected, code, Initiator::Remote)
    });
}

/// Run `plan` from `client` against the broker hosted on `server`; `Ok(None)` when `server`
/// cannot host the broker yet.
fn run_stomp(
    client: &dyn Runtime,
    server: &dyn Runtime,
    tls: Option<&TestCert>,
    plan: &StompPlan,
) -> Result<Option<duplex_tests::rt::StompOutcome>, String> {
    let Some(handle) = server.spawn_broker_server(tls) else {
        println!("skip {}: cannot host the broker yet", server.name());
        return Ok(None);
    };
    client
        .run_stomp_client(&handle.url(tls.is_some(), "/ws"), tls, plan)
        .map(Some)
}

fn bodies(list: &[&str]) -> Vec<Bytes> {
    list.iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

#[test]
fn stomp_topic_send_with_receipt_and_receive() {
    let sent = bodies(&["one", "two ✓", "", "four"]);
    let plan = StompPlan {
        login: "alice".into(),
        destination: "/topic/cross.runtime".into(),
        ack: AckMode::Auto,
        send: sent.clone(),
        nack_once: Vec::new(),
    };
    for_every_pair("stomp topic", |client, server, tls| {
        let Some(outcome) = run_stomp(client, server, tls, &plan)? else {
            return Ok(());
        };
        if outcome.version != "1.2" {
            return Err(format!("STOMP version {}", outcome.version));
        }
        if outcome.received != sent {
            return Err(format!("received {:?}", outcome.received));
        }
        if !outcome.disconnected {
            return Err("DISCONNECT did not complete".into());
        }
        Ok(())
    });
}

#[test]
fn stomp_queue_ack_and_nack_redelivers() {
    let sent = bodies(&["q1", "q2", "q3"]);
    let plan = StompPlan {
        login: "bob".into(),
        destination: "/queue/cross.runtime".into(),
        ack: AckMode::ClientIndividual,
        send: sent,
        nack_once: bodies(&["q2"]),
    };
    for_every_pair("stomp queue ack/nack", |client, server, tls| {
        let Some(outcome) = run_stomp(client, server, tls, &plan)? else {
            return Ok(());
        };
        // q2 is NACKed once and comes back; every body is received, q2 twice.
        let mut got = outcome.received.clone();
        got.sort();
        if got != bodies(&["q1", "q2", "q2", "q3"]) {
            return Err(format!("received {:?}", outcome.received));
        }
        if !outcome.disconnected {
            return Err("DISCONNECT did not complete".into());
        }
        Ok(())
    });
}
