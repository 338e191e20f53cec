//! Options for opening client connections and accepting server ones.

use std::sync::Arc;

use duplex_core::ws::handshake::ServerConfig;
use duplex_core::ws::Config;

/// Options for [`Socket::connect`](super::Socket::connect) and [`connect_with`](super::connect_with)
/// (the same on every runtime).
pub use duplex_rt_common::ConnectOptions;

/// Options for [`Socket::accept`](super::Socket::accept) and [`accept_with`](super::accept_with).
#[derive(Clone, Debug, Default)]
pub struct AcceptOptions {
    /// Handshake settings: subprotocols, origin policy, limits.
    pub handshake: Arc<ServerConfig>,
    /// Connection settings.
    pub config: Config,
    /// Serve `wss`: run a rustls server connection with this config under the WebSocket (see
    /// [`tls::server_config_from_pem_files`](crate::tls::server_config_from_pem_files)).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}
