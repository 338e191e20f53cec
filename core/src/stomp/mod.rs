//! STOMP 1.0–1.2, sans-IO.
//!
//! Implements the STOMP 1.2 specification (<https://stomp.github.io/stomp-specification-1.2.html>)
//! with 1.0 and 1.1 negotiated down. Layers, bottom up:
//! - the codec: [`Frame`] values, the incremental [`Decoder`] and [`Frame::encode`];
//! - [`heartbeat`] negotiation (§"Heart-beating");
//! - the session machines [`ClientSession`] and [`ServerSession`];
//! - [`ws`]: how a session rides on WebSocket (it does not know it does).
//!
//! A session eats and emits STOMP bytes only: the same machine runs over TCP or WebSocket.

mod decode;
mod encode;
mod escape;
mod frame;
pub mod heartbeat;
pub mod ws;

pub use decode::{DecodeError, Decoded, Decoder, Limits};
pub use encode::EncodeError;
pub use frame::{Command, Frame, Headers, Version};
pub use heartbeat::{HeartBeat, Negotiated};

mod client;
mod error;
mod ids;
mod server;
mod server_api;
mod timer;

pub use client::{ClientConfig, ClientEvent, ClientSession, Message};
pub use error::{LocalError, ProtocolError};
pub use ids::{AckMode, ReceiptId, SubscriptionId, TransactionId};
pub use server::ServerSession;
pub use server_api::{Acknowledgement, AllowAll, Authenticator, ServerConfig, ServerEvent};
