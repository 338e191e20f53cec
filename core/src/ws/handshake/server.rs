//! The server's side of the opening handshake, RFC 6455 §4.2: read the client's request, answer
//! `101 Switching Protocols` (§4.2.2) or an HTTP error, or hand a plain HTTP request back to the
//! caller.

use std::fmt;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::accept::{accept_key, is_valid_key};
use super::head::{has_token, parse_request, RequestHead};
use super::http::{http_response, reason_phrase, write_header, write_status_line};
use super::scan::{HeadBuffer, Scan};
use super::{HandshakeError, HandshakeLimits, WEBSOCKET_VERSION};
use crate::time::Instant;

/// An origin check for [`OriginPolicy::Custom`]: given the request's `Origin` (`None` when
/// absent), whether to accept it.
pub type OriginCheck = Arc<dyn Fn(Option<&str>) -> bool + Send + Sync>;

/// Which `Origin`s a server accepts, RFC 6455 §4.2.2 item 4 and §10.2.
///
/// `Origin` protects users of browsers: a page from another site cannot open a connection with the
/// user's cookies. Clients that are not browsers may send any `Origin` or none.
#[derive(Clone, Default)]
pub enum OriginPolicy {
    /// Every origin, and requests without one.
    #[default]
    Any,
    /// Requests whose `Origin` equals one of these (ASCII case-insensitive, e.g.
    /// `https://example.com`), and requests without an `Origin` (not from a browser). To refuse
    /// those too, use [`OriginPolicy::Custom`].
    AllowList(Vec<String>),
    /// Requests for which the function, given the `Origin` value (`None` when absent), returns
    /// `true`.
    Custom(OriginCheck),
}

impl OriginPolicy {
    /// Whether a request with this `Origin` (or none) is allowed.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match (self, origin) {
            (OriginPolicy::Any, _) | (OriginPolicy::AllowList(_), None) => true,
            (OriginPolicy::AllowList(list), Some(origin)) => list
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin)),
            (OriginPolicy::Custom(allows), origin) => allows(origin),
        }
    }
}

impl fmt::Debug for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginPolicy::Any => f.write_str("Any"),
            OriginPolicy::AllowList(list) => f.debug_tuple("AllowList").field(list).finish(),
            OriginPolicy::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// How a server answers opening handshakes. Shared by every connection (`Arc`).
#[derive(Clone, Debug, Default)]
pub struct ServerConfig {
    /// Subprotocols this server speaks, most preferred first. The first one the client offered is
    /// selected (§4.2.2 item 5.4, "the server's preference"). Default: none, so no
    /// `Sec-WebSocket-Protocol` is ever answered.
    pub protocols: Vec<String>,
    /// Which origins are accepted. Default: [`OriginPolicy::Any`].
    pub origin: OriginPolicy,
    /// Size and time limits on the request head. Default: 16 KiB, 10 s.
    pub limits: HandshakeLimits,
    /// Headers added to every `101` answer (not to error answers). A header whose name is not a
    /// token or whose value holds CR/LF is left out.
    pub extra_response_headers: Vec<(String, String)>,
}

