//! Accepting server connections (RFC 6455 §4.2), with plain HTTP requests handed back to the
//! caller so one port can serve a page and a WebSocket endpoint.

use bytes::Bytes;
use duplex_core::ws::handshake::{RequestHead, ServerHandshake};
use duplex_rt_common::ws::{answer_http, server_handshake, ServerParts};
use futures_lite::io::{AsyncRead, AsyncWrite};

use super::handshake::Io;
use super::socket::WebSocket;
use crate::clock::Clock;
use crate::rt::SmolClock;
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
    machine: Box<ServerHandshake>,
}

impl<S: AsyncWrite + AsyncRead + Unpin> HttpResponder<S> {
    /// Write `response` (see [`http_response`](duplex_core::ws::handshake::http_response)) and close.
    pub async fn respond(mut self, response: Bytes) -> Result<(), Error> {
        answer_http(&mut Io(&mut self.io), &mut self.machine, Some(response)).await
    }

    /// Answer `426 Upgrade Required` and close.
    pub async fn reject(mut self) -> Result<(), Error> {
        answer_http(&mut Io(&mut self.io), &mut self.machine, None).await
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
    Ok(
        match server_handshake(&mut Io(&mut io), options, SmolClock(clock)).await? {
            ServerParts::Upgraded {
                conn,
                request,
                protocol,
                leftover,
            } => Incoming::WebSocket(
                Box::new(WebSocket::from_parts(io, *conn, clock, protocol, &leftover)),
                request,
            ),
            ServerParts::Http(request, machine) => {
                Incoming::Http(request, Box::new(HttpResponder { io, machine }))
            }
        },
    )
}
