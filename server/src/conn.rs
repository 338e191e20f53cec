//! One client connection: the WebSocket handshake (or a plain HTTP request for the page,
//! `/healthz`, `/metrics`), then STOMP bytes between the socket and the broker.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use duplex_core::stomp::ws::WS_SUBPROTOCOLS;
use duplex_core::ws::handshake::ServerConfig as HandshakeConfig;
use duplex_core::ws::{CloseCode, Event, Message};
use duplex_tokio::ws::{accept_with, AcceptOptions, Incoming, WebSocket};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::http;
use crate::hub::Hub;

/// Handshake settings for the endpoint: the STOMP subprotocols, by our preference.
pub fn accept_options() -> AcceptOptions {
    AcceptOptions {
        handshake: Arc::new(HandshakeConfig {
            protocols: WS_SUBPROTOCOLS.iter().map(|s| s.to_string()).collect(),
            ..HandshakeConfig::default()
        }),
        ..AcceptOptions::default()
    }
}

/// Serve one accepted stream until it closes.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    hub: Arc<Hub>,
    options: AcceptOptions,
) {
    match accept_with(stream, options).await {
        Ok(Incoming::WebSocket(ws, request)) if request.path.split('?').next() == Some("/ws") => {
            run_stomp(*ws, hub).await
        }
        Ok(Incoming::WebSocket(mut ws, request)) => {
            tracing::debug!(path = %request.path, "WebSocket to an unknown path");
            let _ = ws
                .close(CloseCode::POLICY_VIOLATION, "unknown endpoint")
                .await;
        }
        Ok(Incoming::Http(request, responder)) => {
            let response = http::respond(&request, &hub);
            let _ = responder.respond(response).await;
        }
        Err(e) => tracing::debug!(error = %e, "handshake failed"),
    }
}

/// Carry STOMP bytes both ways until either side is done.
async fn run_stomp<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocket<S>, hub: Arc<Hub>) {
    let (conn, signal) = hub.open();
    tracing::debug!(%conn, protocol = ?ws.protocol(), "STOMP session open");
    loop {
        tokio::select! {
            event = ws.next_event() => match event {
                Ok(Some(Event::Message(m))) => {
                    let now = hub.now();
                    hub.with(|b| b.handle_input(now, conn, m.payload()));
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            },
            _ = signal.wake.notified() => {
                let bytes = hub.with(|b| b.take_transmit(conn));
                if let Some(bytes) = bytes {
                    let message = Message::text_or_binary(bytes);
                    if ws.send(&message).await.is_err() {
                        break;
                    }
                }
                if signal.close.load(Ordering::Acquire) {
                    let _ = ws.close(CloseCode::NORMAL, "").await;
                    break;
                }
            }
        }
    }
    hub.closed(conn);
    tracing::debug!(%conn, "STOMP session closed");
}
