//! WebSocket, RFC 6455: the opening handshake ([`handshake`]) and the connection machine that
//! runs after it.

pub mod handshake;
