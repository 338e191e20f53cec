//! Transactions: SEND and ACK held until COMMIT, discarded on ABORT or disconnect.

#[path = "broker_harness.rs"]
mod harness;

use duplex_core::broker::BrokerConfig;
use duplex_core::stomp::AckMode;
use harness::Net;

#[test]
fn broker_transaction_delivers_nothing_before_commit() {
    let mut net = Net::new(BrokerConfig::default());
    let sub = net.connect("sub");
    net.c(sub)
        .subscribe("/topic/t", AckMode::Auto, &[])
        .unwrap();
    net.c(sub)
        .subscribe("/queue/q", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    let p = net.connect("p");
    let tx = net.c(p).begin().unwrap();
    net.c(p)
        .send("/topic/t", "one", &[("transaction", tx.as_str())], true)
        .unwrap();
    net.c(p)
        .send("/queue/q", "two", &[("transaction", tx.as_str())], false)
        .unwrap();
    net.drive();
    assert!(net.messages(sub).is_empty());
    assert_eq!(net.receipts(p).len(), 1, "buffering is acting on it");
    net.c(p).commit(&tx).unwrap();
    net.drive();
    assert_eq!(net.bodies(sub), ["one", "two"], "applied in order");
}

#[test]
fn broker_abort_and_disconnect_discard_the_transaction() {
    let mut net = Net::new(BrokerConfig::default());
    let sub = net.connect("sub");
    net.c(sub)
        .subscribe("/topic/t", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    let p = net.connect("p");
    let tx = net.c(p).begin().unwrap();
    net.c(p)
        .send(
            "/topic/t",
            "aborted",
            &[("transaction", tx.as_str())],
            false,
        )
        .unwrap();
    net.c(p).abort(&tx).unwrap();
    let tx2 = net.c(p).begin().unwrap();
    net.c(p)
        .send(
            "/topic/t",
            "never committed",
            &[("transaction", tx2.as_str())],
            false,
        )
        .unwrap();
    net.c(p).disconnect().unwrap();
    net.drive();
    assert!(net.messages(sub).is_empty());
    assert_eq!(net.broker.stats().messages_in, 0);
}

#[test]
fn broker_transactional_ack_and_nack_apply_at_commit() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    net.c(a)
        .subscribe("/queue/q", AckMode::ClientIndividual, &[])
        .unwrap();
    net.drive();
    net.broker.publish(net.now, "/queue/q", &[], "x").unwrap();
    net.drive();
    let m = net.messages(a).pop().unwrap();
    let tx = net.c(a).begin().unwrap();
    net.c(a).nack(&m, Some(&tx)).unwrap();
    net.drive();
    assert!(net.messages(a).is_empty(), "NACK held until COMMIT");
    net.c(a).commit(&tx).unwrap();
    net.drive();
    let again = net.messages(a).pop().expect("redelivered after COMMIT");
    assert_eq!(again.frame.get("redelivered"), Some("true"));
    // An aborted ACK leaves the message unacked: closing gives it back.
    let tx = net.c(a).begin().unwrap();
    net.c(a).ack(&again, Some(&tx)).unwrap();
    net.c(a).abort(&tx).unwrap();
    net.drive();
    let b = net.connect("b");
    net.c(b).subscribe("/queue/q", AckMode::Auto, &[]).unwrap();
    net.drive();
    net.c(a).disconnect().unwrap();
    net.drive();
    assert_eq!(net.bodies(b), ["x"]);
}

#[test]
fn broker_transaction_frame_limit() {
    let config = BrokerConfig {
        max_transaction_frames: 3,
        ..BrokerConfig::default()
    };
    let mut net = Net::new(config);
    let p = net.connect("p");
    let tx = net.c(p).begin().unwrap();
    for k in 0..4 {
        net.c(p)
            .send(
                "/topic/t",
                format!("{k}"),
                &[("transaction", tx.as_str())],
                false,
            )
            .unwrap();
    }
    net.drive();
    assert!(net
        .error(p)
        .unwrap()
        .get("message")
        .unwrap()
        .contains("more than 3"));
    assert!(net.clients[p].transport_closed);
}
