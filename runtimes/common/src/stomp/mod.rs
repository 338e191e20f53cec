//! The STOMP client, written once: [`StompClient`] drives the core's
//! [`ClientSession`](duplex_core::stomp::ClientSession) over a [`StompTransport`] that a
//! [`Dial`](crate::runtime::Dial) runtime opens (`duplex_tokio::stomp::StompClient` is
//! `StompClient<duplex_tokio::Tokio>`).

mod client;
mod transport;

pub use client::{StompClient, StompError};
pub use transport::{
    close_stream, close_ws, read_stream, read_ws, write_stream, write_ws, StompTransport,
};
