//! Opening a client connection: `ws://` and `wss://` (RFC 6455 §4.1).

use duplex_core::ws::handshake::{ClientHandshake, ClientOutcome, ClientRequest};
use duplex_core::ws::{Connection, WsUrl};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::handshake::drive;
use super::socket::WebSocket;
use crate::clock::{os_rng, Clock};
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
    let mut rng = os_rng();
    let mut request = ClientRequest::new(url.host_header(), url.resource.clone());
    request.protocols = options.protocols;
    request.origin = options.origin;
    request.extra_headers = options.headers;
    let mut machine = ClientHandshake::new(clock.now(), request, &mut rng);
    match drive(&mut machine, &mut io, clock).await? {
        ClientOutcome::Accepted {
            protocol, leftover, ..
        } => {
            let conn = Connection::client(clock.now(), options.config, Box::new(rng));
            Ok(WebSocket::from_parts(io, conn, clock, protocol, &leftover))
        }
        ClientOutcome::Failed(e) => Err(e.into()),
    }
}
