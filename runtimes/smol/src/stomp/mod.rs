//! STOMP on smol: a client over TCP or WebSocket.

mod client;
mod transport;

pub use client::{StompClient, StompError};
pub use transport::Transport;
