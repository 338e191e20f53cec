//! WebSocket on smol.

mod entry;
mod handshake;
mod socket;

pub use entry::{
    accept, accept_with, connect, connect_with, handshake, AcceptOptions, ConnectOptions,
    HttpResponder, Incoming,
};
pub(crate) use handshake::Io;
pub use socket::{binary, text, WebSocket};
