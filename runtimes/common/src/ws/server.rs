//! The server side of the opening handshake (RFC 6455 §4.2), with plain HTTP requests handed
//! back to the caller so one port can serve a page and a WebSocket endpoint.

use bytes::Bytes;
use duplex_core::ws::handshake::{RequestHead, ServerHandshake, ServerOutcome};
use duplex_core::ws::Connection;

use super::handshake::{drive, write_all_queued};
use super::{AcceptOptions, ByteStream};
use crate::runtime::Clock;
use crate::Error;

/// What a server handshake found, for the runtime's `Incoming`.
#[derive(Debug)]
pub enum ServerParts {
    /// A WebSocket upgrade, accepted (the `101` is written).
    Upgraded {
        /// The server connection machine.
        conn: Box<Connection>,
        /// The upgrade request.
        request: RequestHead,
        /// The subprotocol selected.
        protocol: Option<String>,
        /// What was read past the request head.
        leftover: bytes::BytesMut,
    },
    /// A plain HTTP request, to answer with [`answer_http`] through this machine.
    Http(RequestHead, Box<ServerHandshake>),
}

/// Run the server handshake over `io`. Refused requests are answered (400, 403, 408, 426,
/// 431…), the stream is shut, and the result is `Err(Error::Handshake)`.
pub async fn server_handshake<B: ByteStream, C: Clock>(
    io: &mut B,
    options: AcceptOptions,
    clock: C,
) -> Result<ServerParts, Error> {
    let mut machine = ServerHandshake::new(clock.now(), options.handshake);
    match drive(&mut machine, io, clock).await? {
        ServerOutcome::Upgraded {
            request,
            protocol,
            leftover,
        } => {
            write_all_queued(&mut machine, io).await?;
            Ok(ServerParts::Upgraded {
                conn: Box::new(Connection::server(clock.now(), options.config)),
                request,
                protocol,
                leftover,
            })
        }
        ServerOutcome::HttpRequest { request, .. } => {
            Ok(ServerParts::Http(request, Box::new(machine)))
        }
        ServerOutcome::Rejected { error, .. } => {
            write_all_queued(&mut machine, io).await?;
            let _ = io.shutdown().await;
            Err(error.into())
        }
    }
}

/// Answer a plain HTTP request: `response` (see
/// [`http_response`](duplex_core::ws::handshake::http_response)), or with `None`
/// `426 Upgrade Required`; then shut the stream.
pub async fn answer_http<B: ByteStream>(
    io: &mut B,
    machine: &mut ServerHandshake,
    response: Option<Bytes>,
) -> Result<(), Error> {
    match response {
        Some(response) => machine.respond(response),
        None => machine.reject_not_websocket(),
    }
    write_all_queued(machine, io).await?;
    let _ = io.shutdown().await;
    Ok(())
}
