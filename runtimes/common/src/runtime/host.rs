//! [`Host`]: what hosting the broker needs from a runtime beyond [`Runtime`]: accepting TCP
//! connections, the TLS server handshake, and the WebSocket server handshake that also hands back
//! plain HTTP requests ([`Accepted`], answered through [`HttpAnswer`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use duplex_core::ws::handshake::RequestHead;

use super::{MessageSocket, Runtime};
use crate::{AcceptOptions, Error};

/// What the server handshake found on an accepted stream.
#[derive(Debug)]
pub enum Accepted<W, H> {
    /// A WebSocket upgrade, accepted.
    WebSocket(W, RequestHead),
    /// A plain HTTP request, to answer.
    Http(RequestHead, H),
}

/// Answers one plain HTTP request, then closes the stream (a runtime's `ws::HttpResponder`).
pub trait HttpAnswer: Send + 'static {
    /// Write `response` and close.
    fn respond(self, response: Bytes) -> impl Future<Output = Result<(), Error>> + Send;

    /// Answer `426 Upgrade Required` and close.
    fn reject(self) -> impl Future<Output = Result<(), Error>> + Send;
}

/// A runtime that can host the broker: sockets, TLS and the server handshake.
pub trait Host: Runtime {
    /// A bound TCP listener.
    type Listener: Send + Sync + 'static;
    /// An accepted TCP stream.
    type Tcp: Send + 'static;
    /// Plain TCP or TLS over TCP, what the WebSocket handshake runs on.
    type Stream: Send + 'static;
    /// A TLS acceptor for `wss://`.
    type TlsAcceptor: Clone + Send + Sync + 'static;
    /// The runtime's WebSocket over [`Stream`](Self::Stream).
    type Socket: MessageSocket;
    /// The runtime's HTTP responder over [`Stream`](Self::Stream).
    type Responder: HttpAnswer;

    /// Accept the next connection (with `TCP_NODELAY` set).
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Tcp, SocketAddr)>> + Send;

    /// The stream of a plain connection.
    fn plain(tcp: Self::Tcp) -> Self::Stream;

    /// Run the TLS server handshake.
    fn tls_accept(
        acceptor: &Self::TlsAcceptor,
        tcp: Self::Tcp,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Run the WebSocket server handshake (refused requests are answered and end in `Err`).
    fn accept_ws(
        stream: Self::Stream,
        options: AcceptOptions,
    ) -> impl Future<Output = Result<Accepted<Self::Socket, Self::Responder>, Error>> + Send;
}
