//! WebSocket, RFC 6455: the opening handshake ([`handshake`]) and the [`Connection`] machine that
//! runs after it.

pub mod close;
mod config;
mod connection;
mod event;
pub mod frame;
pub mod handshake;
pub mod mask;
mod message;
mod timer;
pub mod url;
pub mod utf8;

pub use close::CloseCode;
pub use config::Config;
pub use connection::{Connection, Role, State};
pub use event::{CloseInfo, Event, Failure, Initiator, LocalError};
pub use message::{Message, MessageKind, Utf8Bytes};
pub use url::{UrlError, WsUrl};
