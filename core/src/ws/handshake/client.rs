//! The client's side of the opening handshake, RFC 6455 §4.1: write the `GET` with
//! `Upgrade: websocket`, then read and validate the server's answer.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::accept::{accept_key, encode_key};
use super::head::{has_token, parse_response, ResponseHead};
use super::http::{is_clean, is_token, write_header};
use super::scan::{HeadBuffer, Scan};
use super::{HandshakeError, HandshakeLimits, WEBSOCKET_VERSION};
use crate::rng::RandomSource;
use crate::time::Instant;

/// Headers the handshake writes itself; [`ClientRequest::extra_headers`] may not repeat them.
const MANAGED_HEADERS: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "origin",
];

/// What the client asks for, RFC 6455 §4.1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequest {
    /// The `Host` header: `host` or `host:port` (§4.1 item 4).
    pub host: String,
    /// The request-target, starting with `/`, including any query: `/chat?room=1` (§4.1 item 3).
    pub path: String,
    /// The `Origin` header, which browsers send and other clients may (§4.1 item 8, §10.2).
    pub origin: Option<String>,
    /// Subprotocols to offer in `Sec-WebSocket-Protocol`, most preferred first; each must be a
    /// token and appear once (§4.1 item 10). Empty: the header is not sent.
    pub protocols: Vec<String>,
    /// More headers (cookies, authorization...). They may not repeat a header the handshake writes
    /// itself (`Host`, `Upgrade`, `Connection`, `Sec-WebSocket-Key`, `-Version`, `-Protocol`,
    /// `Origin`). A `Sec-WebSocket-Extensions` header here offers those extensions: the server may
    /// then select them, and the caller negotiates them.
    pub extra_headers: Vec<(String, String)>,
    /// Size and time limits on the server's answer.
    pub limits: HandshakeLimits,
}

impl ClientRequest {
    /// A request for `path` on `host`, with no origin, subprotocols or extra headers, and default
    /// limits.
    pub fn new(host: impl Into<String>, path: impl Into<String>) -> Self {
        ClientRequest {
            host: host.into(),
            path: path.into(),
            origin: None,
            protocols: Vec::new(),
            extra_headers: Vec::new(),
            limits: HandshakeLimits::default(),
        }
    }
}

/// How the client's handshake ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientOutcome {
    /// The server switched to WebSocket (§4.1: "_The WebSocket Connection is Established_").
    Accepted {
        /// The server's `101` head.
        response: ResponseHead,
        /// The subprotocol the server selected, if any: always one the client offered.
        protocol: Option<String>,
        /// Bytes that came after the head (the server's first frames): feed them to the
        /// connection machine before anything read later.
        leftover: BytesMut,
    },
    /// The handshake failed; the client must close the connection (§4.1: "_Fail the WebSocket
    /// Connection_"). When a response head was read, [`ClientHandshake::response`] has it, e.g.
    /// with [`HandshakeError::Rejected`].
    Failed(HandshakeError),
}

/// The client's opening handshake, RFC 6455 §4.1, as a sans-IO machine.
///
/// Methods, by kind:
/// - getters: [`key`](Self::key), [`response`](Self::response);
/// - inputs: [`handle_input`](Self::handle_input), [`handle_timeout`](Self::handle_timeout),
///   [`handle_eof`](Self::handle_eof);
/// - outputs: [`poll_outcome`](Self::poll_outcome), [`poll_transmit`](Self::poll_transmit),
///   [`poll_timeout`](Self::poll_timeout).
///
/// After creating it and after every input: drain the outcome, then transmit, then re-arm the timer
/// from `poll_timeout`. The request is ready to transmit right after [`new`](Self::new). Once there
/// is an outcome, later inputs change nothing; bytes that arrive before an `Accepted` outcome is
/// polled are added to its `leftover`.
pub struct ClientHandshake {
    key: String,
    protocols: Vec<String>,
    /// Extension names offered through `extra_headers`.
    extensions: Vec<String>,
    transmit: Option<Bytes>,
    buffer: HeadBuffer,
    deadline: Instant,
    reading: bool,
    outcome: Option<ClientOutcome>,
    response: Option<ResponseHead>,
    leftover: BytesMut,
}

