//! Helpers shared by the behaviour suites: self-signed certificates made at test time, and small
//! servers on ephemeral loopback ports.

pub mod rt;

use std::sync::Arc;

/// A self-signed certificate for `localhost` and 127.0.0.1, as PEM (certificate, private key).
pub fn self_signed() -> (String, String) {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let cert = rcgen::generate_simple_self_signed(names).expect("rcgen");
    (cert.cert.pem(), cert.key_pair.serialize_pem())
}

/// A rustls client config that trusts exactly `cert_pem`.
pub fn client_trusting(cert_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots.add(cert.expect("PEM")).expect("root");
    }
    duplex_tokio::tls::client_config_with_roots(roots)
}
