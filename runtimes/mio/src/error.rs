//! The adapter's error type.

use duplex_core::ws::handshake::HandshakeError;
use duplex_core::ws::{LocalError, UrlError};

/// What can go wrong driving a connection on mio.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The transport failed (a blocking call that timed out gives
    /// [`ErrorKind::TimedOut`](std::io::ErrorKind::TimedOut), see [`Error::is_timeout`]).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// TLS set-up failed (bad certificate or key files, bad server name).
    #[error("TLS: {0}")]
    Tls(String),
    /// The URL is not a WebSocket URL.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The opening handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// The call was refused by the connection (closed, bad close code…).
    #[error(transparent)]
    Local(#[from] LocalError),
    /// The broker refused a setting (a handler pattern outside the app prefixes).
    #[error(transparent)]
    Broker(#[from] duplex_core::broker::BrokerError),
    /// The call needs an open WebSocket connection, and the opening handshake has not completed.
    #[error("the WebSocket handshake has not completed")]
    NotOpen,
}

impl From<duplex_rt_common::Error> for Error {
    /// The shared adapters' error (from the TLS configs): the same variants.
    fn from(e: duplex_rt_common::Error) -> Error {
        use duplex_rt_common::Error as Shared;
        match e {
            Shared::Io(e) => Error::Io(e),
            Shared::Tls(e) => Error::Tls(e),
            Shared::Url(e) => Error::Url(e),
            Shared::Handshake(e) => Error::Handshake(e),
            Shared::Local(e) => Error::Local(e),
        }
    }
}

impl Error {
    /// A blocking call gave up at its deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
    }

    pub(crate) fn timed_out() -> Error {
        Error::Io(std::io::ErrorKind::TimedOut.into())
    }
}
