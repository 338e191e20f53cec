//! The WebSocket opening handshake, driven once for every runtime: the option structs, the
//! driver that runs the core's handshake machines over any [`ByteStream`], and the client and
//! server sides that hand a runtime what it needs to build its `WebSocket` (RFC 6455 §4), and
//! [`ws_entry_points!`](crate::ws_entry_points), the public entry points over them.

mod client;
mod entry;
mod handshake;
mod io;
mod options;
mod server;

pub use client::{client_handshake, ClientParts};
pub use io::ByteStream;
pub(crate) use options::stomp_subprotocols;
pub use options::{AcceptOptions, ConnectOptions};
pub use server::{answer_http, server_handshake, ServerParts};
