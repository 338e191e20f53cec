//! The WebSocket opening handshake, RFC 6455 §4, as two sans-IO machines.
//!
//! - [`client::ClientHandshake`] writes the client's opening handshake (§4.1) and validates the
//!   server's `101 Switching Protocols` answer.
//! - [`server::ServerHandshake`] reads the client's opening handshake (§4.2.1), answers it with a
//!   `101` (§4.2.2) or an HTTP error (`400`, `403`, `405`, `408`, `426`, `431`), and hands plain HTTP
//!   requests (a web page, `/healthz`) back to the caller.
//!
//! Both machines keep the crate's contract: bytes and time in (`handle_input`, `handle_timeout`),
//! an outcome, bytes and a deadline out (`poll_outcome`, `poll_transmit`, `poll_timeout`). Bytes that
//! arrive glued behind the head (`\r\n\r\n`) are handed over as `leftover`, never dropped: they
//! belong to the connection machine that runs next.
//!
//! Heads are parsed with `httparse`; the accept key ([`accept::accept_key`]) is SHA-1 and base64.

use std::time::Duration;

pub mod accept;
pub mod client;
mod head;
mod http;
mod scan;
pub mod server;

pub use accept::accept_key;
pub use client::{ClientHandshake, ClientOutcome, ClientRequest};
pub use head::{RequestHead, ResponseHead};
pub use http::http_response;
pub use server::{OriginPolicy, ServerConfig, ServerHandshake, ServerOutcome};

/// The only protocol version this crate speaks, RFC 6455 §4.1 (`Sec-WebSocket-Version: 13`).
pub const WEBSOCKET_VERSION: &str = "13";

/// Limits on one opening handshake, for both roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeLimits {
    /// Largest head (request or status line, header lines and the empty line that ends them), in
    /// bytes. A head that is not complete within this many bytes fails with
    /// [`HandshakeError::TooLarge`]; a server answers `431 Request Header Fields Too Large`.
    /// Default: 16 KiB, h11's cap on incomplete input.
    pub max_head_bytes: usize,
    /// How long the peer has to send a complete head, counted from the machine's creation. A server
    /// answers a late (slowloris) client with `408 Request Timeout`. Default: 10 seconds.
    pub timeout: Duration,
}

impl HandshakeLimits {
    /// The default [`max_head_bytes`](Self::max_head_bytes): 16 KiB.
    pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;
    /// The default [`timeout`](Self::timeout): 10 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for HandshakeLimits {
    /// 16 KiB of head, 10 seconds to send it.
    fn default() -> Self {
        HandshakeLimits {
            max_head_bytes: Self::DEFAULT_MAX_HEAD_BYTES,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

/// Why an opening handshake failed.
///
/// A misbehaving peer is not an `Err` returned from a call: the machine reports one of these in its
/// outcome (and, on the server, queues the matching HTTP answer, see [`HandshakeError::status`]).
#[derive(thiserror::Error, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head was not complete within [`HandshakeLimits::max_head_bytes`].
    #[error("handshake head larger than {limit} bytes")]
    TooLarge {
        /// The limit that was passed.
        limit: usize,
    },
    /// The head was not complete within [`HandshakeLimits::timeout`].
    #[error("handshake timed out")]
    Timeout,
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP head: {0}")]
    Malformed(String),
    /// A WebSocket request not made with `GET`, RFC 6455 §4.2.1 item 1.
    #[error("WebSocket upgrade with method {0}, not GET")]
    BadMethod(String),
    /// A WebSocket request or `101` response in HTTP older than 1.1, RFC 6455 §4.2.1 item 1.
    #[error("WebSocket handshake needs HTTP/1.1 or later")]
    BadHttpVersion,
    /// A WebSocket request without a `Host` header, RFC 6455 §4.2.1 item 2.
    #[error("missing Host header")]
    MissingHost,
    /// `Upgrade: websocket` or `Connection: Upgrade` is missing, RFC 6455 §4.2.1 items 3–4 and
    /// §4.1 (client validation items 2–3).
    #[error("not a WebSocket upgrade (Upgrade/Connection headers)")]
    NotUpgrade,
    /// `Sec-WebSocket-Version` is missing or not 13, RFC 6455 §4.2.1 item 6 and §4.4.
    #[error("unsupported Sec-WebSocket-Version (only 13)")]
    BadVersion,
    /// `Sec-WebSocket-Key` is missing, RFC 6455 §4.2.1 item 5.
    #[error("missing Sec-WebSocket-Key")]
    MissingKey,
    /// `Sec-WebSocket-Key` does not decode to 16 bytes, or appears twice, RFC 6455 §4.2.1 item 5.
    #[error("Sec-WebSocket-Key is not 16 base64-encoded bytes")]
    BadKey,
    /// `Sec-WebSocket-Accept` is missing or does not match our key, RFC 6455 §4.1 (item 4 of the
    /// client's checks).
    #[error("Sec-WebSocket-Accept missing or wrong")]
    BadAccept,
    /// The server's [`OriginPolicy`] refused the request's `Origin`, RFC 6455 §4.2.2 and §10.2.
    #[error("origin refused")]
    OriginRefused,
    /// The server answered with a status other than 101, RFC 6455 §4.1 (item 1 of the client's
    /// checks).
    #[error("server answered {status} instead of 101")]
    Rejected {
        /// The status code the server sent.
        status: u16,
    },
    /// The server selected a subprotocol the client did not offer, RFC 6455 §4.1 (item 6).
    #[error("server selected a subprotocol that was not offered")]
    UnexpectedProtocol,
    /// The server selected an extension the client did not offer, RFC 6455 §4.1 (item 5).
    #[error("server selected an extension that was not offered")]
    UnexpectedExtension,
    /// The peer closed the connection before the head was complete.
    #[error("connection closed during the handshake")]
    ConnectionClosed,
    /// The caller's own request could not be written (a header value with CR/LF, an empty host, a
    /// path that does not start with `/`...). A local error: nothing was sent.
    #[error("invalid client request: {0}")]
    InvalidRequest(String),
}

impl HandshakeError {
    /// The HTTP status a server answers this error with (h11's "status hint"), or `None` for
    /// errors a server never answers (client-side failures).
    pub fn status(&self) -> Option<u16> {
        use HandshakeError::*;
        match self {
            TooLarge { .. } => Some(431),
            Timeout => Some(408),
            Malformed(_) | BadHttpVersion | MissingHost | NotUpgrade | MissingKey | BadKey
            | ConnectionClosed => Some(400),
            BadMethod(_) => Some(405),
            BadVersion => Some(426),
            OriginRefused => Some(403),
            BadAccept
            | Rejected { .. }
            | UnexpectedProtocol
            | UnexpectedExtension
            | InvalidRequest(_) => None,
        }
    }
}
