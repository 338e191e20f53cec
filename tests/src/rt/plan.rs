//! The client plans ([`ClientPlan`], [`StompPlan`]) carried out once for every runtime, over the
//! two small views a runtime's client gives of itself: [`PlanSocket`] and [`PlanStomp`]. The
//! async runtimes' clients implement them directly; mio's blocking ones through a wrapper that
//! holds the run's deadline (their calls block, so the plan is run with `block_on`).

use bytes::Bytes;
use duplex_core::stomp::{AckMode, ClientEvent, Message as StompMessage, ReceiptId};
use duplex_core::ws::{CloseCode, CloseInfo, Connection, Event, Message};

use super::{
    server_close_request, ClientOutcome, ClientPlan, Reply, Step, StompOutcome, StompPlan,
};

/// A connected WebSocket client, as a plan drives it. Errors are their text.
pub(crate) trait PlanSocket {
    /// Queue `message` and write everything queued.
    async fn send(&mut self, message: &Message) -> Result<(), String>;
    /// The core machine, to queue fragments and pings.
    fn connection_mut(&mut self) -> &mut Connection;
    /// Write everything queued.
    async fn flush(&mut self) -> Result<(), String>;
    /// The next event; `Ok(None)` once the connection has ended.
    async fn next_event(&mut self) -> Result<Option<Event>, String>;
    /// Start the closing handshake (the plan then reads until the connection ends).
    async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), String>;
    /// How the connection ended.
    fn close_info(&self) -> Option<&CloseInfo>;
}

/// A connected STOMP client, as a plan drives it. Errors are their text.
pub(crate) trait PlanStomp {
    /// The version CONNECTED chose.
    fn version(&self) -> String;
    /// SUBSCRIBE.
    async fn subscribe(&mut self, destination: &str, ack: AckMode) -> Result<(), String>;
    /// SEND with a receipt; the receipt id.
    async fn send(&mut self, destination: &str, body: Bytes) -> Result<ReceiptId, String>;
    /// Wait for a RECEIPT.
    async fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), String>;
    /// The next event; `Ok(None)` once the session has closed.
    async fn next_event(&mut self) -> Result<Option<ClientEvent>, String>;
    /// ACK (or with `nack`, NACK) a message.
    async fn settle(&mut self, message: &StompMessage, nack: bool) -> Result<(), String>;
    /// Graceful DISCONNECT; whether it completed.
    async fn disconnect(self) -> bool;
}

/// The next whole message; `Err` if the connection ends first.
async fn next_message(ws: &mut impl PlanSocket) -> Result<Message, String> {
    loop {
        match ws.next_event().await? {
            Some(Event::Message(m)) => return Ok(m),
            Some(Event::Closed(info)) => return Err(format!("closed before the echo: {info:?}")),
            Some(_) => continue,
            None => return Err("closed before the echo".into()),
        }
    }
}

/// The next pong's payload; `Err` if the connection ends first.
async fn next_pong(ws: &mut impl PlanSocket) -> Result<Bytes, String> {
    loop {
        match ws.next_event().await? {
            Some(Event::Pong(p)) => return Ok(p),
            Some(Event::Closed(info)) => return Err(format!("closed before the pong: {info:?}")),
            Some(_) => continue,
            None => return Err("closed before the pong".into()),
        }
    }
}

/// Carry out `plan` on a connected WebSocket client (see [`ClientPlan`]).
pub(crate) async fn run_ws_plan(
    mut ws: impl PlanSocket,
    plan: &ClientPlan,
) -> Result<ClientOutcome, String> {
    let mut replies = Vec::new();
    for step in &plan.steps {
        match step {
            Step::Send(m) => {
                ws.send(m).await?;
                replies.push(Reply::Message(next_message(&mut ws).await?));
            }
            Step::SendFragmented { kind, fragments } => {
                for (i, fragment) in fragments.iter().enumerate() {
                    let fin = i + 1 == fragments.len();
                    ws.connection_mut()
                        .send_fragment(*kind, fragment, fin)
                        .map_err(|e| e.to_string())?;
                }
                ws.flush().await?;
                replies.push(Reply::Message(next_message(&mut ws).await?));
            }
            Step::Ping(payload) => {
                ws.connection_mut()
                    .ping(payload)
                    .map_err(|e| e.to_string())?;
                ws.flush().await?;
                replies.push(Reply::Pong(next_pong(&mut ws).await?));
            }
            Step::AskServerToClose(code, reason) => {
                let text = Message::Text(server_close_request(*code, reason).into());
                ws.send(&text).await?;
            }
        }
    }
    if let Some((code, reason)) = &plan.close {
        ws.close(*code, reason).await?;
    }
    while ws.next_event().await?.is_some() {}
    ws.close_info()
        .cloned()
        .map(|close| ClientOutcome { replies, close })
        .ok_or_else(|| "the connection ended without close information".into())
}

/// Carry out `plan` on a connected STOMP client (see [`StompPlan`]).
pub(crate) async fn run_stomp_plan(
    mut c: impl PlanStomp,
    plan: &StompPlan,
) -> Result<StompOutcome, String> {
    let version = c.version();
    c.subscribe(&plan.destination, plan.ack).await?;
    for body in &plan.send {
        let receipt = c.send(&plan.destination, body.clone()).await?;
        c.wait_receipt(&receipt).await?;
    }
    let client_acks = plan.ack != AckMode::Auto;
    let mut received = Vec::new();
    let mut nacked = Vec::new();
    let mut settled = 0;
    while settled < plan.send.len() {
        let message = match c.next_event().await? {
            Some(ClientEvent::Message(m)) => m,
            Some(ClientEvent::Error(frame)) => return Err(format!("server ERROR: {frame:?}")),
            Some(_) => continue,
            None => return Err(format!("session closed after {received:?}")),
        };
        let body = message.body().clone();
        received.push(body.clone());
        if client_acks && plan.nack_once.contains(&body) && !nacked.contains(&body) {
            nacked.push(body);
            c.settle(&message, true).await?;
            continue;
        }
        if client_acks {
            c.settle(&message, false).await?;
        }
        settled += 1;
    }
    let disconnected = c.disconnect().await;
    Ok(StompOutcome {
        version,
        received,
        disconnected,
    })
}
