//! # duplex-rt-common
//!
//! **Internal.** The adapter glue that `duplex-tokio` and `duplex-smol` share: code that is
//! neither protocol logic (that is [`duplex_core`]'s) nor tied to one runtime. Depend on a
//! runtime crate instead; its public items are these, re-exported or named through type
//! aliases (`duplex_tokio::broker::BrokerServer` is [`broker::BrokerServer`]`<duplex_tokio::Tokio>`).
//!
//! What a runtime plugs in is small and lives in [`runtime`]: a clock and timers, spawning, and
//! for hosting and dialing its sockets. Everything else is written once, here, over
//! runtime-neutral primitives (`std::sync::Mutex`, `async-channel`, `futures-lite` combinators)
//! that work on any executor:
//!
//! - [`broker`]: hosting the core broker — the builder and its settings, the accept loop, one
//!   task per connection, the shared hub and its timer task, [`broker::BrokerHandle`].
//! - [`stomp`]: the STOMP client that drives a [`ClientSession`](duplex_core::stomp::ClientSession)
//!   over any [`stomp::StompTransport`].
//! - [`tls`]: rustls client and server configs (no runtime involved).
//! - [`ws`]: the WebSocket opening handshake over any [`ws::ByteStream`], and the option structs.
//! - [`Error`]: the adapters' error type.
#![deny(missing_docs)]

pub mod broker;
mod error;
pub mod runtime;
mod signal;
pub mod stomp;
pub mod tls;
pub mod ws;

pub use duplex_core;

#[doc(hidden)]
pub mod __private {
    //! What the exported macros name.
    pub use bytes::{Bytes, BytesMut};
}

pub use error::Error;
pub use ws::{AcceptOptions, ConnectOptions};
