//! Accepting server connections (RFC 6455 §4.2), with plain HTTP requests handed back to the
//! caller so one port can serve a page and a WebSocket endpoint.

use bytes::Bytes;
use duplex_core::ws::handshake::{RequestHead, ServerHandshake, ServerOutcome};
use duplex_core::ws::Connection;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::handshake::{drive, write_all_queued};
use super::socket::WebSocket;
use crate::clock::Clock;
use crate::Error;

pub use duplex_rt_common::AcceptOptions;

/// What arrived on an accepted stream.
#[derive(Debug)]
pub enum Incoming<S> {
    /// A WebSocket upgrade, accepted.
    WebSocket(Box<WebSocket<S>>, RequestHead),
    /// A plain HTTP request: answer it with [`HttpResponder::respond`].
    Http(RequestHead, Box<HttpResponder<S>>),
}

/// Answers one plain HTTP request, then closes the stream.
#[derive(Debug)]
pub struct HttpResponder<S> {
    io: S,
    machine: ServerHandshake,
}

impl<S: AsyncWrite + Unpin> HttpResponder<S> {
    /// Write `response` (see [`http_response`](duplex_core::ws::handshake::http_response)) and close.
    pub async fn respond(mut self, response: Bytes) -> Result<(), Error> {
        self.machine.respond(response);
        write_all_queued(&mut self.machine, &mut self.io).await?;
        let _ = self.io.shutdown().await;
        Ok(())
    }

    /// Answer `426 Upgrade Required` and close.
    pub async fn reject(mut self) -> Result<(), Error> {
        self.machine.reject_not_websocket();
        write_all_queued(&mut self.machine, &mut self.io).await?;
        let _ = self.io.shutdown().await;
        Ok(())
    }
}

/// Accept a WebSocket connection with default options; a plain HTTP request gets `426`.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(io: S) -> Result<WebSocket<S>, Error> {
    match accept_with(io, AcceptOptions::default()).await? {
        Incoming::WebSocket(ws, _) => Ok(*ws),
        Incoming::Http(_, responder) => {
            responder.reject().await?;
            Err(Error::Handshake(
                duplex_core::ws::handshake::HandshakeError::NotUpgrade,
            ))
        }
    }
}

/// Run the server handshake. Refused requests are answered (400, 403, 408, 426, 431…) and end in
/// `Err(Error::Handshake)`.
pub async fn accept_with<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: S,
    options: AcceptOptions,
) -> Result<Incoming<S>, Error> {
    let clock = Clock::new();
    let mut machine = ServerHandshake::new(clock.now(), options.handshake);
    match drive(&mut machine, &mut io, clock).await? {
        ServerOutcome::Upgraded {
            request,
            protocol,
            leftover,
        } => {
            write_all_queued(&mut machine, &mut io).await?;
            let conn = Connection::server(clock.now(), options.config);
            Ok(Incoming::WebSocket(
                Box::new(WebSocket::from_parts(io, conn, clock, protocol, &leftover)),
                request,
            ))
        }
        ServerOutcome::HttpRequest { request, .. } => Ok(Incoming::Http(
            request,
            Box::new(HttpResponder { io, machine }),
        )),
        ServerOutcome::Rejected { error, .. } => {
            write_all_queued(&mut machine, &mut io).await?;
            let _ = io.shutdown().await;
            Err(error.into())
        }
    }
}
