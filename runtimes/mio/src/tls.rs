//! TLS for `wss://` with rustls: client configs with the webpki roots or a given root store, and
//! server configs from PEM (the configs are `duplex-rt-common`'s, shared with every runtime). The sockets drive rustls's own state machine
//! (`read_tls` → `process_new_packets` → `reader()`, `writer()` → `write_tls`); nothing here
//! blocks.

use std::path::Path;
use std::sync::Arc;

pub use duplex_rt_common::tls::{client_config_webpki, client_config_with_roots};

use crate::Error;

/// A server config from a certificate chain and a private key in PEM.
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, Error> {
    Ok(duplex_rt_common::tls::server_config_from_pem(
        cert_pem, key_pem,
    )?)
}

/// A server config from a certificate chain file and a private key file, both PEM (what
/// `duplex_tokio::tls::acceptor_from_pem_files` is on tokio; put it in
/// [`AcceptOptions::tls`](crate::ws::AcceptOptions::tls)).
pub fn server_config_from_pem_files(
    cert: impl AsRef<Path>,
    key: impl AsRef<Path>,
) -> Result<Arc<rustls::ServerConfig>, Error> {
    Ok(duplex_rt_common::tls::server_config_from_pem_files(
        cert.as_ref(),
        key.as_ref(),
    )?)
}
