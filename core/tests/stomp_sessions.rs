//! A client session and a server session wired back to back in memory, with virtual time.
//! The test plays the broker by hand.

use duplex_core::stomp::{
    AckMode, ClientConfig, ClientEvent, ClientSession, Frame, HeartBeat, ServerConfig, ServerEvent,
    ServerSession, Version,
};
use duplex_core::{Instant, SeededRng};
use std::time::Duration;

struct Pair {
    now: Instant,
    client: ClientSession,
    server: ServerSession,
    client_events: Vec<ClientEvent>,
    server_events: Vec<ServerEvent>,
    /// Bytes the client sent, with the time they were delivered (heart-beats are `\n`).
    to_server: Vec<(Instant, Vec<u8>)>,
    to_client: Vec<(Instant, Vec<u8>)>,
    /// When false, bytes are dropped on the floor (a dead link).
    link_up: bool,
}

impl Pair {
    fn new(client: ClientConfig, server: ServerConfig) -> Pair {
        let now = Instant::from_nanos(1_000_000_000);
        let mut rng = SeededRng::new(1);
        let mut p = Pair {
            now,
            client: ClientSession::new(now, client).unwrap(),
            server: ServerSession::new(now, server, auth, &mut rng),
            client_events: Vec::new(),
            server_events: Vec::new(),
            to_server: Vec::new(),
            to_client: Vec::new(),
            link_up: true,
        };
        p.drive();
        p
    }

    /// Move bytes until both sides are quiet (bounded, to catch livelock).
    fn drive(&mut self) {
        for _ in 0..100 {
            self.client_events
                .extend(std::iter::from_fn(|| self.client.poll_event()));
            self.server_events
                .extend(std::iter::from_fn(|| self.server.poll_event()));
            let c = self.client.poll_transmit();
            let s = self.server.poll_transmit();
            if c.is_none() && s.is_none() {
                return;
            }
            if let Some(b) = c.filter(|_| self.link_up) {
                self.to_server.push((self.now, b.to_vec()));
                // Split every transmission in two, as a WebSocket or TCP might.
                let (a, z) = b.split_at(b.len() / 2);
                self.server.handle_input(self.now, a);
                self.server.handle_input(self.now, z);
            }
            if let Some(b) = s.filter(|_| self.link_up) {
                self.to_client.push((self.now, b.to_vec()));
                self.client.handle_input(self.now, &b);
            }
        }
        panic!("livelock: sessions kept talking");
    }

