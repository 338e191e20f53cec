//! Runs the STOMP client through a fixed scenario against a real broker (RabbitMQ, or our own
//! `duplex` server): connect with heart-beats, subscribe, send with receipts, receive,
//! client-individual ACK and NACK (redelivery), a transaction, heart-beats held through silence,
//! and a graceful disconnect. Prints one line per step; exit status 0 when all pass.
//!
//! `stomp-interop --tcp 127.0.0.1:61613 | --ws ws://127.0.0.1:15674/ws [--host /] [--login guest
//! --passcode guest] [--hold-secs 10] [--queue-prefix /queue/]`

use std::time::Duration;

use duplex_examples::{fail, Args};
use duplex_tokio::duplex_core::stomp::{AckMode, ClientConfig, ClientEvent, HeartBeat, Message};
use duplex_tokio::stomp::{StompClient, StompError};

const USAGE: &str = "usage: stomp-interop (--tcp HOST:PORT | --ws URL) [--host VHOST] [--login L --passcode P] [--hold-secs N] [--queue-prefix /queue/] [--topic-prefix /topic/]";

fn main() {
    let args = Args::parse(USAGE);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(&args)) {
        Ok(()) => println!("stomp-interop: all steps OK"),
        Err(why) => {
            println!("stomp-interop: FAILED: {why}");
            std::process::exit(1);
        }
    }
}

async fn connect(args: &Args) -> Result<StompClient, String> {
    let mut config = ClientConfig::new(args.get_or("host", "/"));
    config.login = args.get("login");
    config.passcode = args.get("passcode");
    config.heart_beat = HeartBeat {
        can_send: Duration::from_millis(1000),
        want_receive: Duration::from_millis(1000),
    };
    let client = match (args.get("tcp"), args.get("ws")) {
        (Some(addr), None) => StompClient::connect_tcp(&addr, config).await,
        (None, Some(url)) => StompClient::connect_ws(&url, config).await,
        _ => fail(USAGE, "give exactly one of --tcp and --ws"),
    };
    client.map_err(|e| format!("connect: {e}"))
}

fn step(name: &str) {
    println!("  ok: {name}");
}

/// The next MESSAGE, within `within`.
async fn next_message(
    client: &mut StompClient,
    within: Duration,
) -> Result<Option<Message>, String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, client.next_event()).await {
            Err(_) => return Ok(None),
            Ok(Ok(Some(ClientEvent::Message(m)))) => return Ok(Some(m)),
            Ok(Ok(Some(ClientEvent::Receipt(_)))) => continue,
            Ok(Ok(Some(other))) => return Err(format!("unexpected event {other:?}")),
            Ok(Ok(None)) => return Err("session closed".into()),
            Ok(Err(e)) => return Err(e.to_string()),
        }
    }
}

async fn expect_body(client: &mut StompClient, body: &str) -> Result<Message, String> {
    match next_message(client, Duration::from_secs(5)).await? {
        Some(m) if m.body() == body.as_bytes() => Ok(m),
        Some(m) => Err(format!(
            "expected {body:?}, got {:?}",
            String::from_utf8_lossy(m.body())
        )),
        None => Err(format!("no message {body:?} within 5 s")),
    }
}

fn e(err: StompError) -> String {
    err.to_string()
}

async fn run(args: &Args) -> Result<(), String> {
    let hold = Duration::from_secs(args.get_or("hold-secs", "10").parse().unwrap_or(10));
    let tag = std::process::id();
    let queue = format!(
        "{}duplex-interop-{tag}",
        args.get_or("queue-prefix", "/queue/")
    );
    let topic = format!(
        "{}duplex-interop-{tag}",
        args.get_or("topic-prefix", "/topic/")
    );

    let mut c = connect(args).await?;
    let hb = c.session().negotiated_heart_beat();
    if hb.send_every.is_none() || hb.expect_every.is_none() {
        return Err(format!("heart-beats not negotiated both ways: {hb:?}"));
    }
    step(&format!(
        "connect (STOMP {:?}, heart-beats {hb:?})",
        c.session().version()
    ));

    // Topic: subscribe, send with a receipt, receive.
    let sub = c.subscribe(&topic, AckMode::Auto, &[]).await.map_err(e)?;
    let r = c
        .send(&topic, "hello topic", &[], true)
        .await
        .map_err(e)?
        .expect("receipt id");
    c.wait_receipt(&r).await.map_err(e)?;
    step("send with receipt");
    expect_body(&mut c, "hello topic").await?;
    step("topic subscribe/receive");
    c.unsubscribe(&sub).await.map_err(e)?;

    // Queue with client-individual acks: ACK one, NACK one (redelivered), ACK the rest.
    c.subscribe(
        &queue,
        AckMode::ClientIndividual,
        &[("prefetch-count", "10")],
    )
    .await
    .map_err(e)?;
    for body in ["q1", "q2"] {
        c.send(&queue, body, &[], false).await.map_err(e)?;
    }
    let m1 = expect_body(&mut c, "q1").await?;
    let m2 = expect_body(&mut c, "q2").await?;
    c.ack(&m1, None).await.map_err(e)?;
    c.nack(&m2, None).await.map_err(e)?;
    let again = expect_body(&mut c, "q2").await?;
    c.ack(&again, None).await.map_err(e)?;
    step("client-individual ACK, NACK → redelivery");

    // A transaction: nothing arrives before COMMIT.
    let tx = c.begin().await.map_err(e)?;
    c.send(&queue, "t1", &[("transaction", tx.as_str())], false)
        .await
        .map_err(e)?;
    c.send(&queue, "t2", &[("transaction", tx.as_str())], false)
        .await
        .map_err(e)?;
    if let Some(m) = next_message(&mut c, Duration::from_millis(500)).await? {
        return Err(format!("message before COMMIT: {:?}", m.body()));
    }
    c.commit(&tx).await.map_err(e)?;
    for body in ["t1", "t2"] {
        let m = expect_body(&mut c, body).await?;
        c.ack(&m, None).await.map_err(e)?;
    }
    step("transaction BEGIN/SEND/COMMIT");
    let tx = c.begin().await.map_err(e)?;
    c.send(&queue, "aborted", &[("transaction", tx.as_str())], false)
        .await
        .map_err(e)?;
    c.abort(&tx).await.map_err(e)?;
    if let Some(m) = next_message(&mut c, Duration::from_millis(500)).await? {
        return Err(format!("aborted message delivered: {:?}", m.body()));
    }
    step("transaction ABORT");

    // Silence: only heart-beats flow; the session must stay up.
    if let Some(m) = next_message(&mut c, hold).await? {
        return Err(format!("unexpected message during hold: {:?}", m.body()));
    }
    let r = c
        .send(&queue, "after-hold", &[], true)
        .await
        .map_err(e)?
        .expect("receipt id");
    c.wait_receipt(&r).await.map_err(e)?;
    let m = expect_body(&mut c, "after-hold").await?;
    c.ack(&m, None).await.map_err(e)?;
    step(&format!(
        "heart-beats held for {} s of silence",
        hold.as_secs()
    ));

    c.disconnect().await.map_err(e)?;
    step("graceful DISCONNECT");
    Ok(())
}
