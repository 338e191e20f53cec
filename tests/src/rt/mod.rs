//! The cross-runtime harness: one blocking interface that every runtime adapter implements, so
//! that `tests/tests/cross_runtime.rs` can run each scenario for every (client runtime × server
//! runtime) pair, over plain TCP and over TLS.
//!
//! # Implementing it for a runtime
//!
//! Add `tests/src/rt/NAME.rs` with a unit struct implementing [`Runtime`], declare the module
//! below, and append it to [`RUNTIMES`]. Nothing else changes: every scenario then runs against
//! it, as client and as server, paired with every other runtime. An async runtime that plugs
//! into `duplex-rt-common` only implements [`async_rt::AsyncRuntime`] for its marker type
//! (`tokio.rs` and `smol.rs` are the models); `mio.rs` implements [`Runtime`] itself.
//!
//! Every method blocks the calling thread. A runtime runs its own executor (or event loop) inside
//! the call for clients, and on a background thread of its own for servers:
//!
//! - [`Runtime::spawn_echo_server`]: bind `127.0.0.1:0`, serve until the returned
//!   [`ServerHandle`] is dropped (its stop function must end the thread and join it). With a
//!   [`TestCert`], serve `wss://` with `cert_pem`/`key_pem`. Each accepted connection runs the
//!   runtime's server handshake with default options (a plain HTTP request gets the adapter's
//!   `426`), then echoes: every text or binary message goes back unchanged, as one message (so a
//!   fragmented message comes back whole). One exception: a text message
//!   `"close CODE REASON"` ([`server_close_request`]) makes the server start the closing handshake
//!   with that code and reason instead of echoing. Pings are answered by the core's auto-pong.
//! - [`Runtime::run_ws_client`]: connect to `url` (`ws://127.0.0.1:PORT/` or, with a
//!   [`TestCert`], `wss://localhost:PORT/` trusting exactly `cert_pem`), then carry out the
//!   [`ClientPlan`] step by step: after each step wait for its answer (see [`Step`]) and record it
//!   in [`ClientOutcome::replies`]; other events are ignored. Then, if the plan says so, close
//!   with its code and reason; wait until the connection has ended and report the core's
//!   [`CloseInfo`]. Give up with `Err` after [`CLIENT_TIMEOUT`]; transport or API errors are
//!   `Err` too (their text is printed with the failing pair).
//! - [`Runtime::spawn_broker_server`] / [`Runtime::run_stomp_client`]: the same for STOMP, see
//!   [`StompPlan`]. A runtime that cannot host the broker yet returns `None` from
//!   `spawn_broker_server`; the suite then skips it as a server (and says so).
//!
//! Servers bind 127.0.0.1 only. Nothing in a scenario depends on timing beyond the generous
//! [`CLIENT_TIMEOUT`].

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use duplex_core::stomp::AckMode;
use duplex_core::ws::{CloseCode, CloseInfo, Message, MessageKind};

pub mod async_rt;
pub mod mio;
mod plan;
pub mod smol;
pub mod tokio;

/// Every runtime under test. The suite pairs each with each (client × server).
pub static RUNTIMES: &[&dyn Runtime] = &[&duplex_tokio::Tokio, &duplex_smol::Smol, &mio::Mio];

/// How long a client run may take before it is a failure.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

/// One runtime adapter, seen through blocking calls. See the [module docs](self).
pub trait Runtime: Sync {
    /// A short name for messages (`"tokio"`, `"smol"`, `"mio"`).
    fn name(&self) -> &'static str;

    /// An echo server on an ephemeral loopback port, `wss://` with `tls`.
    fn spawn_echo_server(&self, tls: Option<&TestCert>) -> ServerHandle;

    /// Connect to an echo server at `url` and run `plan`.
    fn run_ws_client(
        &self,
        url: &str,
        tls: Option<&TestCert>,
        plan: &ClientPlan,
    ) -> Result<ClientOutcome, String>;

    /// The STOMP broker hosted on this runtime: STOMP over WebSocket at `/ws` (subprotocols
    /// `v12.stomp`, `v11.stomp`, `v10.stomp`), `wss://` with `tls`, on an ephemeral loopback
    /// port, with the core broker's default configuration and any login accepted. `None` when the
    /// runtime cannot host the broker yet.
    fn spawn_broker_server(&self, tls: Option<&TestCert>) -> Option<ServerHandle>;

    /// Connect a STOMP client over WebSocket to `url` (`…/ws`) and run `plan`.
    fn run_stomp_client(
        &self,
        url: &str,
        tls: Option<&TestCert>,
        plan: &StompPlan,
    ) -> Result<StompOutcome, String>;
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made at test time.
#[derive(Clone, Debug)]
pub struct TestCert {
    /// The certificate, PEM; clients trust exactly this.
    pub cert_pem: String,
    /// Its private key, PEM.
    pub key_pem: String,
}

impl TestCert {
    /// A fresh certificate (rcgen).
    pub fn new() -> TestCert {
        let (cert_pem, key_pem) = crate::self_signed();
        TestCert { cert_pem, key_pem }
    }

