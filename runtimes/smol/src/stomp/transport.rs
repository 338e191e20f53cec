//! The byte transports a STOMP session rides on: a TCP (or TLS) stream, or a WebSocket whose
//! messages carry the STOMP bytes (STOMP does not care how they are cut).

use bytes::BytesMut;
use duplex_core::ws::{CloseCode, Event, Message};
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

use crate::stream::MaybeTlsStream;
use crate::ws::WebSocket;
use crate::Error;

/// Where STOMP bytes go.
#[derive(Debug)]
pub enum Transport {
    /// STOMP over TCP (port 61613), plain or TLS.
    Stream(MaybeTlsStream),
    /// STOMP over WebSocket (`v12.stomp` and friends).
    WebSocket(Box<WebSocket<MaybeTlsStream>>),
}

impl Transport {
    /// Read more STOMP bytes into `buf` (a stream reads through `scratch` first). `Ok(0)` means
    /// the transport ended. Cancel-safe: `buf` only grows once a read has completed.
    pub(crate) async fn read(
        &mut self,
        scratch: &mut [u8],
        buf: &mut BytesMut,
    ) -> Result<usize, Error> {
        match self {
            Transport::Stream(s) => {
                let n = s.read(scratch).await?;
                buf.extend_from_slice(&scratch[..n]);
                Ok(n)
            }
            Transport::WebSocket(ws) => loop {
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
            },
        }
    }

    /// Write STOMP bytes. Over WebSocket they go as one text message when they are UTF-8 (what
    /// browsers' STOMP clients expect), otherwise as one binary message.
    pub(crate) async fn write(&mut self, data: bytes::Bytes) -> Result<(), Error> {
        match self {
            Transport::Stream(s) => {
                s.write_all(&data).await?;
                s.flush().await?;
                Ok(())
            }
            Transport::WebSocket(ws) => {
                let message = Message::text_or_binary(data);
                ws.send(&message).await
            }
        }
    }

    /// Close the transport (a WebSocket close handshake with 1000, or a TCP shutdown).
    pub(crate) async fn close(&mut self) -> Result<(), Error> {
        match self {
            Transport::Stream(s) => {
                let _ = s.close().await;
                Ok(())
            }
            Transport::WebSocket(ws) => {
                if ws.close_info().is_none() {
                    ws.close(CloseCode::NORMAL, "").await?;
                }
                Ok(())
            }
        }
    }
}
