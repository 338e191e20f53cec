//! User destinations, authorization refusals and `/app` handlers.

#[path = "broker_harness.rs"]
mod harness;

use duplex_core::broker::{Authorizer, BrokerConfig, PermitAll};
use duplex_core::stomp::{AckMode, ReceiptId};
use harness::Net;

#[test]
fn broker_user_destination_reaches_only_that_users_sessions() {
    let mut net = Net::new(BrokerConfig::default());
    let alice1 = net.connect("alice");
    let alice2 = net.connect("alice");
    let bob = net.connect("bob");
    for i in [alice1, alice2, bob] {
        net.c(i)
            .subscribe("/user/queue/ticks", AckMode::Auto, &[])
            .unwrap();
    }
    // Bob also tries the explicit form of Alice's destination: it resolves to his own.
    net.c(bob)
        .subscribe("/user/alice/queue/ticks", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    net.broker
        .send_to_user(net.now, "alice", "/queue/ticks", &[], "for alice");
    net.drive();
    for i in [alice1, alice2] {
        let m = net.messages(i);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].destination(), Some("/user/queue/ticks"));
        assert_eq!(m[0].body().as_ref(), b"for alice");
    }
    assert!(net.messages(bob).is_empty());
}

#[test]
fn broker_client_may_send_to_own_user_destination_not_anothers() {
    let mut net = Net::new(BrokerConfig::default());
    let alice = net.connect("alice");
    let bob = net.connect("bob");
    net.c(alice)
        .subscribe("/user/queue/inbox", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    net.c(alice)
        .send("/user/alice/queue/inbox", "note to self", &[], false)
        .unwrap();
    net.drive();
    assert_eq!(net.bodies(alice), ["note to self"]);
    let r = net
        .c(bob)
        .send("/user/alice/queue/inbox", "spoof", &[], true)
        .unwrap()
        .unwrap();
    net.drive();
    let e = net.error(bob).expect("ERROR for bob");
    assert_eq!(e.get("receipt-id"), Some(r.as_str()));
    assert!(e.get("message").unwrap().contains("not authorized"));
    assert!(net.clients[bob].session.is_closed());
    assert!(net.clients[bob].transport_closed);
    assert!(net.messages(alice).is_empty());
    assert!(net.broker.is_open(net.clients[alice].conn));
}

#[test]
fn broker_permit_all_lets_users_send_to_each_other() {
    let mut net = Net::with_authorizer(BrokerConfig::default(), Box::new(PermitAll));
    let alice = net.connect("alice");
    let bob = net.connect("bob");
    net.c(alice)
        .subscribe("/user/queue/inbox", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    net.c(bob)
        .send("/user/alice/queue/inbox", "hi alice", &[], false)
        .unwrap();
    net.drive();
    assert_eq!(net.bodies(alice), ["hi alice"]);
}

struct NoSecrets;
impl Authorizer for NoSecrets {
    fn can_subscribe(&self, principal: &str, destination: &str) -> bool {
        !destination.starts_with("/topic/secret") || principal == "admin"
    }
    fn can_send(&self, _: &str, destination: &str) -> bool {
        !destination.starts_with("/topic/secret")
    }
}

#[test]
fn broker_authorization_refusal_is_error_and_close_with_receipt() {
    let mut net = Net::with_authorizer(BrokerConfig::default(), Box::new(NoSecrets));
    let admin = net.connect("admin");
    let eve = net.connect("eve");
    net.c(admin)
        .subscribe("/topic/secret", AckMode::Auto, &[("receipt", "ok")])
        .unwrap();
    net.drive();
    assert_eq!(net.receipts(admin), [ReceiptId::from("ok")]);
    net.c(eve)
        .subscribe("/topic/secret", AckMode::Auto, &[("receipt", "r1")])
        .unwrap();
    // Frames after the refused one, in the same burst, are not acted on.
    net.c(eve).send("/topic/open", "late", &[], false).unwrap();
    net.drive();
    let e = net.error(eve).expect("ERROR");
    assert_eq!(e.get("receipt-id"), Some("r1"));
    assert!(
        net.receipts(eve).is_empty(),
        "no RECEIPT for a refused frame"
    );
    assert!(net.clients[eve].transport_closed);
    assert!(!net.broker.is_open(net.clients[eve].conn));
    assert_eq!(net.broker.stats().messages_in, 0);
}

#[test]
fn broker_unknown_destination_is_refused() {
    let mut net = Net::new(BrokerConfig::default());
    let a = net.connect("a");
    net.c(a).send("/exchange/x", "?", &[], false).unwrap();
    net.drive();
    assert!(net
        .error(a)
        .unwrap()
        .get("message")
        .unwrap()
        .contains("no route"));
    let b = net.connect("b");
    net.c(b).subscribe("/app/x", AckMode::Auto, &[]).unwrap();
    net.drive();
    assert!(net.error(b).is_some());
}

#[test]
fn broker_app_handler_with_path_variable_replies_to_topic_and_user() {
    let mut net = Net::new(BrokerConfig::default());
    net.broker
        .register_handler("/app/chat/{room}", |ctx, msg| {
            let room = msg.var("room").unwrap().to_owned();
            let text = String::from_utf8_lossy(msg.body()).into_owned();
            ctx.publish(
                &format!("/topic/chat/{room}"),
                format!("{}: {text}", msg.principal),
            );
            ctx.reply_to_user("/queue/acks", format!("posted to {room}"));
        })
        .unwrap();
    assert!(net.broker.register_handler("/topic/x", |_, _| {}).is_err());
    let alice = net.connect("alice");
    let bob = net.connect("bob");
    for i in [alice, bob] {
        net.c(i)
            .subscribe("/topic/chat/lobby", AckMode::Auto, &[])
            .unwrap();
        net.c(i)
            .subscribe("/user/queue/acks", AckMode::Auto, &[])
            .unwrap();
    }
    net.drive();
    let r = net
        .c(alice)
        .send("/app/chat/lobby", "hi all", &[], true)
        .unwrap()
        .unwrap();
    net.drive();
    let mut alice_got = net.bodies(alice);
    alice_got.sort();
    assert_eq!(alice_got, ["alice: hi all", "posted to lobby"]);
    assert_eq!(net.bodies(bob), ["alice: hi all"]);
    assert_eq!(net.receipts(alice), [r]);
    assert!(net.app.is_empty());
}

#[test]
fn broker_unhandled_app_send_goes_out_for_async_handlers() {
    let mut net = Net::new(BrokerConfig::default());
    let alice = net.connect("alice");
    net.c(alice)
        .subscribe("/user/queue/answers", AckMode::Auto, &[])
        .unwrap();
    net.drive();
    net.c(alice)
        .send("/app/ask", "2+2", &[("x-q", "1")], true)
        .unwrap();
    net.drive();
    assert_eq!(net.receipts(alice).len(), 1, "handed off = acted on");
    let m = net.app.pop().expect("AppMessage");
    assert_eq!(m.principal, "alice");
    assert_eq!(m.destination, "/app/ask");
    assert_eq!(m.header("x-q"), Some("1"));
    // The async handler answers later.
    net.broker
        .send_to_user(net.now, &m.principal, "/queue/answers", &[], "4");
    net.drive();
    assert_eq!(net.bodies(alice), ["4"]);
    assert_eq!(net.broker.stats().app_messages_out, 1);
    assert!(matches!(
        net.broker.publish(net.now, "/app/ask", &[], "x"),
        Err(duplex_core::broker::BrokerError::Unroutable(_))
    ));
}

#[test]
fn broker_reply_to_session_reaches_only_the_sending_session() {
    let mut net = Net::new(BrokerConfig::default());
    net.broker
        .register_handler("/app/echo", |ctx, msg| {
            let ct = msg
                .header("content-type")
                .unwrap_or("text/plain")
                .to_owned();
            ctx.reply_to_session("/queue/echo", &[("content-type", &ct)], msg.body().clone());
        })
        .unwrap();
    // Two sessions of the same user: only the sender gets the echo.
    let a1 = net.connect("alice");
    let a2 = net.connect("alice");
    for i in [a1, a2] {
        net.c(i)
            .subscribe("/user/queue/echo", AckMode::Auto, &[])
            .unwrap();
    }
    net.drive();
    net.c(a2)
        .send(
            "/app/echo",
            "ping",
            &[("content-type", "application/x-test")],
            false,
        )
        .unwrap();
    net.drive();
    let got = net.messages(a2);
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0].frame.body[..], b"ping");
    assert_eq!(got[0].frame.get("content-type"), Some("application/x-test"));
    assert_eq!(got[0].frame.get("destination"), Some("/user/queue/echo"));
    assert!(net.bodies(a1).is_empty());
    // The driver's form, for async handlers.
    let conn = net.clients[a1].conn;
    net.broker
        .send_to_session(net.now, conn, "/queue/echo", &[], "later");
    net.drive();
    assert_eq!(net.bodies(a1), ["later"]);
    assert!(net.bodies(a2).is_empty());
}
