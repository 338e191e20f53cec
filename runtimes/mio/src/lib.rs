//! # duplex-mio
//!
//! Runs the sans-IO machines of [`duplex_core`] on a plain [`mio`] event loop — yours. No async
//! runtime, no threads: a connection is a value you register in your `mio::Poll` under a token
//! you choose, and it tells you which interest it needs (readable until EOF, writable only
//! while the core has bytes to send), when its next timer is due (from the core's
//! `poll_timeout`), and what happened. TLS drives rustls's own state machine. No protocol logic
//! lives here: read, write, timers, TLS.
//!
//! - [`ws::Socket`]: a WebSocket connection (client or server) in your loop;
//! - [`stomp::StompSocket`]: a STOMP client session (over TCP or WebSocket) in your loop;
//! - blocking conveniences on a private `Poll`, with the names `duplex-tokio` uses:
//!   [`ws::connect`], [`ws::accept_with`], [`ws::WebSocket`], [`stomp::StompClient`];
//! - [`broker::BrokerServer`]: the core broker hosted on a loop of its own (your thread or a
//!   spawned one), STOMP over WebSocket;
//! - [`time`]: the clock mapping, for driving core machines (a broker) next to the sockets.
//!
//! ```no_run
//! # fn demo() -> Result<(), duplex_mio::Error> {
//! let mut ws = duplex_mio::ws::connect("ws://127.0.0.1:9001/")?;
//! ws.send_text("hello")?;
//! while let Some(msg) = ws.recv()? {
//!     println!("{msg:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! The event-loop pattern (one socket shown; keep many in a map by token):
//!
//! ```no_run
//! use duplex_mio::ws::{Socket, SocketEvent};
//! use duplex_mio::duplex_core::ws::Event;
//! # fn demo() -> Result<(), duplex_mio::Error> {
//! let mut poll = mio::Poll::new()?;
//! let mut events = mio::Events::with_capacity(64);
//! let mut socket = Socket::connect("ws://127.0.0.1:9001/", Default::default())?;
//! socket.register(poll.registry(), mio::Token(1))?;
//! while !socket.is_finished() {
//!     poll.poll(&mut events, duplex_mio::time::poll_timeout(socket.next_deadline()))?;
//!     for event in events.iter() {
//!         socket.handle_ready(poll.registry(), event)?;
//!     }
//!     if socket.next_deadline().is_some_and(|at| at <= std::time::Instant::now()) {
//!         socket.handle_timeout();
//!     }
//!     while let Some(event) = socket.poll_event()? {
//!         match event {
//!             SocketEvent::Open { .. } => socket.send_text("hello")?,
//!             SocketEvent::Ws(Event::Message(m)) => socket.send(&m)?,
//!             _ => {}
//!         }
//!     }
//!     socket.flush(poll.registry())?;
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod blocking;
pub mod broker;
mod error;
mod io;
pub mod stomp;
pub mod time;
pub mod tls;
pub mod ws;

pub use duplex_core;
pub use error::Error;
pub use mio;

/// A random source seeded from the OS: what the sockets use for mask keys and handshake keys
/// (RFC 6455 §10.3), for core machines you create yourself (a `Broker`'s session ids).
pub fn os_rng() -> duplex_core::SeededRng {
    time::os_rng()
}
