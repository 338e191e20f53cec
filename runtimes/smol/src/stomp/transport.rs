//! The byte transports a STOMP session rides on: a TCP (or TLS) stream, or a WebSocket whose
//! messages carry the STOMP bytes (STOMP does not care how they are cut). The WebSocket side is
//! `duplex-rt-common`'s; the stream side is `futures-io`'s traits.

use bytes::{Bytes, BytesMut};
use duplex_rt_common::runtime::MessageSocket;
use duplex_rt_common::stomp::{close_ws, read_ws, write_ws, StompTransport};
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

impl StompTransport for Transport {
    fn protocol(&self) -> Option<&str> {
        match self {
            Transport::Stream(_) => None,
            Transport::WebSocket(ws) => MessageSocket::protocol(ws.as_ref()),
        }
    }

    async fn read(&mut self, scratch: &mut [u8], buf: &mut BytesMut) -> Result<usize, Error> {
        match self {
            Transport::Stream(s) => {
                let n = s.read(scratch).await?;
                buf.extend_from_slice(&scratch[..n]);
                Ok(n)
            }
            Transport::WebSocket(ws) => read_ws(ws.as_mut(), buf).await,
        }
    }

    async fn write(&mut self, data: Bytes) -> Result<(), Error> {
        match self {
            Transport::Stream(s) => {
                s.write_all(&data).await?;
                s.flush().await?;
                Ok(())
            }
            Transport::WebSocket(ws) => write_ws(ws.as_mut(), data).await,
        }
    }

    async fn close(&mut self) -> Result<(), Error> {
        match self {
            Transport::Stream(s) => {
                let _ = s.close().await;
                Ok(())
            }
            Transport::WebSocket(ws) => close_ws(ws.as_mut()).await,
        }
    }
}
