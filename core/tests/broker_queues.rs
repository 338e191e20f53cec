//! Point-to-point queues: round-robin, ACK/NACK, redelivery and its limit, disconnect,
//! cumulative `client` ACK, messages waiting for a consumer, prefetch.

#[path = "broker_harness.rs"]
mod harness;

use duplex_core::broker::BrokerConfig;
use duplex_core::stomp::AckMode;
use harness::Net;

#[test]
fn broker_queue_round_robin_each_message_once() {
    let mut net = Net::new(BrokerConfig::default());
    let consumers: Vec<usize> = (0..3).map(|k| net.connect(&format!("c{k}"))).collect();
    for &c in &consumers {
        net.c(c)
            .subscribe("/queue/work", AckMode::Auto, &[])
            .unwrap();
    }
    net.drive();
    let p = net.connect("producer");
    net.send_n(p, "/queue/work", "job", 9);
    let got: Vec<Vec<String>> = consumers.iter().map(|&c| net.bodies(c)).collect();
    assert_eq!(got[0], ["job0", "job3", "job6"]);
    assert_eq!(got[1], ["job1", "job4", "job7"]);
    assert_eq!(got[2], ["job2", "job5", "job8"]);
}

#[test]
fn broker_queue_keeps_messages_until_someone_subscribes() {
    let config = BrokerConfig {
        max_queue_depth: 3,
        ..BrokerConfig::default()
    };
    let mut net = Net::new(config);
    let p = net.connect("producer");
    net.send_n(p, "/queue/later", "m", 5);
    assert_eq!(net.broker.stats().queue_overflow, 2);
    assert_eq!(net.broker.stats().dropped, 2);
    let c = net.connect("consumer");
    net.c(c)
        .subscribe("/queue/later", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    assert_eq!(net.bodies(c), ["m0", "m1", "m2"]);
}

#[test]
fn broker_nack_redelivers_to_the_other_consumer_marked_redelivered() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    let b = net.connect("b");
    net.c(a)
        .subscribe("/queue/q", AckMode::ClientIndividual, &[])
        .unwrap();
    net.c(b)
        .subscribe("/queue/q", AckMode::ClientIndividual, &[])
        .unwrap();
    net.drive();
    net.broker
        .publish(net.now, "/queue/q", &[], "only")
        .unwrap();
    net.drive();
    let m = net.messages(a).pop().expect("a gets it first");
    assert!(
        m.ack_id().is_some(),
        "1.2 client-individual MESSAGE has an ack header"
    );
    assert_eq!(m.frame.get("redelivered"), None);
    net.c(a).nack(&m, None).unwrap();
    net.drive();
    assert!(net.messages(a).is_empty());
    let again = net.messages(b).pop().expect("b gets the redelivery");
    assert_eq!(again.body().as_ref(), b"only");
    assert_eq!(again.frame.get("redelivered"), Some("true"));
    assert_ne!(again.message_id(), m.message_id());
    net.c(b).ack(&again, None).unwrap();
    net.drive();
    assert_eq!(net.broker.stats().redeliveries, 1);
    // Acked: a closing consumer gives nothing back.
    net.c(b).disconnect().unwrap();
    net.drive();
    assert!(net.messages(a).is_empty());
}

#[test]
fn broker_redelivery_limit_drops_and_counts() {
    let config = BrokerConfig {
        redelivery_limit: 2,
        ..BrokerConfig::default()
    };
    let mut net = Net::new(config);
    let a = net.connect("a");
    net.c(a)
        .subscribe("/queue/poison", AckMode::ClientIndividual, &[])
        .unwrap();
    net.drive();
    net.broker
        .publish(net.now, "/queue/poison", &[], "bad")
        .unwrap();
    net.drive();
    let mut deliveries = 0;
    while let Some(m) = net.messages(a).pop() {
        deliveries += 1;
        net.c(a).nack(&m, None).unwrap();
        net.drive();
        assert!(deliveries < 10, "must stop");
    }
    assert_eq!(deliveries, 3, "first delivery + 2 redeliveries");
    let s = net.broker.stats();
    assert_eq!(
        (s.redeliveries, s.redelivery_exhausted, s.dropped),
        (2, 1, 1)
    );
}

