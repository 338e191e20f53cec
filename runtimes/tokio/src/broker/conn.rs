//! One client connection: the WebSocket handshake (or one plain HTTP request), then STOMP bytes
//! between the socket and the broker, then a close that says why.
//!
//! Backpressure: bytes are taken from the broker only when the socket has written what it had
//! ([`WRITE_ROOM`]), so a peer that stops reading leaves its backlog in the broker, where the
//! slow-consumer policy sees it; and while its output is stuck, its input is not read either.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use duplex_core::ws::{CloseCode, Event, Message};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::hub::{ConnSignal, HostCounters, Hub};
use super::Shared;
use crate::ws::{accept_with, Incoming, WebSocket};

/// Take more from the broker only when the WebSocket has less than this left to write.
pub(crate) const WRITE_ROOM: usize = 64 * 1024;

/// Serve one accepted stream until it closes (or shutdown ends it).
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S, shared: Arc<Shared>) {
    let hub = shared.handle.hub.clone();
    let mut shutdown = hub.shutdown.subscribe();
    let accepted = tokio::select! {
        r = accept_with(stream, shared.accept.clone()) => r,
        _ = shutdown.wait_for(|down| *down) => return,
    };
    match accepted {
        Ok(Incoming::WebSocket(ws, request))
            if request.path.split('?').next() == Some(shared.endpoint.as_str()) =>
        {
            run_stomp(*ws, &hub, shutdown, &shared).await
        }
        Ok(Incoming::WebSocket(mut ws, request)) => {
            tracing::debug!(path = %request.path, "WebSocket to an unknown path");
            HostCounters::bump(&hub.counters.handshake_failures);
            let _ = tokio::time::timeout(
                shared.shutdown_grace,
                ws.close(CloseCode::POLICY_VIOLATION, "unknown endpoint"),
            )
            .await;
        }
        Ok(Incoming::Http(request, responder)) => {
            HostCounters::bump(&hub.counters.http_requests);
            let answer = shared.http.as_ref().map(|h| h(&request, &shared.handle));
            let _ = match answer {
                Some(Some(response)) => responder.respond(response).await,
                Some(None) => {
                    responder
                        .respond(duplex_core::ws::handshake::http_response(
                            404,
                            "Not Found",
                            &[("Content-Type", "text/plain")],
                            b"not found\n",
                        ))
                        .await
                }
                None => responder.reject().await,
            };
        }
        Err(e) => {
            HostCounters::bump(&hub.counters.handshake_failures);
            tracing::debug!(error = %e, "handshake failed");
        }
    }
}

/// How the STOMP loop ended.
enum End {
    /// The broker closed the session (DISCONNECT, ERROR, slow consumer, timeout).
    Broker,
    /// The server is shutting down.
    Shutdown,
    /// The transport is gone or failed.
    Transport,
}

/// Carry STOMP bytes both ways until either side is done.
async fn run_stomp<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: WebSocket<S>,
    hub: &Hub,
    mut shutdown: watch::Receiver<bool>,
    shared: &Shared,
) {
    let (conn, signal) = hub.open();
    tracing::debug!(%conn, protocol = ?ws.protocol(), "STOMP session open");
    let mut want_take = false;
    let end = loop {
        if want_take && ws.connection().pending_transmit().len() < WRITE_ROOM {
            want_take = false;
            if !feed(&mut ws, hub, conn) {
                break End::Transport;
            }
        }
        if signal.close.load(Ordering::Acquire) {
            break End::Broker;
        }
        if *shutdown.borrow() {
            break End::Shutdown;
        }
        if want_take {
            // The peer is not taking our bytes: keep writing, read nothing from it meanwhile.
            tokio::select! {
                biased;
                _ = shutdown.changed() => {}
                _ = signal.wake.notified() => {}
                r = ws.flush() => if r.is_err() { break End::Transport },
            }
            continue;
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => {}
            _ = signal.wake.notified() => want_take = true,
            event = ws.next_event() => match event {
                Ok(Some(Event::Message(m))) => {
                    let now = hub.now();
                    hub.with(|b| b.handle_input(now, conn, m.payload()));
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break End::Transport,
            },
        }
    };
    match end {
        End::Broker => {
            // What the broker had left to say (a RECEIPT, an ERROR), then a normal close.
            let linger = ws.connection().config().close_timeout;
            let _ = tokio::time::timeout(linger, async {
                if feed(&mut ws, hub, conn) {
                    let _ = ws.close(CloseCode::NORMAL, "").await;
                }
            })
            .await;
        }
        End::Shutdown => goodbye(&mut ws, hub, conn, &signal, shared.shutdown_grace).await,
        End::Transport => {}
    }
    hub.closed(conn);
    tracing::debug!(%conn, "STOMP session closed");
}

/// Graceful shutdown of one session: act on what the peer has already sent (a DISCONNECT gets
/// its RECEIPT), end the session without ERROR, write what is owed, close with 1001.
async fn goodbye<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocket<S>,
    hub: &Hub,
    conn: duplex_core::broker::ConnId,
    signal: &ConnSignal,
    grace: Duration,
) {
    let _ = tokio::time::timeout(grace, async {
        let mut open = true;
        // Input already here (in our buffers or the kernel's): a poll that would wait ends it.
        while open && !signal.close.load(Ordering::Acquire) {
            match tokio::time::timeout(Duration::ZERO, ws.next_event()).await {
                Ok(Ok(Some(Event::Message(m)))) => {
                    let now = hub.now();
                    hub.with(|b| b.handle_input(now, conn, m.payload()));
                }
                Ok(Ok(Some(Event::Closed(_)))) | Ok(Ok(None)) | Ok(Err(_)) => open = false,
                Ok(Ok(Some(_))) => {}
                Err(_) => break,
            }
        }
        let now = hub.now();
        hub.with(|b| b.close(now, conn));
        if open && feed(ws, hub, conn) {
            let _ = ws
                .close(CloseCode::GOING_AWAY, "server shutting down")
                .await;
        }
    })
    .await;
}

/// Move the broker's bytes for `conn` into the WebSocket's send queue. False if it is closed.
fn feed<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocket<S>,
    hub: &Hub,
    conn: duplex_core::broker::ConnId,
) -> bool {
    match hub.with(|b| b.take_transmit(conn)) {
        Some(bytes) => ws.feed(&Message::text_or_binary(bytes)).is_ok(),
        None => true,
    }
}
