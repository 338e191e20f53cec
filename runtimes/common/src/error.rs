//! The adapters' error type, one for every runtime (`duplex_tokio::Error`, `duplex_smol::Error`).

use duplex_core::ws::handshake::HandshakeError;
use duplex_core::ws::{LocalError, UrlError};

/// What can go wrong driving a connection on a runtime adapter.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The transport failed.
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
}
