//! # duplex-smol
//!
//! Runs the sans-IO machines of [`duplex_core`] on smol / `async-io`: a read loop, a write loop,
//! a timer, and rustls (through `futures-rustls`) for `wss://`. No protocol logic lives here.
//!
//! The API has the same shape as `duplex-tokio`'s: the same modules, functions, option structs
//! and error type, so picking a runtime is picking a crate. The streams are `futures-io` streams
//! (`futures_lite::io::{AsyncRead, AsyncWrite}`) instead of tokio's, and timers are
//! [`async_io::Timer`]s; any executor works (`smol::block_on`, `smol::spawn`,
//! `async_executor::Executor`…).
//!
//! ```no_run
//! # async fn demo() -> Result<(), duplex_smol::Error> {
//! let mut ws = duplex_smol::ws::connect("ws://127.0.0.1:9001/").await?;
//! ws.send_text("hello").await?;
//! while let Some(msg) = ws.recv().await? {
//!     println!("{msg:?}");
//! }
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod broker;
mod clock;
mod rt;
pub mod stomp;
mod stream;
pub mod tls;
pub mod ws;

pub use duplex_core;
pub use duplex_rt_common::Error;
pub use rt::Smol;
pub use stream::MaybeTlsStream;