/// How the server's handshake ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerOutcome {
    /// The `101` is queued in [`ServerHandshake::poll_transmit`]: write it, then run the
    /// connection machine (RFC 6455 §4.2.2: "the WebSocket connection is established").
    Upgraded {
        /// The client's request.
        request: RequestHead,
        /// The subprotocol selected, if any: the server's most preferred one that the client
        /// offered.
        protocol: Option<String>,
        /// Bytes that came after the head (the client's first frames): feed them to the connection
        /// machine before anything read later.
        leftover: BytesMut,
    },
    /// A well-formed HTTP/1.x request without `Upgrade: websocket` (a web page, `/healthz`). Answer
    /// it with [`ServerHandshake::respond`] (for example with [`http_response`]), or call
    /// [`ServerHandshake::reject_not_websocket`] for a `426 Upgrade Required`. Then write
    /// `poll_transmit` and close: one request per connection.
    HttpRequest {
        /// The request.
        request: RequestHead,
        /// Bytes that came after the head: the start of a request body, if it has one.
        leftover: BytesMut,
    },
    /// The request was refused: the answer (`status`, `Connection: close`, a short text body) is
    /// queued in [`ServerHandshake::poll_transmit`]. Write it, then close.
    Rejected {
        /// The HTTP status answered: 400, 403, 405, 408, 426 or 431 (see
        /// [`HandshakeError::status`]).
        status: u16,
        /// Why.
        error: HandshakeError,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Buffering the request head.
    Reading,
    /// An `HttpRequest` outcome was given; waiting for `respond` or `reject_not_websocket`.
    AwaitingAnswer,
    /// Answered; later input is ignored.
    Done,
}

/// The server's opening handshake, RFC 6455 §4.2, as a sans-IO machine.
///
/// Methods, by kind:
/// - inputs: [`handle_input`](Self::handle_input), [`handle_timeout`](Self::handle_timeout),
///   [`handle_eof`](Self::handle_eof);
/// - application calls, after [`ServerOutcome::HttpRequest`]: [`respond`](Self::respond),
///   [`reject_not_websocket`](Self::reject_not_websocket);
/// - outputs: [`poll_outcome`](Self::poll_outcome), [`poll_transmit`](Self::poll_transmit),
///   [`poll_timeout`](Self::poll_timeout).
///
/// After every input: drain the outcome, then transmit, then re-arm the timer from
/// `poll_timeout`. Once there is an outcome, later input changes nothing; bytes that arrive before
/// an `Upgraded` or `HttpRequest` outcome is polled are added to its `leftover`.
///
/// Status codes: a request whose head is malformed, is in HTTP/1.0, lacks `Host`, lacks
/// `Connection: Upgrade`, or has a bad `Sec-WebSocket-Key` gets `400`; `Upgrade: websocket` with a
/// method other than `GET` gets `405` with `Allow: GET`; a refused `Origin` gets `403`; a
/// `Sec-WebSocket-Version` other than 13 gets `426` with `Sec-WebSocket-Version: 13` (§4.4); a head
/// larger than [`HandshakeLimits::max_head_bytes`] gets `431`; a head not complete by the deadline
/// gets `408`.
#[derive(Debug)]
pub struct ServerHandshake {
    config: Arc<ServerConfig>,
    buffer: HeadBuffer,
    deadline: Instant,
    state: State,
    outcome: Option<ServerOutcome>,
    transmit: Option<Bytes>,
}

impl ServerHandshake {
    /// Start reading a client's request at `now`; the client has until
    /// `now + config.limits.timeout` to send its whole head.
    pub fn new(now: Instant, config: Arc<ServerConfig>) -> Self {
        ServerHandshake {
            buffer: HeadBuffer::new(config.limits.max_head_bytes),
            deadline: now + config.limits.timeout,
            config,
            state: State::Reading,
            outcome: None,
            transmit: None,
        }
    }

    /// Bytes read from the client. They are buffered until the head's empty line, then the request
    /// is validated (RFC 6455 §4.2.1).
    pub fn handle_input(&mut self, _now: Instant, data: &[u8]) {
        if self.state != State::Reading {
            match &mut self.outcome {
                Some(
                    ServerOutcome::Upgraded { leftover, .. }
                    | ServerOutcome::HttpRequest { leftover, .. },
                ) => leftover.extend_from_slice(data),
                _ if data.is_empty() => {}
                _ => tracing::debug!(len = data.len(), "server handshake over: input ignored"),
            }
            return;
        }
        match self.buffer.push(data) {
            Scan::Incomplete => {}
            Scan::TooLarge => self.reject(HandshakeError::TooLarge {
                limit: self.buffer.max_head_bytes(),
            }),
            Scan::Complete { head, leftover } => self.read_request(&head, leftover),
        }
    }