impl fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("key", &self.key)
            .field("reading", &self.reading)
            .field("deadline", &self.deadline)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl ClientHandshake {
    /// Start a handshake at `now`: draws a 16-byte nonce from `rng` for `Sec-WebSocket-Key`
    /// (§4.1 item 7) and writes the request. The server has until `now + request.limits.timeout` to
    /// answer.
    ///
    /// A request that cannot be written (see [`HandshakeError::InvalidRequest`]) sends nothing and
    /// ends at once with [`ClientOutcome::Failed`].
    pub fn new(now: Instant, request: ClientRequest, rng: &mut dyn RandomSource) -> Self {
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        let key = encode_key(&nonce);
        let extensions = request
            .extra_headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
            .flat_map(|(_, v)| v.split(','))
            .filter_map(extension_name)
            .map(str::to_owned)
            .collect();
        let mut machine = ClientHandshake {
            key,
            protocols: request.protocols.clone(),
            extensions,
            transmit: None,
            buffer: HeadBuffer::new(request.limits.max_head_bytes),
            deadline: now + request.limits.timeout,
            reading: true,
            outcome: None,
            response: None,
            leftover: BytesMut::new(),
        };
        match write_request(&request, &machine.key) {
            Ok(bytes) => machine.transmit = Some(bytes),
            Err(error) => machine.finish(ClientOutcome::Failed(error)),
        }
        machine
    }

    /// The `Sec-WebSocket-Key` sent (base64 of 16 random bytes).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The server's response head, once one was read (also when it failed validation).
    pub fn response(&self) -> Option<&ResponseHead> {
        self.response.as_ref()
    }

    /// After a failure with a response head (e.g. [`HandshakeError::Rejected`]), the bytes that
    /// followed it: the start of the error response's body. Empty otherwise.
    pub fn take_leftover(&mut self) -> BytesMut {
        std::mem::take(&mut self.leftover)
    }

    /// The request bytes, once.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.take()
    }

    /// Bytes read from the server. They are buffered until the head's empty line, then the response
    /// is validated (RFC 6455 §4.1, the client's checks).
    pub fn handle_input(&mut self, _now: Instant, data: &[u8]) {
        if !self.reading {
            match &mut self.outcome {
                Some(ClientOutcome::Accepted { leftover, .. }) => leftover.extend_from_slice(data),
                _ if data.is_empty() => {}
                _ => tracing::debug!(len = data.len(), "client handshake over: input ignored"),
            }
            return;
        }
        match self.buffer.push(data) {
            Scan::Incomplete => {}
            Scan::TooLarge => self.finish(ClientOutcome::Failed(HandshakeError::TooLarge {
                limit: self.buffer.max_head_bytes(),
            })),
            Scan::Complete { head, leftover } => self.read_response(&head, leftover),
        }
    }

    /// The timer fired. Before [`poll_timeout`](Self::poll_timeout)'s deadline this does nothing;
    /// at or after it, with no complete answer, the handshake fails with
    /// [`HandshakeError::Timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.reading && now >= self.deadline {
            self.finish(ClientOutcome::Failed(HandshakeError::Timeout));
        }
    }

    /// The server closed the connection. Before a complete answer, the handshake fails with
    /// [`HandshakeError::ConnectionClosed`].
    pub fn handle_eof(&mut self) {
        if self.reading {
            self.finish(ClientOutcome::Failed(HandshakeError::ConnectionClosed));
        }
    }

    /// When to call [`handle_timeout`](Self::handle_timeout): the handshake deadline, while the
    /// answer is awaited.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.reading.then_some(self.deadline)
    }

    /// How the handshake ended, once; `None` before that and after.
    pub fn poll_outcome(&mut self) -> Option<ClientOutcome> {
        self.outcome.take()
    }

    fn finish(&mut self, outcome: ClientOutcome) {
        if let ClientOutcome::Failed(error) = &outcome {
            tracing::debug!(%error, "client handshake failed");
        }
        self.reading = false;
        self.outcome = Some(outcome);
    }

    fn read_response(&mut self, head: &[u8], leftover: BytesMut) {
        let (response, version) = match parse_response(head) {
            Ok(parsed) => parsed,
            Err(error) => return self.finish(ClientOutcome::Failed(error)),
        };
        self.response = Some(response.clone());
        match self.check(&response, version) {
            Ok(protocol) => self.finish(ClientOutcome::Accepted {
                response,
                protocol,
                leftover,
            }),
            Err(error) => {
                self.leftover = leftover;
                self.finish(ClientOutcome::Failed(error));
            }
        }
    }

    /// RFC 6455 §4.1, "the client MUST validate the server's response as follows", items 1–6.
    /// Returns the selected subprotocol.
    fn check(
        &self,
        response: &ResponseHead,
        version: u8,
    ) -> Result<Option<String>, HandshakeError> {
        // Item 1: anything but 101 is handled per HTTP; for us, the handshake is over.
        if response.status != 101 {
            return Err(HandshakeError::Rejected {
                status: response.status,
            });
        }
        if version < 1 {
            return Err(HandshakeError::BadHttpVersion);
        }
        // Item 2: `Upgrade` is an ASCII case-insensitive match for "websocket".
        let upgrade = response.header("Upgrade").unwrap_or_default();
        if !upgrade.eq_ignore_ascii_case("websocket") {
            return Err(HandshakeError::NotUpgrade);
        }
        // Item 3: `Connection` holds the token "Upgrade".
        if !has_token(&response.headers, "Connection", "upgrade") {
            return Err(HandshakeError::NotUpgrade);
        }
        // Item 4: `Sec-WebSocket-Accept` is base64(SHA-1(key ++ GUID)).
        let mut accepts = response.header_values("Sec-WebSocket-Accept");
        match (accepts.next(), accepts.next()) {
            (Some(accept), None) if accept == accept_key(self.key.as_bytes()) => {}
            _ => return Err(HandshakeError::BadAccept),
        }
        // Item 5: no extension the client did not offer.
        for element in response.header_values("Sec-WebSocket-Extensions") {
            for name in element.split(',').filter_map(extension_name) {
                if !self.extensions.iter().any(|offered| offered == name) {
                    return Err(HandshakeError::UnexpectedExtension);
                }
            }
        }
        // Item 6: at most one subprotocol, and one the client offered.
        let mut selected = response.header_tokens("Sec-WebSocket-Protocol");
        match (selected.next(), selected.next()) {
            (None, _) => Ok(None),
            (Some(p), None) if self.protocols.iter().any(|offered| offered == p) => {
                Ok(Some(p.to_owned()))
            }
            _ => Err(HandshakeError::UnexpectedProtocol),
        }
    }
}

