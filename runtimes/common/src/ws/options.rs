//! The WebSocket option structs, the same on every runtime (`duplex_tokio::ws::ConnectOptions`,
//! `duplex_smol::ws::AcceptOptions`…).

use std::sync::Arc;

use duplex_core::stomp::ws::WS_SUBPROTOCOLS;
use duplex_core::ws::handshake::ServerConfig;
use duplex_core::ws::Config;

/// Options for a runtime's `ws::connect_with`.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Subprotocols to offer, most preferred first.
    pub protocols: Vec<String>,
    /// An `Origin` header to send.
    pub origin: Option<String>,
    /// More request headers.
    pub headers: Vec<(String, String)>,
    /// Connection settings.
    pub config: Config,
    /// TLS settings for `wss://`; default: the webpki roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Options for a runtime's `ws::accept_with`.
#[derive(Clone, Debug, Default)]
pub struct AcceptOptions {
    /// Handshake settings: subprotocols, origin policy, limits.
    pub handshake: Arc<ServerConfig>,
    /// Connection settings.
    pub config: Config,
}

/// The STOMP subprotocols (`v12.stomp`…), as offered and accepted over WebSocket.
pub(crate) fn stomp_subprotocols() -> Vec<String> {
    WS_SUBPROTOCOLS.iter().map(|s| s.to_string()).collect()
}
