//! # duplex-tokio
//!
//! Runs the sans-IO machines of [`duplex_core`] on tokio: a read loop, a write loop, a timer, and
//! rustls for `wss://`. No protocol logic lives here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), duplex_tokio::Error> {
//! let mut ws = duplex_tokio::ws::connect("ws://127.0.0.1:9001/").await?;
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
pub use rt::Tokio;
pub use stream::MaybeTlsStream;
