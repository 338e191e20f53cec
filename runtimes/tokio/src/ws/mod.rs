//! WebSocket on tokio.

mod client;
mod handshake;
mod server;
mod socket;

pub use client::{connect, connect_with, handshake, ConnectOptions};
pub(crate) use handshake::Io;
pub use server::{accept, accept_with, AcceptOptions, HttpResponder, Incoming};
pub use socket::{binary, text, WebSocket};
