//! Topic fan-out, wildcards, pass-through headers, message ids and receipt ordering.

#[path = "broker_harness.rs"]
mod harness;

use duplex_core::broker::BrokerConfig;
use duplex_core::stomp::{AckMode, ClientEvent};
use harness::Net;
use std::collections::HashSet;

#[test]
fn broker_topic_fans_out_to_every_matching_subscriber_with_wildcards() {
    let mut net = Net::new(BrokerConfig::default());
    let patterns = [
        "/topic/chat/lobby",
        "/topic/chat/*",
        "/topic/**",
        "/topic/chat/**",
        "/topic/news/*",
        "/topic/chat/l*y",
    ];
    let mut subscribers = Vec::new();
    for round in 0..5 {
        for (k, p) in patterns.iter().enumerate() {
            let i = net.connect(&format!("user{round}-{k}"));
            net.c(i).subscribe(p, AckMode::Auto, &[]).unwrap();
            subscribers.push((i, *p));
        }
    }
    net.drive();
    let sender = net.connect("sender");
    net.c(sender)
        .send("/topic/chat/lobby", "hello", &[("x-trace", "7")], false)
        .unwrap();
    net.drive();
    let mut ids = HashSet::new();
    for (i, p) in subscribers {
        let msgs = net.messages(i);
        if p == "/topic/news/*" {
            assert!(msgs.is_empty(), "{p} must not match");
            continue;
        }
        assert_eq!(msgs.len(), 1, "{p} gets exactly one copy");
        let m = &msgs[0];
        assert_eq!(m.body().as_ref(), b"hello");
        assert_eq!(m.destination(), Some("/topic/chat/lobby"));
        assert_eq!(
            m.frame.get("x-trace"),
            Some("7"),
            "user headers pass through"
        );
        assert!(
            ids.insert(m.message_id().unwrap().to_owned()),
            "message ids unique"
        );
    }
    assert_eq!(net.broker.stats().messages_in, 1);
    assert_eq!(net.broker.stats().messages_out, 25);
}

#[test]
fn broker_unsubscribed_and_closed_subscribers_get_nothing() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    let b = net.connect("b");
    let sub = net.c(a).subscribe("/topic/t", AckMode::Auto, &[]).unwrap();
    net.c(b).subscribe("/topic/t", AckMode::Auto, &[]).unwrap();
    net.drive();
    net.c(a).unsubscribe(&sub).unwrap();
    net.c(b).disconnect().unwrap();
    net.drive();
    net.broker.publish(net.now, "/topic/t", &[], "x").unwrap();
    net.drive();
    assert!(net.messages(a).is_empty());
    assert!(net.messages(b).is_empty());
    assert!(net.clients[b].session.is_closed());
    assert_eq!(net.broker.stats().connections, 1);
}

#[test]
fn broker_message_ids_unique_across_destinations_and_redeliveries() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    let b = net.connect("b");
    net.c(a).subscribe("/topic/**", AckMode::Auto, &[]).unwrap();
    net.c(b)
        .subscribe("/queue/q", AckMode::ClientIndividual, &[])
        .unwrap();
    net.drive();
    net.send_n(a, "/topic/x", "t", 20);
    net.send_n(a, "/queue/q", "q", 20);
    let mut ids = HashSet::new();
    for m in net.messages(a) {
        assert!(ids.insert(m.message_id().unwrap().to_owned()));
    }
    for m in net.messages(b) {
        net.c(b).nack(&m, None).unwrap();
        assert!(ids.insert(m.message_id().unwrap().to_owned()));
    }
    net.drive();
    let again = net.messages(b);
    assert_eq!(again.len(), 20);
    for m in again {
        assert_eq!(m.frame.get("redelivered"), Some("true"));
        assert!(ids.insert(m.message_id().unwrap().to_owned()));
    }
}

#[test]
fn broker_receipt_for_subscribe_means_registered() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    let b = net.connect("b");
    net.c(a)
        .subscribe("/topic/t", AckMode::Auto, &[("receipt", "r-sub")])
        .unwrap();
    // Deliver bytes one hop at a time: once A holds the RECEIPT, B sends.
    net.drive();
    assert_eq!(
        net.receipts(a),
        [duplex_core::stomp::ReceiptId::from("r-sub")]
    );
    net.c(b).send("/topic/t", "right after", &[], true).unwrap();
    net.drive();
    assert_eq!(net.bodies(a), ["right after"]);
    assert_eq!(net.receipts(b).len(), 1);
}

#[test]
fn broker_receipt_follows_the_messages_it_caused() {
    // A SEND with a receipt to a topic the sender itself listens to: MESSAGE, then RECEIPT.
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    net.c(a).subscribe("/topic/t", AckMode::Auto, &[]).unwrap();
    net.drive();
    net.c(a).send("/topic/t", "m", &[], true).unwrap();
    net.drive();
    let kinds: Vec<&str> = net.clients[a]
        .events
        .iter()
        .map(|e| match e {
            ClientEvent::Message(_) => "message",
            ClientEvent::Receipt(_) => "receipt",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["message", "receipt"]);
}

#[test]
fn broker_dot_separated_wildcards() {
    let config = BrokerConfig {
        path_separator: '.',
        ..BrokerConfig::default()
    };
    let mut net = Net::new(config);
    let a = net.connect("a");
    net.c(a)
        .subscribe("/topic.stocks.*", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    for d in [
        "/topic.stocks.ACME",
        "/topic.stocks.ACME.eu",
        "/topic.bonds.X",
    ] {
        net.broker.publish(net.now, d, &[], d.to_owned()).unwrap();
    }
    net.drive();
    assert_eq!(net.bodies(a), ["/topic.stocks.ACME"]);
}
