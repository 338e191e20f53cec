//! One client connection: the WebSocket handshake (or one plain HTTP request), then STOMP bytes
//! between the socket and the broker, then a close that says why.
//!
//! Backpressure: bytes are taken from the broker only when the socket has written what it had
//! ([`WRITE_ROOM`]), so a peer that stops reading leaves its backlog in the broker, where the
//! slow-consumer policy sees it; and while its output is stuck, its input is not read either.
//!
//! Waits put shutdown first, then the broker's wake-up, then the peer (`futures_lite::future::or`
//! polls its first future first, like tokio's `biased` select).

use std::sync::atomic::Ordering;
use std::time::Duration;

use duplex_core::broker::ConnId;
use duplex_core::ws::{CloseCode, Event, Message};
use futures_lite::future::or;

use super::hub::{ConnSignal, Hub};
use super::server::Shared;
use super::stats::HostCounters;
use crate::runtime::{within, Accepted, Host, HttpAnswer, MessageSocket};

/// Take more from the broker only when the WebSocket has less than this left to write.
pub(crate) const WRITE_ROOM: usize = 64 * 1024;

/// Serve one accepted stream until it closes (or shutdown ends it).
pub(crate) async fn serve<R: Host>(stream: R::Stream, shared: &Shared<R>) {
    let hub = &*shared.handle.hub;
    let accepted = or(
        async { Some(R::accept_ws(stream, shared.accept.clone()).await) },
        async {
            hub.shutdown.wait().await;
            None
        },
    )
    .await;
    let Some(accepted) = accepted else {
        return;
    };
    match accepted {
        Ok(Accepted::WebSocket(ws, request))
            if request.path.split('?').next() == Some(shared.endpoint.as_str()) =>
        {
            run_stomp(ws, hub, shared).await
        }
        Ok(Accepted::WebSocket(mut ws, request)) => {
            tracing::debug!(path = %request.path, "WebSocket to an unknown path");
            HostCounters::bump(&hub.counters.handshake_failures);
            let _ = within::<R, _>(
                shared.shutdown_grace,
                ws.close(CloseCode::POLICY_VIOLATION, "unknown endpoint"),
            )
            .await;
        }
        Ok(Accepted::Http(request, responder)) => {
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

/// What ended one wait.
enum Woke<T> {
    /// Shutdown started, or the broker has bytes for us or wants us closed.
    Signal,
    /// The peer's side: an event, or a flush finished.
    Io(T),
}

/// Carry STOMP bytes both ways until either side is done.
async fn run_stomp<R: Host>(mut ws: R::Socket, hub: &Hub<R>, shared: &Shared<R>) {
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
        if hub.shutdown.is_triggered() {
            break End::Shutdown;
        }
        if want_take {
            // The peer is not taking our bytes: keep writing, read nothing from it meanwhile.
            let woke = or(
                async {
                    or(hub.shutdown.wait(), signal.wake.notified()).await;
                    Woke::Signal
                },
                async { Woke::Io(ws.flush().await) },
            )
            .await;
            if let Woke::Io(Err(_)) = woke {
                break End::Transport;
            }
            continue;
        }
        let woke = or(
            async {
                hub.shutdown.wait().await;
                None
            },
            or(
                async {
                    signal.wake.notified().await;
                    Some(Woke::Signal)
                },
                async { Some(Woke::Io(ws.next_event().await)) },
            ),
        )
        .await;
        match woke {
            None => {}
            Some(Woke::Signal) => want_take = true,
            Some(Woke::Io(event)) => match event {
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
            within::<R, _>(linger, async {
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
async fn goodbye<R: Host>(
    ws: &mut R::Socket,
    hub: &Hub<R>,
    conn: ConnId,
    signal: &ConnSignal,
    grace: Duration,
) {
    within::<R, _>(grace, async {
        let mut open = true;
        // Input already here (in our buffers or the kernel's): a read that would wait ends it.
        // A zero timeout rather than one poll: tokio learns of kernel-buffered bytes only when
        // its driver turns, which a zero sleep (rounded up to the timer's tick) lets happen.
        while open && !signal.close.load(Ordering::Acquire) {
            match within::<R, _>(Duration::ZERO, ws.next_event()).await {
                Some(Ok(Some(Event::Message(m)))) => {
                    let now = hub.now();
                    hub.with(|b| b.handle_input(now, conn, m.payload()));
                }
                Some(Ok(Some(Event::Closed(_)))) | Some(Ok(None)) | Some(Err(_)) => open = false,
                Some(Ok(Some(_))) => {}
                None => break,
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
fn feed<R: Host>(ws: &mut R::Socket, hub: &Hub<R>, conn: ConnId) -> bool {
    match hub.with(|b| b.take_transmit(conn)) {
        Some(bytes) => ws.feed(&Message::text_or_binary(bytes)).is_ok(),
        None => true,
    }
}
