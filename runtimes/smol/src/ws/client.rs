//! Opening a client connection: `ws://` and `wss://` (RFC 6455 §4.1).

use async_net::TcpStream;
use duplex_core::ws::WsUrl;
use duplex_rt_common::ws::client_handshake;
use futures_lite::io::{AsyncRead, AsyncWrite};

use super::handshake::Io;
use super::socket::WebSocket;
use crate::clock::{os_rng, Clock};
use crate::rt::SmolClock;
use crate::stream::MaybeTlsStream;
use crate::{tls, Error};

pub use duplex_rt_common::ConnectOptions;

/// Connect to a `ws://` or `wss://` URL with default options.
pub async fn connect(url: &str) -> Result<WebSocket<MaybeTlsStream>, Error> {
    connect_with(url, ConnectOptions::default()).await
}

/// Connect to a `ws://` or `wss://` URL.
pub async fn connect_with(
    url: &str,
    options: ConnectOptions,
) -> Result<WebSocket<MaybeTlsStream>, Error> {
    let url = WsUrl::parse(url)?;
    let tcp = TcpStream::connect((url.host.as_str(), url.port)).await?;
    tcp.set_nodelay(true)?;
    let stream = if url.secure {
        let config = options
            .tls
            .clone()
            .unwrap_or_else(tls::client_config_webpki);
        let name = duplex_rt_common::tls::server_name(&url.host)?;
        let tls = tls::connector(config).connect(name, tcp).await?;
        MaybeTlsStream::Tls(Box::new(tls.into()))
    } else {
        MaybeTlsStream::Plain(tcp)
    };
    handshake(stream, &url, options).await
}

/// Run the client handshake over a stream you opened yourself.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    mut io: S,
    url: &WsUrl,
    options: ConnectOptions,
) -> Result<WebSocket<S>, Error> {
    let clock = Clock::new();
    let parts =
        client_handshake(&mut Io(&mut io), url, options, SmolClock(clock), os_rng()).await?;
    Ok(WebSocket::from_parts(
        io,
        parts.conn,
        clock,
        parts.protocol,
        &parts.leftover,
    ))
}
