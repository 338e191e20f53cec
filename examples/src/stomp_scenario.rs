//! The STOMP interop scenario, written once against a small blocking client trait so that every
//! runtime runs exactly the same steps (`stomp-interop --runtime tokio|smol|mio`).
//!
//! A runtime takes part by implementing [`ScenarioClient`] (blocking calls; the implementation runs
//! its own executor inside them, e.g. `Runtime::block_on` or `smol::block_on`) and by a connect
//! function `fn(&Target, ClientConfig) -> Result<Box<dyn ScenarioClient>, String>` that
//! `stomp-interop` calls for `--runtime NAME`. [`TokioClient`] here and `smol_rt::SmolClient` are
//! the two implementations to copy from.

use std::time::Duration;

use duplex_core::stomp::{
    AckMode, ClientConfig, ClientEvent, Message, Negotiated, ReceiptId, SubscriptionId,
    TransactionId, Version,
};

/// Where the client connects.
#[derive(Clone, Debug)]
pub enum Target {
    /// STOMP over TCP, `host:port` (RabbitMQ's 61613).
    Tcp(String),
    /// STOMP over WebSocket, a `ws://` or `wss://` URL.
    Ws(String),
}

/// A connected STOMP client with blocking calls: the runtime-specific part of the scenario.
///
/// Every method maps onto the runtime's `StompClient` method of the same name; errors become
/// strings (the scenario only reports them). All calls block the calling thread until done.
pub trait ScenarioClient {
    /// The STOMP version the server chose.
    fn version(&self) -> Version;
    /// The heart-beats both sides agreed on.
    fn negotiated_heart_beat(&self) -> Negotiated;
    /// SUBSCRIBE.
    fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
    ) -> Result<SubscriptionId, String>;
    /// UNSUBSCRIBE.
    fn unsubscribe(&mut self, id: &SubscriptionId) -> Result<(), String>;
    /// SEND `body`; with `receipt`, returns the receipt id to [`wait_receipt`](Self::wait_receipt) for.
    fn send(
        &mut self,
        destination: &str,
        body: &str,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> Result<Option<ReceiptId>, String>;
    /// Wait for that RECEIPT; messages arriving meanwhile are kept for
    /// [`next_message`](Self::next_message).
    fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), String>;
    /// The next MESSAGE, or `Ok(None)` if none arrives `within` that time. RECEIPTs are skipped;
    /// any other event (ERROR, the session closing) is an `Err`.
    fn next_message(&mut self, within: Duration) -> Result<Option<Message>, String>;
    /// ACK a message, optionally inside a transaction.
    fn ack(&mut self, message: &Message, tx: Option<&TransactionId>) -> Result<(), String>;
    /// NACK a message, optionally inside a transaction.
    fn nack(&mut self, message: &Message, tx: Option<&TransactionId>) -> Result<(), String>;
    /// BEGIN a transaction.
    fn begin(&mut self) -> Result<TransactionId, String>;
    /// COMMIT a transaction.
    fn commit(&mut self, tx: &TransactionId) -> Result<(), String>;
    /// ABORT a transaction.
    fn abort(&mut self, tx: &TransactionId) -> Result<(), String>;
    /// Graceful DISCONNECT (with a receipt), then close the transport.
    fn disconnect(self: Box<Self>) -> Result<(), String>;
}

/// What `next_message` does with one event, shared by the implementations: `Some(result)` ends
/// the wait, `None` (a RECEIPT) keeps waiting.
pub fn message_or_error(
    event: Result<Option<ClientEvent>, String>,
) -> Option<Result<Option<Message>, String>> {
    match event {
        Ok(Some(ClientEvent::Message(m))) => Some(Ok(Some(m))),
        Ok(Some(ClientEvent::Receipt(_))) => None,
        Ok(Some(other)) => Some(Err(format!("unexpected event {other:?}"))),
        Ok(None) => Some(Err("session closed".into())),
        Err(e) => Some(Err(e)),
    }
}

/// The scenario's settings.
#[derive(Clone, Debug)]
pub struct ScenarioOptions {
    /// How long to stay silent (only heart-beats flowing) before the last exchange.
    pub hold: Duration,
    /// The queue destination (unique per run).
    pub queue: String,
    /// The topic destination (unique per run).
    pub topic: String,
}

fn step(name: &str) {
    println!("  ok: {name}");
}

fn expect_body(c: &mut dyn ScenarioClient, body: &str) -> Result<Message, String> {
    match c.next_message(Duration::from_secs(5))? {
        Some(m) if m.body() == body.as_bytes() => Ok(m),
        Some(m) => Err(format!(
            "expected {body:?}, got {:?}",
            String::from_utf8_lossy(m.body())
        )),
        None => Err(format!("no message {body:?} within 5 s")),
    }
}

