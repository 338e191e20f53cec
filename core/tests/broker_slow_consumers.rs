//! Slow consumers: a session whose transport never takes its bytes. With `Disconnect` it is
//! closed with ERROR; with `DropNewest` messages for it are dropped and counted. Other sessions
//! are never affected and memory stays bounded. Also: sessions that never CONNECT.

#[path = "broker_harness.rs"]
mod harness;

use duplex_core::broker::{BrokerConfig, OutboundLimits, SlowConsumerPolicies, SlowConsumerPolicy};
use duplex_core::stomp::{AckMode, ClientEvent};
use harness::{ms, Net};
use std::time::Duration;

fn config(policy: SlowConsumerPolicy, max_bytes: usize) -> BrokerConfig {
    BrokerConfig {
        outbound: OutboundLimits {
            max_bytes,
            max_age: Duration::from_secs(30),
        },
        slow_consumer: SlowConsumerPolicies::all(policy),
        ..BrokerConfig::default()
    }
}

#[test]
fn broker_slow_consumer_disconnect_policy_closes_with_error() {
    let mut net = Net::new(config(SlowConsumerPolicy::Disconnect, 4096));
    let slow = net.connect("slow");
    let fast = net.connect("fast");
    for i in [slow, fast] {
        net.c(i)
            .subscribe("/topic/feed", AckMode::Auto, &[])
            .unwrap();
    }
    net.drive();
    net.clients[slow].stalled = true;
    let body = "x".repeat(500);
    for _ in 0..100 {
        net.broker
            .publish(net.now, "/topic/feed", &[], body.clone())
            .unwrap();
        net.drive();
        assert!(net.broker.outbound_len(net.clients[slow].conn) < 4096 + 2048);
    }
    assert_eq!(
        net.messages(fast).len(),
        100,
        "the fast session is unaffected"
    );
    assert_eq!(net.broker.stats().slow_consumer_disconnects, 1);
    assert!(!net.broker.is_open(net.clients[slow].conn), "closed");
    // Had the transport flushed, the client would have read the ERROR at the end.
    assert!(net.clients[slow].transport_closed);
}

#[test]
fn broker_slow_consumer_error_frame_says_why() {
    let mut net = Net::new(config(SlowConsumerPolicy::Disconnect, 1000));
    let slow = net.connect("slow");
    net.c(slow)
        .subscribe("/topic/feed", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    net.clients[slow].stalled = true;
    let conn = net.clients[slow].conn;
    for _ in 0..10 {
        net.broker
            .publish(net.now, "/topic/feed", &[], "y".repeat(300))
            .unwrap();
    }
    // Read what is left before the transport goes (the driver flushes, then closes).
    let bytes = net.broker.take_transmit(conn).unwrap();
    net.clients[slow].session.handle_input(net.now, &bytes);
    let events: Vec<ClientEvent> =
        std::iter::from_fn(|| net.clients[slow].session.poll_event()).collect();
    let error = events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Error(f) => Some(f),
            _ => None,
        })
        .expect("ERROR after the queued messages");
    assert_eq!(
        error.get("message"),
        Some("slow consumer: outbound queue over 1000 bytes")
    );
}

#[test]
fn broker_slow_consumer_drop_newest_policy_drops_and_counts() {
    let mut net = Net::new(config(SlowConsumerPolicy::DropNewest, 4096));
    let slow = net.connect("slow");
    let fast = net.connect("fast");
    for i in [slow, fast] {
        net.c(i)
            .subscribe("/topic/feed", AckMode::Auto, &[])
            .unwrap();
    }
    net.drive();
    net.clients[slow].stalled = true;
    let body = "x".repeat(500);
    for _ in 0..100 {
        net.broker
            .publish(net.now, "/topic/feed", &[], body.clone())
            .unwrap();
        // The fast transport takes its bytes after every message.
        net.drive();
    }
    let conn = net.clients[slow].conn;
    assert!(
        net.broker.outbound_len(conn) <= 4096 + 1024,
        "memory bounded"
    );
    assert!(net.broker.is_open(conn));
    assert_eq!(net.messages(fast).len(), 100);
    let dropped = net.broker.stats().slow_consumer_drops;
    net.unstall(slow);
    let got = net.messages(slow).len() as u64;
    assert!(got > 0 && got < 100);
    assert_eq!(got + dropped, 100, "every message delivered or counted");
    assert_eq!(net.broker.stats().dropped, dropped);
    // Caught up: it receives again.
    net.broker
        .publish(net.now, "/topic/feed", &[], "again")
        .unwrap();
    net.drive();
    assert_eq!(net.bodies(slow), ["again"]);
}

