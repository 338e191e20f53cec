//! # duplex-core
//!
//! Sans-IO protocol machines for WebSocket (RFC 6455) and STOMP 1.0–1.2.
//!
//! Every machine here takes bytes and time in and gives bytes, events and deadlines out. Nothing in
//! this crate opens a socket, reads a clock, spawns a thread or draws OS randomness: the runtime
//! adapters (`duplex-tokio`, `duplex-smol`, `duplex-mio`, `duplex-sim`) do that, and so can you in
//! your own event loop.
//!
//! The contract every machine keeps:
//! - inputs: `handle_input(now, bytes)`, `handle_timeout(now)` and API calls;
//! - outputs: `poll_event()`, `poll_transmit()`, `poll_timeout()`;
//! - after any input, drain events, then transmit, then re-arm the timer.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod broker;
pub mod rng;
pub mod stomp;
pub mod time;
pub mod ws;

pub use rng::{RandomSource, SeededRng};
pub use time::Instant;