/// The scenario: heart-beats negotiated both ways, topic subscribe/send-with-receipt/receive,
/// queue with client-individual ACK and NACK (redelivery), a transaction committed and one
/// aborted, heart-beats held through silence, and a graceful DISCONNECT. Prints one line per
/// step; the first failure ends it with `Err`.
pub fn run(mut client: Box<dyn ScenarioClient>, options: &ScenarioOptions) -> Result<(), String> {
    let c = client.as_mut();
    let (queue, topic) = (options.queue.as_str(), options.topic.as_str());
    let hb = c.negotiated_heart_beat();
    if hb.send_every.is_none() || hb.expect_every.is_none() {
        return Err(format!("heart-beats not negotiated both ways: {hb:?}"));
    }
    step(&format!(
        "connect (STOMP {:?}, heart-beats {hb:?})",
        c.version()
    ));

    // Topic: subscribe, send with a receipt, receive.
    let sub = c.subscribe(topic, AckMode::Auto, &[])?;
    let r = c
        .send(topic, "hello topic", &[], true)?
        .expect("receipt id");
    c.wait_receipt(&r)?;
    step("send with receipt");
    expect_body(c, "hello topic")?;
    step("topic subscribe/receive");
    c.unsubscribe(&sub)?;

    // Queue with client-individual acks: ACK one, NACK one (redelivered), ACK the rest.
    c.subscribe(
        queue,
        AckMode::ClientIndividual,
        &[("prefetch-count", "10")],
    )?;
    for body in ["q1", "q2"] {
        c.send(queue, body, &[], false)?;
    }
    let m1 = expect_body(c, "q1")?;
    let m2 = expect_body(c, "q2")?;
    c.ack(&m1, None)?;
    c.nack(&m2, None)?;
    let again = expect_body(c, "q2")?;
    c.ack(&again, None)?;
    step("client-individual ACK, NACK → redelivery");

    // A transaction: nothing arrives before COMMIT.
    let tx = c.begin()?;
    c.send(queue, "t1", &[("transaction", tx.as_str())], false)?;
    c.send(queue, "t2", &[("transaction", tx.as_str())], false)?;
    if let Some(m) = c.next_message(Duration::from_millis(500))? {
        return Err(format!("message before COMMIT: {:?}", m.body()));
    }
    c.commit(&tx)?;
    for body in ["t1", "t2"] {
        let m = expect_body(c, body)?;
        c.ack(&m, None)?;
    }
    step("transaction BEGIN/SEND/COMMIT");
    let tx = c.begin()?;
    c.send(queue, "aborted", &[("transaction", tx.as_str())], false)?;
    c.abort(&tx)?;
    if let Some(m) = c.next_message(Duration::from_millis(500))? {
        return Err(format!("aborted message delivered: {:?}", m.body()));
    }
    step("transaction ABORT");

    // Silence: only heart-beats flow; the session must stay up.
    if let Some(m) = c.next_message(options.hold)? {
        return Err(format!("unexpected message during hold: {:?}", m.body()));
    }
    let r = c.send(queue, "after-hold", &[], true)?.expect("receipt id");
    c.wait_receipt(&r)?;
    let m = expect_body(c, "after-hold")?;
    c.ack(&m, None)?;
    step(&format!(
        "heart-beats held for {} s of silence",
        options.hold.as_secs()
    ));

    client.disconnect()?;
    step("graceful DISCONNECT");
    Ok(())
}

/// [`ScenarioClient`] on `duplex-tokio`: a current-thread runtime, `block_on` per call.
pub struct TokioClient {
    rt: tokio::runtime::Runtime,
    client: duplex_tokio::stomp::StompClient,
}

impl TokioClient {
    /// Connect to `target` and complete CONNECT/CONNECTED.
    pub fn connect(
        target: &Target,
        config: ClientConfig,
    ) -> Result<Box<dyn ScenarioClient>, String> {
        use duplex_tokio::stomp::StompClient;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        let client = rt
            .block_on(async {
                match target {
                    Target::Tcp(addr) => StompClient::connect_tcp(addr, config).await,
                    Target::Ws(url) => StompClient::connect_ws(url, config).await,
                }
            })
            .map_err(|e| format!("connect: {e}"))?;
        Ok(Box::new(TokioClient { rt, client }))
    }
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

impl ScenarioClient for TokioClient {
    fn version(&self) -> Version {
        self.client.session().version()
    }
    fn negotiated_heart_beat(&self) -> Negotiated {
        self.client.session().negotiated_heart_beat()
    }
    fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
    ) -> Result<SubscriptionId, String> {
        self.rt
            .block_on(self.client.subscribe(destination, ack, headers))
            .map_err(e)
    }
    fn unsubscribe(&mut self, id: &SubscriptionId) -> Result<(), String> {
        self.rt.block_on(self.client.unsubscribe(id)).map_err(e)
    }
    fn send(
        &mut self,
        destination: &str,
        body: &str,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> Result<Option<ReceiptId>, String> {
        let body = bytes::Bytes::copy_from_slice(body.as_bytes());
        self.rt
            .block_on(self.client.send(destination, body, headers, receipt))
            .map_err(e)
    }
    fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), String> {
        self.rt
            .block_on(self.client.wait_receipt(receipt))
            .map_err(e)
    }
    fn next_message(&mut self, within: Duration) -> Result<Option<Message>, String> {
        let client = &mut self.client;
        self.rt.block_on(async {
            let deadline = tokio::time::Instant::now() + within;
            loop {
                match tokio::time::timeout_at(deadline, client.next_event()).await {
                    Err(_) => return Ok(None),
                    Ok(event) => {
                        if let Some(result) = message_or_error(event.map_err(e)) {
                            return result;
                        }
                    }
                }
            }
        })
    }
    fn ack(&mut self, message: &Message, tx: Option<&TransactionId>) -> Result<(), String> {
        self.rt.block_on(self.client.ack(message, tx)).map_err(e)
    }
    fn nack(&mut self, message: &Message, tx: Option<&TransactionId>) -> Result<(), String> {
        self.rt.block_on(self.client.nack(message, tx)).map_err(e)
    }
    fn begin(&mut self) -> Result<TransactionId, String> {
        self.rt.block_on(self.client.begin()).map_err(e)
    }
    fn commit(&mut self, tx: &TransactionId) -> Result<(), String> {
        self.rt.block_on(self.client.commit(tx)).map_err(e)
    }
    fn abort(&mut self, tx: &TransactionId) -> Result<(), String> {
        self.rt.block_on(self.client.abort(tx)).map_err(e)
    }
    fn disconnect(self: Box<Self>) -> Result<(), String> {
        let TokioClient { rt, client } = *self;
        rt.block_on(client.disconnect()).map_err(e)
    }
}