#[test]
fn broker_closed_consumer_unacked_messages_go_to_another() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    let b = net.connect("b");
    net.c(a)
        .subscribe("/queue/q", AckMode::Client, &[])
        .unwrap();
    net.drive();
    net.broker.publish(net.now, "/queue/q", &[], "1").unwrap();
    net.broker.publish(net.now, "/queue/q", &[], "2").unwrap();
    net.drive();
    assert_eq!(net.bodies(a), ["1", "2"]);
    net.c(b).subscribe("/queue/q", AckMode::Auto, &[]).unwrap();
    net.drive();
    // The transport of A drops without DISCONNECT.
    let conn = net.clients[a].conn;
    net.broker.handle_closed(net.now, conn);
    net.clients[a].transport_closed = true;
    net.drive();
    let got = net.messages(b);
    let bodies: Vec<&[u8]> = got.iter().map(|m| m.body().as_ref()).collect();
    assert_eq!(bodies, [b"1", b"2"], "order kept");
    assert!(got
        .iter()
        .all(|m| m.frame.get("redelivered") == Some("true")));
}

#[test]
fn broker_client_ack_is_cumulative() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    net.c(a)
        .subscribe("/queue/q", AckMode::Client, &[])
        .unwrap();
    net.drive();
    let p = net.connect("p");
    net.send_n(p, "/queue/q", "m", 4);
    let msgs = net.messages(a);
    assert_eq!(msgs.len(), 4);
    // ACK the third: the first three are done, the fourth is still out.
    net.c(a).ack(&msgs[2], None).unwrap();
    net.drive();
    let b = net.connect("b");
    net.c(b).subscribe("/queue/q", AckMode::Auto, &[]).unwrap();
    net.drive();
    net.c(a).disconnect().unwrap();
    net.drive();
    assert_eq!(net.bodies(b), ["m3"], "only the unacked fourth comes back");
}

#[test]
fn broker_client_individual_ack_is_not_cumulative() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    net.c(a)
        .subscribe("/queue/q", AckMode::ClientIndividual, &[])
        .unwrap();
    net.drive();
    let p = net.connect("p");
    net.send_n(p, "/queue/q", "m", 3);
    let msgs = net.messages(a);
    net.c(a).ack(&msgs[1], None).unwrap();
    net.drive();
    let b = net.connect("b");
    net.c(b).subscribe("/queue/q", AckMode::Auto, &[]).unwrap();
    net.drive();
    net.c(a).disconnect().unwrap();
    net.drive();
    assert_eq!(net.bodies(b), ["m0", "m2"]);
}

#[test]
fn broker_prefetch_limit_skips_a_full_consumer() {
    let config = BrokerConfig {
        max_unacked_per_subscription: 2,
        ..BrokerConfig::default()
    };
    let mut net = Net::new(config);
    let a = net.connect("a");
    net.c(a)
        .subscribe("/queue/q", AckMode::ClientIndividual, &[])
        .unwrap();
    net.drive();
    let p = net.connect("p");
    net.send_n(p, "/queue/q", "m", 5);
    let first = net.messages(a);
    assert_eq!(first.len(), 2, "held at the prefetch limit");
    net.c(a).ack(&first[0], None).unwrap();
    net.drive();
    assert_eq!(net.bodies(a), ["m2"], "one slot freed, one more message");
}

#[test]
fn broker_queue_subscription_with_wildcard_is_refused() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    net.c(a).subscribe("/queue/*", AckMode::Auto, &[]).unwrap();
    net.drive();
    let e = net.error(a).expect("ERROR");
    assert!(e.get("message").unwrap().contains("wildcards"));
    assert!(net.clients[a].transport_closed);
}