/// The name of one `Sec-WebSocket-Extensions` element (`permessage-deflate; client_max_window_bits`
/// gives `permessage-deflate`), RFC 6455 §9.1; `None` for an empty element.
fn extension_name(element: &str) -> Option<&str> {
    let name = element.split(';').next().unwrap_or_default().trim();
    (!name.is_empty()).then_some(name)
}

/// The request of RFC 6455 §4.1 items 1–12, or why it cannot be written.
fn write_request(request: &ClientRequest, key: &str) -> Result<Bytes, HandshakeError> {
    let invalid = |why: &str| Err(HandshakeError::InvalidRequest(why.to_owned()));
    let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() || b >= 0x80);
    if !visible(&request.host) {
        return invalid("host is empty or holds whitespace or control characters");
    }
    if !request.path.starts_with('/') || !visible(&request.path) {
        return invalid("path must start with '/' and hold no whitespace or control characters");
    }
    if let Some(origin) = &request.origin {
        if origin.is_empty() || !is_clean(origin) {
            return invalid("origin is empty or holds CR/LF");
        }
    }
    for (i, protocol) in request.protocols.iter().enumerate() {
        if !is_token(protocol) || request.protocols[..i].contains(protocol) {
            return invalid("subprotocols must be unique tokens");
        }
    }
    for (name, value) in &request.extra_headers {
        if !is_token(name) || !is_clean(value) {
            return invalid("extra header with an invalid name or a value holding CR/LF");
        }
        if MANAGED_HEADERS.iter().any(|m| name.eq_ignore_ascii_case(m)) {
            return invalid("extra header repeats one the handshake writes");
        }
    }

    let mut out = BytesMut::with_capacity(256);
    out.put_slice(b"GET ");
    out.put_slice(request.path.as_bytes());
    out.put_slice(b" HTTP/1.1\r\n");
    write_header(&mut out, "Host", &request.host);
    write_header(&mut out, "Upgrade", "websocket");
    write_header(&mut out, "Connection", "Upgrade");
    write_header(&mut out, "Sec-WebSocket-Key", key);
    write_header(&mut out, "Sec-WebSocket-Version", WEBSOCKET_VERSION);
    if !request.protocols.is_empty() {
        write_header(
            &mut out,
            "Sec-WebSocket-Protocol",
            &request.protocols.join(", "),
        );
    }
    if let Some(origin) = &request.origin {
        write_header(&mut out, "Origin", origin);
    }
    for (name, value) in &request.extra_headers {
        write_header(&mut out, name, value);
    }
    out.put_slice(b"\r\n");
    Ok(out.freeze())
}
