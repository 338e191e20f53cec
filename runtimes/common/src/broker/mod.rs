//! Hosting the sans-IO [`Broker`](duplex_core::broker::Broker) on any [`Host`](crate::runtime::Host)
//! runtime: a STOMP-over-WebSocket endpoint with application handlers. Every protocol decision
//! (routing, receipts, limits, slow consumers, timeouts) is the core broker's; this module
//! accepts sockets, runs the handshake, moves bytes, fires timers and spawns async handlers.
//!
//! The runtime crates name these types for their runtime (`duplex_tokio::broker::BrokerServer`
//! is `BrokerServer<duplex_tokio::Tokio>`) and carry the examples.

mod builder;
mod conn;
mod context;
mod handle;
mod hub;
mod server;
mod settings;
mod spawner;
mod stats;

pub use builder::{Builder, HttpHandler};
pub use context::AppContext;
pub use handle::BrokerHandle;
pub use server::BrokerServer;
#[doc(hidden)]
pub use settings::{Parts, Settings, SyncHandler};
pub use stats::HostStats;