    /// The timer fired. Before [`poll_timeout`](Self::poll_timeout)'s deadline this does nothing;
    /// at or after it, with the head still incomplete, the client is answered `408 Request Timeout`
    /// and the outcome is `Rejected { status: 408, error: Timeout }`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Reading && now >= self.deadline {
            self.reject(HandshakeError::Timeout);
        }
    }

    /// The client closed its side before sending a whole head: `Rejected` with
    /// [`HandshakeError::ConnectionClosed`] (a `400` is queued, in case the client still reads).
    pub fn handle_eof(&mut self) {
        if self.state == State::Reading {
            self.reject(HandshakeError::ConnectionClosed);
        }
    }

    /// When to call [`handle_timeout`](Self::handle_timeout): the deadline, while the head is
    /// being read.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.state == State::Reading).then_some(self.deadline)
    }

    /// The bytes to write: the `101`, an error answer, or the caller's own answer. Once.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.take()
    }

    /// How the handshake ended, once; `None` before that and after.
    pub fn poll_outcome(&mut self) -> Option<ServerOutcome> {
        self.outcome.take()
    }

    /// After [`ServerOutcome::HttpRequest`]: queue the caller's own HTTP answer (see
    /// [`http_response`]). The caller writes it and closes. Ignored (with a warning) at any other
    /// time.
    pub fn respond(&mut self, response: Bytes) {
        if self.state != State::AwaitingAnswer {
            tracing::warn!("ServerHandshake::respond called without an HttpRequest outcome");
            return;
        }
        self.transmit = Some(response);
        self.state = State::Done;
    }

    /// After [`ServerOutcome::HttpRequest`]: answer `426 Upgrade Required` with
    /// `Upgrade: websocket` and `Sec-WebSocket-Version: 13` (RFC 9110 §15.5.22, RFC 6455 §4.4).
    /// Ignored (with a warning) at any other time.
    pub fn reject_not_websocket(&mut self) {
        if self.state != State::AwaitingAnswer {
            tracing::warn!("ServerHandshake::reject_not_websocket called without an HttpRequest");
            return;
        }
        self.transmit = Some(error_response(426, "this endpoint speaks WebSocket only"));
        self.state = State::Done;
    }

    fn reject(&mut self, error: HandshakeError) {
        let status = error.status().unwrap_or(400);
        tracing::debug!(status, %error, "server handshake rejected");
        self.transmit = Some(error_response(status, &error.to_string()));
        self.outcome = Some(ServerOutcome::Rejected { status, error });
        self.state = State::Done;
    }

    fn read_request(&mut self, head: &[u8], leftover: BytesMut) {
        let (request, version) = match parse_request(head) {
            Ok(parsed) => parsed,
            Err(error) => return self.reject(error),
        };
        // §4.2.1 item 3: not asking for WebSocket; a plain HTTP request for the caller.
        if !has_token(&request.headers, "Upgrade", "websocket") {
            self.state = State::AwaitingAnswer;
            self.outcome = Some(ServerOutcome::HttpRequest { request, leftover });
            return;
        }
        match check_request(&self.config, &request, version) {
            Ok((key, protocol)) => {
                self.transmit = Some(switching_protocols(&self.config, &key, protocol.as_deref()));
                self.outcome = Some(ServerOutcome::Upgraded {
                    request,
                    protocol,
                    leftover,
                });
                self.state = State::Done;
            }
            Err(error) => self.reject(error),
        }
    }
}

