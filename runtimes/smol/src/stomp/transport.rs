//! The byte transports a STOMP session rides on: a TCP (or TLS) stream, or a WebSocket whose
//! messages carry the STOMP bytes (STOMP does not care how they are cut). Reading and writing
//! them is `duplex-rt-common`'s (`StompTransport`, implemented by `impl_adapter_glue!`).

use crate::stream::MaybeTlsStream;
use crate::ws::WebSocket;

/// Where STOMP bytes go.
#[derive(Debug)]
pub enum Transport {
    /// STOMP over TCP (port 61613), plain or TLS.
    Stream(MaybeTlsStream),
    /// STOMP over WebSocket (`v12.stomp` and friends).
    WebSocket(Box<WebSocket<MaybeTlsStream>>),
}
