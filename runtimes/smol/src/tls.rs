//! TLS for `wss://` with rustls: client configs with the webpki roots or a given root store (from
//! `duplex-rt-common`, no runtime involved), and `futures-rustls` connectors and acceptors.

use std::path::Path;
use std::sync::Arc;

use futures_rustls::{TlsAcceptor, TlsConnector};

pub use duplex_rt_common::tls::{
    client_config_webpki, client_config_with_roots, server_config_from_pem,
};

use crate::Error;

/// A connector for a client config.
pub fn connector(config: Arc<rustls::ClientConfig>) -> TlsConnector {
    TlsConnector::from(config)
}

/// An acceptor from a certificate chain file and a private key file, both PEM.
pub fn acceptor_from_pem_files(
    cert: impl AsRef<Path>,
    key: impl AsRef<Path>,
) -> Result<TlsAcceptor, Error> {
    let config = duplex_rt_common::tls::server_config_from_pem_files(cert.as_ref(), key.as_ref())?;
    Ok(TlsAcceptor::from(config))
}