#[test]
fn broker_slow_consumer_by_age() {
    let mut net = Net::new(BrokerConfig {
        outbound: OutboundLimits {
            max_bytes: 1 << 20,
            max_age: Duration::from_secs(5),
        },
        slow_consumer: SlowConsumerPolicies::all(SlowConsumerPolicy::Disconnect),
        ..BrokerConfig::default()
    });
    let slow = net.connect("slow");
    net.c(slow)
        .subscribe("/topic/t", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    net.clients[slow].stalled = true;
    net.broker.publish(net.now, "/topic/t", &[], "a").unwrap();
    net.advance(ms(4_000));
    net.broker.publish(net.now, "/topic/t", &[], "b").unwrap();
    net.drive();
    assert!(net.broker.is_open(net.clients[slow].conn), "4 s old: fine");
    net.advance(ms(2_000));
    net.broker.publish(net.now, "/topic/t", &[], "c").unwrap();
    net.drive();
    assert!(!net.broker.is_open(net.clients[slow].conn), "6 s old: slow");
}

#[test]
fn broker_slow_queue_consumer_is_skipped_not_robbed() {
    let mut net = Net::new(config(SlowConsumerPolicy::DropNewest, 2000));
    let slow = net.connect("slow");
    let fast = net.connect("fast");
    for i in [slow, fast] {
        net.c(i)
            .subscribe("/queue/jobs", AckMode::Auto, &[])
            .unwrap();
    }
    net.drive();
    net.clients[slow].stalled = true;
    for k in 0..40 {
        net.broker
            .publish(net.now, "/queue/jobs", &[], format!("{k:0>400}"))
            .unwrap();
        net.drive();
    }
    let fast_got = net.messages(fast).len();
    net.unstall(slow);
    let slow_got = net.messages(slow).len();
    assert_eq!(fast_got + slow_got, 40, "no queue message lost");
    assert!(fast_got > slow_got);
    assert_eq!(net.broker.stats().dropped, 0);
}

#[test]
fn broker_session_without_connect_is_closed_by_timeout() {
    let mut net = Net::new(BrokerConfig::default());
    let conn = duplex_core::broker::ConnId(999);
    net.broker.open(net.now, conn).unwrap();
    assert!(net.broker.open(net.now, conn).is_err());
    let deadline = net.broker.poll_timeout().unwrap();
    net.now = deadline;
    net.broker.handle_timeout(deadline);
    let mut closed = false;
    while let Some(out) = net.broker.poll_output() {
        if out == duplex_core::broker::Output::Close(conn) {
            closed = true;
        }
    }
    assert!(closed);
    let bytes = net.broker.take_transmit(conn).unwrap();
    assert!(bytes.starts_with(b"ERROR\n"));
    net.broker.handle_closed(net.now, conn);
    assert_eq!(net.broker.stats().connections, 0);
}

#[test]
fn broker_garbage_gets_error_and_close() {
    let mut net = Net::new(BrokerConfig::default());
    let conn = duplex_core::broker::ConnId(7);
    net.broker.open(net.now, conn).unwrap();
    net.broker.handle_input(net.now, conn, b"HELLO\n\n\0");
    let outs: Vec<_> = std::iter::from_fn(|| net.broker.poll_output()).collect();
    assert!(outs.contains(&duplex_core::broker::Output::Close(conn)));
    assert!(net
        .broker
        .take_transmit(conn)
        .unwrap()
        .starts_with(b"ERROR\n"));
}

#[test]
fn broker_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<duplex_core::broker::Broker>();
}
