//! Shared test helpers: self-signed certificates for 127.0.0.1 made with rcgen.

#![allow(dead_code)]

use std::sync::Arc;

/// A server config and a client config that trusts it, for `localhost` / `127.0.0.1`.
pub fn tls_pair() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("rcgen");
    let cert_pem = cert.cert.pem();
    let key_pem = cert.key_pair.serialize_pem();
    let server = duplex_mio::tls::server_config_from_pem(cert_pem.as_bytes(), key_pem.as_bytes())
        .expect("server config");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).expect("root");
    (server, duplex_mio::tls::client_config_with_roots(roots))
}