    fn next_timeout(&self) -> Option<Instant> {
        [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    fn advance_to(&mut self, t: Instant) {
        self.now = t;
        self.client.handle_timeout(t);
        self.server.handle_timeout(t);
        self.drive();
    }
}

fn auth(login: Option<&str>, pass: Option<&str>, _: &Frame) -> Result<String, String> {
    match (login, pass) {
        (Some("guest"), Some("guest")) => Ok("guest".to_owned()),
        _ => Err("bad credentials".to_owned()),
    }
}

fn client_config() -> ClientConfig {
    let mut c = ClientConfig::new("localhost");
    c.login = Some("guest".into());
    c.passcode = Some("guest".into());
    c
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn full_flow(versions: &[Version], expected: Version) {
    let mut cfg = client_config();
    cfg.accept_versions = versions.to_vec();
    let mut p = Pair::new(cfg, ServerConfig::default());
    match p.client_events.remove(0) {
        ClientEvent::Connected {
            version,
            session,
            server,
            ..
        } => {
            assert_eq!(version, expected);
            assert_eq!(session.as_deref(), Some(p.server.session_id()));
            assert!(server.unwrap().starts_with("duplex/"));
        }
        e => panic!("expected Connected, got {e:?}"),
    }
    match p.server_events.remove(0) {
        ServerEvent::Connected {
            principal,
            version,
            host,
            ..
        } => {
            assert_eq!(principal, "guest");
            assert_eq!(version, expected);
            assert_eq!(host.as_deref(), Some("localhost"));
        }
        e => panic!("expected Connected, got {e:?}"),
    }

    let sub = p
        .client
        .subscribe("/queue/a", AckMode::ClientIndividual, &[])
        .unwrap();
    p.drive();
    let (sid, ack_mode) = match p.server_events.remove(0) {
        ServerEvent::Subscribe {
            id,
            destination,
            ack,
            receipt,
            ..
        } => {
            assert_eq!(destination, "/queue/a");
            assert_eq!(receipt, None);
            (id, ack)
        }
        e => panic!("expected Subscribe, got {e:?}"),
    };
    assert_eq!(sid, sub);
    assert_eq!(ack_mode, AckMode::ClientIndividual);

    let body = &b"hello\0world"[..];
    // 1.0 has no escaping: a header value holding LF cannot be sent.
    let user_value = if expected == Version::V1_0 {
        assert!(p
            .client
            .send("/queue/a", body, &[("x-user", "a\nb")], true)
            .is_err());
        "a:b c"
    } else {
        "a:b\nc\\"
    };
    let rid = p
        .client
        .send("/queue/a", body, &[("x-user", user_value)], true)
        .unwrap()
        .unwrap();
    p.drive();
    // The broker: route SEND to the subscriber, then confirm with RECEIPT.
    match p.server_events.remove(0) {
        ServerEvent::Send {
            destination,
            transaction,
            receipt,
            frame,
        } => {
            assert_eq!(destination, "/queue/a");
            assert_eq!(transaction, None);
            assert_eq!(receipt.as_ref(), Some(&rid));
            assert_eq!(&frame.body[..], body);
            let user: Vec<(&str, &str)> = frame
                .headers
                .iter()
                .filter(|(n, _)| n.starts_with("x-"))
                .collect();
            p.server
                .send_message(&sid, &destination, "m-1", None, &user, frame.body.clone())
                .unwrap();
            p.server.send_receipt(&receipt.unwrap()).unwrap();
        }
        e => panic!("expected Send, got {e:?}"),
    }
    p.drive();
    let msg = match p.client_events.remove(0) {
        ClientEvent::Message(m) => m,
        e => panic!("expected Message, got {e:?}"),
    };
    assert_eq!(msg.subscription, sub);
    assert_eq!(&msg.body()[..], body);
    assert_eq!(msg.destination(), Some("/queue/a"));
    assert_eq!(msg.message_id(), Some("m-1"));
    assert_eq!(msg.frame.get("x-user"), Some(user_value));
    assert_eq!(p.client_events.remove(0), ClientEvent::Receipt(rid));

    p.client.ack(&msg, None).unwrap();
    p.drive();
    match p.server_events.remove(0) {
        ServerEvent::Ack(a) => {
            assert_eq!(a.id, "m-1");
            let expect_sub = (expected == Version::V1_1).then(|| sub.clone());
            assert_eq!(a.subscription, expect_sub);
        }
        e => panic!("expected Ack, got {e:?}"),
    }

    p.client.disconnect().unwrap();
    assert!(
        p.client.send("/q", "x", &[], false).is_err(),
        "nothing after DISCONNECT"
    );
    p.drive();
    let r = match p.server_events.remove(0) {
        ServerEvent::Disconnect { receipt } => receipt.unwrap(),
        e => panic!("expected Disconnect, got {e:?}"),
    };
    assert!(!p.client.is_closed(), "client waits for the RECEIPT");
    p.server.send_receipt(&r).unwrap();
    p.drive();
    assert_eq!(
        p.client_events,
        [ClientEvent::Receipt(r), ClientEvent::Closed]
    );
    assert_eq!(p.server_events, [ServerEvent::Closed]);
    assert!(p.client.is_closed() && p.server.is_closed());
    assert_eq!(p.client.poll_timeout(), None);
}

#[test]
fn stomp_connect_subscribe_send_message_ack_receipt_disconnect_1_2() {
    full_flow(&[], Version::V1_2);
}

#[test]
fn stomp_same_flow_on_1_1_uses_message_id_and_subscription() {
    full_flow(&[Version::V1_0, Version::V1_1], Version::V1_1);
}

#[test]
fn stomp_same_flow_on_1_0() {
    full_flow(&[Version::V1_0], Version::V1_0);
}

#[test]
fn stomp_transactions_left_open_are_aborted_on_disconnect() {
    let mut p = Pair::new(client_config(), ServerConfig::default());
    p.server_events.clear();
    let tx = p.client.begin().unwrap();
    let tx2 = p.client.begin().unwrap();
    p.client
        .send("/q", "x", &[("transaction", tx.as_str())], false)
        .unwrap();
    p.client.commit(&tx2).unwrap();
    assert!(p.client.commit(&tx2).is_err(), "already committed");
    p.drive();
    assert!(
        matches!(&p.server_events[0], ServerEvent::Begin { transaction, .. } if *transaction == tx)
    );
    assert!(
        matches!(&p.server_events[2], ServerEvent::Send { transaction: Some(t), .. } if *t == tx)
    );
    assert!(
        matches!(&p.server_events[3], ServerEvent::Commit { transaction, .. } if *transaction == tx2)
    );
    p.server_events.clear();
    p.client.disconnect().unwrap();
    p.drive();
    assert_eq!(
        p.server_events[0],
        ServerEvent::TransactionsAborted(vec![tx])
    );
    assert!(matches!(
        p.server_events[1],
        ServerEvent::Disconnect { receipt: Some(_) }
    ));
}

#[test]
fn stomp_disconnect_gives_up_waiting_for_receipt_after_timeout() {
    let mut cfg = client_config();
    cfg.disconnect_timeout = ms(500);
    let mut p = Pair::new(cfg, ServerConfig::default());
    p.client_events.clear();
    let t0 = p.now;
    p.client.disconnect().unwrap();
    p.drive(); // the broker never sends the receipt
    assert_eq!(p.client.poll_timeout(), Some(t0 + ms(500)));
    p.advance_to(t0 + (ms(500) - Duration::from_nanos(1)));
    assert!(!p.client.is_closed());
    p.advance_to(t0 + ms(500));
    assert_eq!(p.client_events, [ClientEvent::Closed]);
}

#[test]
fn stomp_heart_beats_flow_at_negotiated_intervals_and_timeouts_fire_on_time() {
    let mut cfg = client_config();
    cfg.heart_beat = HeartBeat::from_millis(1000, 3000);
    let server_cfg = ServerConfig {
        heart_beat: HeartBeat::from_millis(2000, 500),
        ..ServerConfig::default()
    };
    let mut p = Pair::new(cfg, server_cfg);
    let t0 = p.now;
    // client→server every max(1000, 500) = 1000 ms; server→client every max(2000, 3000) = 3000 ms.
    assert_eq!(p.client.poll_timeout(), Some(t0 + ms(1000)));
    assert_eq!(
        p.server.poll_timeout(),
        Some(t0 + ms(2000)),
        "server expects within 2×1000"
    );
    p.to_server.clear();
    p.to_client.clear();

    // Early calls are no-ops.
    p.advance_to(t0 + ms(999));
    assert!(p.to_server.is_empty());

    // Run 10 s of virtual time with the link up, jumping from deadline to deadline.
    while let Some(t) = p.next_timeout().filter(|t| *t <= t0 + ms(10_000)) {
        p.advance_to(t);
    }
    let beats = |v: &[(Instant, Vec<u8>)]| -> Vec<u64> {
        v.iter()
            .filter(|(_, b)| b == b"\n")
            .map(|(t, _)| (*t - t0).as_millis() as u64)
            .collect()
    };
    assert_eq!(
        beats(&p.to_server),
        (1..=10).map(|i| i * 1000).collect::<Vec<_>>()
    );
    assert_eq!(beats(&p.to_client), [3000, 6000, 9000]);
    assert!(!p.client_events.contains(&ClientEvent::HeartBeatTimeout));
    assert!(!p.server_events.contains(&ServerEvent::HeartBeatTimeout));

    // The link dies at t0+10 s. Last byte at the server came at 10 s, so it gives up at 12 s;
    // the client last heard the server at 9 s and tolerates 2×3000 ms: it gives up at 15 s.
    p.link_up = false;
    p.server_events.clear();
    p.client_events.clear();
    assert_eq!(p.server.poll_timeout(), Some(t0 + ms(12_000)));
    p.advance_to(t0 + (ms(12_000) - Duration::from_nanos(1)));
    p.advance_to(t0 + ms(11_999));
    assert!(p.server_events.is_empty());
    p.advance_to(t0 + ms(12_000));
    assert_eq!(
        p.server_events,
        [ServerEvent::HeartBeatTimeout, ServerEvent::Closed]
    );
    while let Some(t) = p.client.poll_timeout().filter(|t| *t < t0 + ms(15_000)) {
        p.advance_to(t);
    }
    assert!(p.client_events.is_empty());
    assert_eq!(p.client.poll_timeout(), Some(t0 + ms(15_000)));
    p.advance_to(t0 + ms(15_000));
    assert_eq!(
        p.client_events,
        [ClientEvent::HeartBeatTimeout, ClientEvent::Closed]
    );
    assert!(p.client.send("/q", "x", &[], false).is_err());
}

#[test]
fn stomp_auth_failure_is_an_error_frame_and_close() {
    let mut cfg = client_config();
    cfg.passcode = Some("wrong".into());
    let p = Pair::new(cfg, ServerConfig::default());
    match &p.client_events[..] {
        [ClientEvent::Error(f), ClientEvent::Closed] => {
            assert_eq!(
                f.get("message"),
                Some("authentication failed: bad credentials")
            );
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(p.server.is_closed());
}

#[test]
fn stomp_no_shared_version_is_an_error_listing_ours() {
    let mut cfg = client_config();
    cfg.accept_versions = vec![Version::V1_0];
    let server = ServerConfig {
        versions: vec![Version::V1_1, Version::V1_2],
        ..ServerConfig::default()
    };
    let p = Pair::new(cfg, server);
    match &p.client_events[..] {
        [ClientEvent::Error(f), ClientEvent::Closed] => {
            assert_eq!(f.get("version"), Some("1.1,1.2"));
            assert_eq!(&f.body[..], b"Supported protocol versions are 1.1 1.2");
        }
        e => panic!("unexpected {e:?}"),
    }
}

#[test]
fn stomp_misuse_is_a_local_error() {
    let mut c = ClientSession::new(Instant::ZERO, client_config()).unwrap();
    assert!(c.send("/q", "x", &[], false).is_err(), "not connected yet");
    assert!(c.subscribe("/q", AckMode::Auto, &[]).is_err());
    let mut p = Pair::new(client_config(), ServerConfig::default());
    let sub = p.client.subscribe("/q", AckMode::Auto, &[]).unwrap();
    p.drive();
    p.server
        .send_message(&sub, "/q", "m-9", None, &[], "hi")
        .unwrap();
    p.drive();
    let msg = p
        .client_events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Message(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        p.client.ack(&msg, None).is_err(),
        "auto subscriptions take no ACK"
    );
    assert!(p.client.unsubscribe(&"nope".into()).is_err());
    assert!(p
        .server
        .send_message(&"nope".into(), "/q", "m", None, &[], "x")
        .is_err());
    p.client.unsubscribe(&sub).unwrap();
    assert!(p.client.unsubscribe(&sub).is_err());
}
