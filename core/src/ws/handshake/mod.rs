//! The opening handshake, RFC 6455 §4 (placeholder, being written).
