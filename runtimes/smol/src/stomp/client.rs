//! A STOMP client on smol: the core's [`ClientSession`](duplex_core::stomp::ClientSession) over
//! TCP or WebSocket (the driver is `duplex-rt-common`'s, shared with every runtime).

use crate::Smol;

/// A connected STOMP client on smol.
///
/// Application calls (`subscribe`, `send`, `ack`…) queue frames and write them at once;
/// [`next_event`](duplex_rt_common::stomp::StompClient::next_event) reads, fires heart-beat
/// timers and returns what happened. Every `async fn` is cancel-safe: a dropped call loses
/// nothing that was queued or read.
pub type StompClient = duplex_rt_common::stomp::StompClient<Smol>;

pub use duplex_rt_common::stomp::StompError;