    /// A rustls root store holding exactly this certificate.
    pub fn roots(&self) -> rustls::RootCertStore {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(self.cert_pem.as_bytes()) {
            roots.add(cert.expect("PEM")).expect("root");
        }
        roots
    }
}

impl Default for TestCert {
    fn default() -> Self {
        TestCert::new()
    }
}

/// A running server; dropping it stops the server and joins its thread.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl ServerHandle {
    /// A server listening on `addr`; `stop` ends it (and must not return before it has ended).
    pub fn new(addr: SocketAddr, stop: impl FnOnce() + Send + 'static) -> ServerHandle {
        ServerHandle {
            addr,
            stop: Some(Box::new(stop)),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its URL for `path`: `ws://127.0.0.1:PORT/path`, or `wss://localhost:PORT/path` with TLS
    /// (the test certificate names `localhost`).
    pub fn url(&self, tls: bool, path: &str) -> String {
        if tls {
            format!("wss://localhost:{}{path}", self.addr.port())
        } else {
            format!("ws://{}{path}", self.addr)
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// The text message that asks the echo server to close with `code` and `reason`.
pub fn server_close_request(code: CloseCode, reason: &str) -> String {
    format!("close {} {reason}", code.0)
}

/// Parse [`server_close_request`]'s text (for echo-server implementations).
pub fn parse_server_close_request(text: &str) -> Option<(CloseCode, String)> {
    let rest = text.strip_prefix("close ")?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((CloseCode(code.parse().ok()?), reason.to_owned()))
}

/// One step of a WebSocket client plan and the answer the client waits for.
#[derive(Clone, Debug)]
pub enum Step {
    /// Send a whole message; wait for the next message ([`Reply::Message`]).
    Send(Message),
    /// Send one message as these fragments (RFC 6455 §5.4; the last has FIN); wait for the next
    /// message ([`Reply::Message`]), which the echo server sends whole.
    SendFragmented {
        /// Text or binary (text fragments may split a code point; the whole is UTF-8).
        kind: MessageKind,
        /// The payload of each frame, in order.
        fragments: Vec<Bytes>,
    },
    /// Send a ping with this payload; wait for the next pong ([`Reply::Pong`]).
    Ping(Bytes),
    /// Send [`server_close_request`]`(code, reason)` as text; wait for the connection to end (no
    /// reply is recorded). Must be the last step, with [`ClientPlan::close`] `None`.
    AskServerToClose(CloseCode, String),
}

/// What a WebSocket client does.
#[derive(Clone, Debug)]
pub struct ClientPlan {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// After the steps: start the closing handshake with this code and reason.
    pub close: Option<(CloseCode, String)>,
}

/// An answer the client recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A whole message.
    Message(Message),
    /// A pong's payload.
    Pong(Bytes),
}

/// What a WebSocket client saw.
#[derive(Clone, Debug)]
pub struct ClientOutcome {
    /// One answer per step (none for [`Step::AskServerToClose`]).
    pub replies: Vec<Reply>,
    /// How the connection ended, as the client's core reported it.
    pub close: CloseInfo,
}

/// What a STOMP client does against the broker, in this order:
///
/// 1. CONNECT (login `login`, STOMP over WebSocket with the subprotocols offered), expecting
///    CONNECTED;
/// 2. SUBSCRIBE to `destination` with `ack`;
/// 3. for each body in `send`: SEND it to `destination` **with a receipt** and wait for the
///    RECEIPT;
/// 4. receive `send.len()` MESSAGEs, recording each body in [`StompOutcome::received`]; with a
///    client ack mode, ACK each one — except that the bodies listed in `nack_once` are NACKed the
///    first time they arrive (the broker redelivers them; the redelivery is recorded and ACKed
///    too, so `received` then holds more than `send.len()` bodies: keep receiving until every
///    sent body has been received and ACKed);
/// 5. DISCONNECT gracefully (with a receipt), recording whether it completed in
///    [`StompOutcome::disconnected`].
#[derive(Clone, Debug)]
pub struct StompPlan {
    /// The login to CONNECT with.
    pub login: String,
    /// Where to subscribe and send.
    pub destination: String,
    /// The subscription's ack mode.
    pub ack: AckMode,
    /// Message bodies to send, in order.
    pub send: Vec<Bytes>,
    /// Bodies to NACK the first time they arrive (client ack modes only).
    pub nack_once: Vec<Bytes>,
}

/// What a STOMP client saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StompOutcome {
    /// The STOMP version CONNECTED chose, e.g. `"1.2"`.
    pub version: String,
    /// Message bodies in the order they arrived (redeliveries included).
    pub received: Vec<Bytes>,
    /// The DISCONNECT's RECEIPT arrived and the transport closed.
    pub disconnected: bool,
}
