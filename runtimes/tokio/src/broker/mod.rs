//! Hosting the sans-IO [`Broker`](duplex_core::broker::Broker) on tokio: a STOMP-over-WebSocket
//! endpoint with application handlers — the Rust answer to Spring's `registry.addEndpoint("/ws")`,
//! `enableSimpleBroker("/topic", "/queue")`, `setApplicationDestinationPrefixes("/app")` and
//! `@MessageMapping` + `@SendTo` / `@SendToUser`.
//!
//! Every protocol decision (routing, receipts, limits, slow consumers, timeouts) is the core
//! broker's ([`duplex_core::broker`]); the hosting (accepting sockets, running the handshake,
//! moving bytes, firing timers, spawning async handlers) is `duplex-rt-common`'s, shared by every
//! async runtime; the types below name it for this one.
//!
//! ```no_run
//! use duplex_tokio::broker::BrokerServer;
//! use duplex_core::broker::{AppMessage, HandlerContext};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = BrokerServer::builder()
//!     .endpoint("/ws")
//!     // A synchronous handler runs inside the broker; its replies go out before the RECEIPT.
//!     .handler("/app/chat/{room}", |ctx: &mut HandlerContext, m: &AppMessage| {
//!         let room = m.var("room").unwrap_or("lobby");
//!         ctx.publish(&format!("/topic/chat/{room}"), m.body().clone());
//!     })
//!     // An async handler runs on its own task and replies whenever it is ready.
//!     .async_handler("/app/lookup", |m, ctx| async move {
//!         let answer = format!("{} bytes", m.body().len());
//!         ctx.reply_to_user("/queue/answers", &[], answer);
//!     })
//!     // Plain HTTP on the same port: `None` answers 404.
//!     .http(|request, handle| match request.path.as_str() {
//!         "/metrics" => Some(duplex_core::ws::handshake::http_response(
//!             200, "OK", &[("Content-Type", "text/plain")], handle.metrics().as_bytes())),
//!         _ => None,
//!     })
//!     .build()?;
//! let handle = server.handle();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     handle.shutdown();
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! server.serve(listener).await?;
//! # Ok(()) }
//! ```

use duplex_rt_common::broker as common;

use crate::Tokio;

/// Builds a [`BrokerServer`]. Every setting has a default; see each method.
pub type Builder = common::Builder<Tokio>;

/// A STOMP-over-WebSocket broker server on tokio. Build it with [`BrokerServer::builder`],
/// keep a [`handle`](BrokerServer::handle) to publish and to shut down, then
/// [`serve`](BrokerServer::serve) a `tokio::net::TcpListener` (inside a tokio runtime:
/// connections are served on `tokio::spawn`).
pub type BrokerServer = common::BrokerServer<Tokio>;

/// A cloneable handle on a running (or about to run) [`BrokerServer`]: publish, reach users,
/// read counters, shut down.
pub type BrokerHandle = common::BrokerHandle<Tokio>;

/// Handed to an async `/app` handler with the message, to reply through the broker.
pub type AppContext = common::AppContext<Tokio>;

/// Answers plain HTTP requests on the endpoint's port: `Some(response)` (see
/// [`http_response`](duplex_core::ws::handshake::http_response)), or `None` for 404.
pub type HttpHandler = common::HttpHandler<Tokio>;

pub use common::HostStats;
