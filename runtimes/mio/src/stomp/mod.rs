//! STOMP on mio: [`StompSocket`] for your own `Poll` loop, and a blocking [`StompClient`] on top
//! of it with the method names of `duplex_tokio::stomp::StompClient`.

mod client;
mod socket;

pub use client::StompClient;
pub use socket::StompSocket;

use duplex_core::stomp::Frame;

use crate::Error;

/// Why a STOMP operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StompError {
    /// The transport or WebSocket failed (or a blocking call timed out: see
    /// [`StompError::is_timeout`]).
    #[error(transparent)]
    Transport(#[from] Error),
    /// The session refused the call.
    #[error(transparent)]
    Local(#[from] duplex_core::stomp::LocalError),
    /// The server sent ERROR.
    #[error("server ERROR: {}", .0.get("message").unwrap_or(""))]
    Server(Box<Frame>),
    /// The session closed (heart-beat timeout, protocol error, transport gone).
    #[error("session closed")]
    Closed,
}

impl StompError {
    /// A blocking call gave up at its deadline (nothing was lost: call again).
    pub fn is_timeout(&self) -> bool {
        matches!(self, StompError::Transport(e) if e.is_timeout())
    }
}
