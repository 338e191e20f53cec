//! WebSocket on mio: [`Socket`] for your own `Poll` loop, and a blocking [`WebSocket`] on top of it.

mod blocking;
mod options;
mod socket;

pub use blocking::{
    accept, accept_with, connect, connect_with, HttpResponder, Incoming, WebSocket,
};
pub use options::{AcceptOptions, ConnectOptions};
pub use socket::{Socket, SocketEvent};

use bytes::Bytes;
use duplex_core::ws::Message;

/// Convenience: a text message from a `&str`.
pub fn text(s: &str) -> Message {
    Message::Text(String::from(s).into())
}

/// Convenience: a binary message.
pub fn binary(b: impl Into<Bytes>) -> Message {
    Message::Binary(b.into())
}
