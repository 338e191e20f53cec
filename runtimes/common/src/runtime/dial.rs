//! [`Dial`]: how the shared STOMP client opens its transport on a runtime.

use std::future::Future;

use super::Runtime;
use crate::stomp::StompTransport;
use crate::{ConnectOptions, Error};

/// A runtime that can open STOMP transports.
pub trait Dial: Runtime {
    /// The runtime's `stomp::Transport`: a TCP (or TLS) stream, or a WebSocket.
    type Transport: StompTransport;

    /// STOMP over TCP to `addr` (`host:port`), with `TCP_NODELAY` set.
    fn connect_tcp(addr: &str) -> impl Future<Output = Result<Self::Transport, Error>> + Send;

    /// STOMP over a WebSocket to `url`, with these options (the subprotocols already chosen).
    fn connect_ws(
        url: &str,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<Self::Transport, Error>> + Send;
}
