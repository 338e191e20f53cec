//! [`StompTransport`]: the byte transport a STOMP session rides on — a TCP (or TLS) stream, or a
//! WebSocket whose messages carry the STOMP bytes (STOMP does not care how they are cut). The
//! transport's calls are written here for both sides: over a WebSocket ([`read_ws`],
//! [`write_ws`], [`close_ws`]) and over a stream seen as a [`ByteStream`] ([`read_stream`],
//! [`write_stream`], [`close_stream`]).

use std::future::Future;

use bytes::{Bytes, BytesMut};
use duplex_core::ws::{CloseCode, Event, Message};

use crate::runtime::MessageSocket;
use crate::ws::ByteStream;
use crate::Error;

/// Where STOMP bytes go (a runtime's `stomp::Transport`).
pub trait StompTransport: Send + std::fmt::Debug + 'static {
    /// The WebSocket subprotocol the handshake selected (`None` over TCP).
    fn protocol(&self) -> Option<&str>;

    /// Read more STOMP bytes into `buf` (a stream may read through `scratch` first). `Ok(0)`
    /// means the transport ended. Cancel-safe: `buf` only grows once a read has completed.
    fn read(
        &mut self,
        scratch: &mut [u8],
        buf: &mut BytesMut,
    ) -> impl Future<Output = Result<usize, Error>> + Send;

    /// Write STOMP bytes (and flush them).
    fn write(&mut self, data: Bytes) -> impl Future<Output = Result<(), Error>> + Send;

    /// Close the transport (a WebSocket close handshake with 1000, or a TCP shutdown).
    fn close(&mut self) -> impl Future<Output = Result<(), Error>> + Send;
}

/// [`StompTransport::read`] over a WebSocket: the payload of the next non-empty message or
/// chunk. `Ok(0)` once the connection has ended.
pub async fn read_ws<W: MessageSocket>(ws: &mut W, buf: &mut BytesMut) -> Result<usize, Error> {
    loop {
        match ws.next_event().await? {
            Some(Event::Message(m)) => {
                let payload = m.payload();
                if payload.is_empty() {
                    continue;
                }
                buf.extend_from_slice(payload);
                return Ok(payload.len());
            }
            Some(Event::Chunk { data, .. }) if !data.is_empty() => {
                buf.extend_from_slice(&data);
                return Ok(data.len());
            }
            Some(_) => continue,
            None => return Ok(0),
        }
    }
}

/// [`StompTransport::write`] over a WebSocket: one text message when the bytes are UTF-8 (what
/// browsers' STOMP clients expect), otherwise one binary message.
pub async fn write_ws<W: MessageSocket>(ws: &mut W, data: Bytes) -> Result<(), Error> {
    ws.send(&Message::text_or_binary(data)).await
}

/// [`StompTransport::close`] over a WebSocket: the closing handshake with 1000, unless it has
/// already ended.
pub async fn close_ws<W: MessageSocket>(ws: &mut W) -> Result<(), Error> {
    if ws.close_info().is_none() {
        ws.close(CloseCode::NORMAL, "").await?;
    }
    Ok(())
}

/// [`StompTransport::read`] over a stream: one read into `scratch`, appended to `buf`.
pub async fn read_stream<B: ByteStream>(
    io: &mut B,
    scratch: &mut [u8],
    buf: &mut BytesMut,
) -> Result<usize, Error> {
    let n = io.read(scratch).await?;
    buf.extend_from_slice(&scratch[..n]);
    Ok(n)
}

/// [`StompTransport::write`] over a stream: write all, then flush.
pub async fn write_stream<B: ByteStream>(io: &mut B, data: Bytes) -> Result<(), Error> {
    io.write_all(&data).await?;
    io.flush().await?;
    Ok(())
}

/// [`StompTransport::close`] over a stream: shut the write side (errors ignored: it is going).
pub async fn close_stream<B: ByteStream>(io: &mut B) -> Result<(), Error> {
    let _ = io.shutdown().await;
    Ok(())
}