/// RFC 6455 §4.2.1, "reading the client's opening handshake", items 1–8, for a request that has
/// `Upgrade: websocket`; then the origin (§4.2.2 item 4) and the subprotocol (item 5.4). Returns
/// the key and the selected subprotocol.
fn check_request(
    config: &ServerConfig,
    request: &RequestHead,
    version: u8,
) -> Result<(String, Option<String>), HandshakeError> {
    // Item 1: a GET, HTTP/1.1 or higher.
    if request.method != "GET" {
        return Err(HandshakeError::BadMethod(request.method.clone()));
    }
    if version < 1 {
        return Err(HandshakeError::BadHttpVersion);
    }
    // Item 2: a Host (exactly one, RFC 9112 §3.2).
    let mut hosts = request.header_values("Host");
    match (hosts.next(), hosts.next()) {
        (Some(host), None) if !host.is_empty() => {}
        (Some(_), Some(_)) => return Err(HandshakeError::Malformed("several Host headers".into())),
        _ => return Err(HandshakeError::MissingHost),
    }
    // Item 4 (item 3, Upgrade, was checked by the caller): Connection holds "Upgrade".
    if !has_token(&request.headers, "Connection", "upgrade") {
        return Err(HandshakeError::NotUpgrade);
    }
    // Item 6, before item 5 so that a client of an older draft (no key) hears which version to
    // speak: exactly one version, 13; else 426 with our version (§4.4).
    let mut versions = request.header_tokens("Sec-WebSocket-Version");
    match (versions.next(), versions.next()) {
        (Some(WEBSOCKET_VERSION), None) => {}
        _ => return Err(HandshakeError::BadVersion),
    }
    // Item 5: one key, 16 bytes in base64.
    let mut keys = request.header_values("Sec-WebSocket-Key");
    let key = match (keys.next(), keys.next()) {
        (None, _) => return Err(HandshakeError::MissingKey),
        (Some(key), None) if is_valid_key(key) => key.to_owned(),
        _ => return Err(HandshakeError::BadKey),
    };
    // Item 7 and §4.2.2 item 4: the origin policy.
    if !config.origin.allows(request.header("Origin")) {
        return Err(HandshakeError::OriginRefused);
    }
    // Item 8 and §4.2.2 item 5.4: our most preferred subprotocol among those offered.
    let protocol = config
        .protocols
        .iter()
        .find(|ours| {
            request
                .header_tokens("Sec-WebSocket-Protocol")
                .any(|t| t == ours.as_str())
        })
        .cloned();
    // Item 9, Sec-WebSocket-Extensions: not negotiated (yet), so never answered.
    Ok((key, protocol))
}

/// The `101 Switching Protocols` answer, RFC 6455 §4.2.2 item 5.
fn switching_protocols(config: &ServerConfig, key: &str, protocol: Option<&str>) -> Bytes {
    let mut out = BytesMut::with_capacity(160);
    write_status_line(&mut out, 101, reason_phrase(101));
    write_header(&mut out, "Upgrade", "websocket");
    write_header(&mut out, "Connection", "Upgrade");
    write_header(
        &mut out,
        "Sec-WebSocket-Accept",
        &accept_key(key.as_bytes()),
    );
    if let Some(protocol) = protocol {
        write_header(&mut out, "Sec-WebSocket-Protocol", protocol);
    }
    for (name, value) in &config.extra_response_headers {
        write_header(&mut out, name, value);
    }
    out.put_slice(b"\r\n");
    out.freeze()
}

/// An error answer with `Connection: close` and a one-line text body; a `426` also says which
/// version to speak (RFC 6455 §4.4), a `405` which method (RFC 9110 §15.5.6).
fn error_response(status: u16, message: &str) -> Bytes {
    let mut headers = vec![("Content-Type", "text/plain; charset=utf-8")];
    match status {
        426 => {
            headers.push(("Upgrade", "websocket"));
            headers.push(("Sec-WebSocket-Version", WEBSOCKET_VERSION));
        }
        405 => headers.push(("Allow", "GET")),
        _ => {}
    }
    let body = format!("{message}\n");
    http_response(status, reason_phrase(status), &headers, body.as_bytes())
}
