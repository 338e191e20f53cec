//! [`Socket`]: one WebSocket connection — TCP connect or accept, TLS, the opening handshake and the
//! core's [`Connection`] — registered in a `mio::Poll` that you own.

use std::collections::VecDeque;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use duplex_core::ws::handshake::{
    ClientHandshake, ClientOutcome, ClientRequest, HandshakeError, RequestHead, ServerHandshake,
    ServerOutcome,
};
use duplex_core::ws::{CloseCode, CloseInfo, Config, Connection, Event, Message, Role, WsUrl};
use duplex_core::{Instant, SeededRng};
use mio::{Interest, Registry, Token};
use rustls_pki_types::ServerName;

use super::options::{AcceptOptions, ConnectOptions};
use crate::io::{Io, ReadOutcome};
use crate::time::{now, os_rng, to_std};
use crate::{tls, Error};

/// Bytes read per [`Socket::poll_event`] drain before the socket yields to the others in the
/// loop (it then asks for an immediate timeout, see [`Socket::next_deadline`]).
const READ_BUDGET: usize = 256 * 1024;

/// What a [`Socket`] reports, from [`Socket::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketEvent {
    /// The opening handshake completed: the connection is open.
    Open {
        /// The subprotocol selected, if any.
        protocol: Option<String>,
        /// On the server side, the client's request (its path routes it); `None` on the client.
        request: Option<Box<RequestHead>>,
    },
    /// A plain HTTP request arrived on a server socket: answer it with
    /// [`respond`](Socket::respond) or [`reject`](Socket::reject); the socket then finishes.
    HttpRequest(Box<RequestHead>),
    /// The server refused the opening handshake; its answer (400, 403, 408, 426, 431…) is queued
    /// and the socket finishes once it is written.
    Rejected {
        /// The HTTP status answered.
        status: u16,
        /// Why.
        error: HandshakeError,
    },
    /// A connection event: a message, a chunk, a ping or pong, or `Closed` (then the socket
    /// finishes the transport: flush, shut down, wait for the peer's end).
    Ws(Event),
}

#[derive(Debug)]
enum Phase {
    ClientHandshake(Box<ClientHandshake>),
    ServerHandshake(Box<ServerHandshake>),
    /// A plain HTTP request was handed to the application; waiting for `respond` or `reject`.
    HttpRequest(Box<ServerHandshake>),
    Open,
    /// Write what is queued; shut our side once it is out when `shut_first` (the server closes the
    /// TCP connection first, RFC 6455 §7.1.1); read until the peer's end; give up at `until`.
    Finishing {
        until: Instant,
        shut_first: bool,
    },
    Finished,
}

/// One WebSocket connection in your own `mio::Poll` loop: TCP, TLS (rustls driven directly), the
/// opening handshake and the core's [`Connection`]. Every protocol decision is the core's; this
/// type reads, writes, keeps the timers and tells you which interest to register.
///
/// The loop, for each socket (a [`Token`] is yours to choose):
/// 1. [`register`](Self::register) it once;
/// 2. on each of its readiness events, [`handle_ready`](Self::handle_ready);
/// 3. when [`next_deadline`](Self::next_deadline) has passed, [`handle_timeout`](Self::handle_timeout);
/// 4. after either, drain [`poll_event`](Self::poll_event) until `Ok(None)` (it reads as it goes),
///    answering with application calls (`send`, `feed`, `close`…);
/// 5. then [`flush`](Self::flush): it writes what is queued and re-registers for the interest
///    needed now — readable until EOF, writable only while bytes are waiting;
/// 6. when [`is_finished`](Self::is_finished), [`deregister`](Self::deregister) and drop it.
///
/// The earliest `next_deadline` of all sockets is your `Poll::poll` timeout
/// ([`time::poll_timeout`](crate::time::poll_timeout)).
///
/// `poll_event` returns `Err` when the transport failed (or, on the client, the handshake did):
/// the socket is finished then.
#[derive(Debug)]
pub struct Socket {
    io: Io,
    role: Role,
    phase: Phase,
    conn: Option<Connection>,
    /// Handshake bytes and HTTP answers, written before the connection's own.
    out: BytesMut,
    events: VecDeque<SocketEvent>,
    config: Config,
    rng: Option<SeededRng>,
    protocol: Option<String>,
    close_info: Option<CloseInfo>,
    budget: usize,
    /// When the read budget ran out (work is waiting: the deadline is "now").
    starved_at: Option<std::time::Instant>,
}

impl Socket {
    /// Start a client connection to a `ws://` or `wss://` URL: resolves the host (blocking, like
    /// `std::net`), then connects without blocking. Register it, then drive it like any socket:
    /// [`SocketEvent::Open`] says the handshake completed. The handshake timeout
    /// (`ClientRequest::limits`, 10 s) covers connecting, TLS and the HTTP exchange.
    pub fn connect(url: &str, options: ConnectOptions) -> Result<Socket, Error> {
        let url = WsUrl::parse(url)?;
        let addrs: Vec<_> = (url.host.as_str(), url.port).to_socket_addrs()?.collect();
        let tls = if url.secure {
            let config = options
                .tls
                .clone()
                .unwrap_or_else(tls::client_config_webpki);
            let name = ServerName::try_from(url.host.clone())
                .map_err(|e| Error::Tls(format!("server name {:?}: {e}", url.host)))?;
            Some(
                rustls::ClientConnection::new(config, name)
                    .map_err(|e| Error::Tls(e.to_string()))?,
            )
        } else {
            None
        };
        let io = Io::connect(addrs, tls)?;
        let mut rng = os_rng();
        let mut request = ClientRequest::new(url.host_header(), url.resource.clone());
        request.protocols = options.protocols;
        request.origin = options.origin;
        request.extra_headers = options.headers;
        let machine = ClientHandshake::new(now(), request, &mut rng);
        let mut socket = Socket::new(io, Role::Client, options.config);
        socket.rng = Some(rng);
        socket.phase = Phase::ClientHandshake(Box::new(machine));
        socket.queue_handshake_transmit();
        Ok(socket)
    }

    /// Serve a connection your listener accepted: TLS when `options.tls` is set, then the
    /// server's opening handshake. [`SocketEvent::Open`] carries the request,
    /// [`SocketEvent::HttpRequest`] a plain HTTP request to answer.
    pub fn accept(tcp: mio::net::TcpStream, options: &AcceptOptions) -> Result<Socket, Error> {
        let tls = match &options.tls {
            Some(config) => Some(
                rustls::ServerConnection::new(Arc::clone(config))
                    .map_err(|e| Error::Tls(e.to_string()))?,
            ),
            None => None,
        };
        let mut socket = Socket::new(Io::accepted(tcp, tls), Role::Server, options.config.clone());
        socket.phase = Phase::ServerHandshake(Box::new(ServerHandshake::new(
            now(),
            Arc::clone(&options.handshake),
        )));
        Ok(socket)
    }

    fn new(io: Io, role: Role, config: Config) -> Socket {
        Socket {
            io,
            role,
            phase: Phase::Finished,
            conn: None,
            out: BytesMut::new(),
            events: VecDeque::new(),
            config,
            rng: None,
            protocol: None,
            close_info: None,
            budget: READ_BUDGET,
            starved_at: None,
        }
    }

    // --- getters ---

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The handshake completed and the connection has not closed yet.
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open)
    }

    /// The subprotocol the handshake selected, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// How the connection ended, once it has.
    pub fn close_info(&self) -> Option<&CloseInfo> {
        self.close_info.as_ref()
    }

    /// The core machine, once the handshake completed: its getters.
    pub fn connection(&self) -> Option<&Connection> {
        self.conn.as_ref()
    }

    /// The core machine, once the handshake completed: its application calls (fragments,
    /// pongs…). Follow with [`flush`](Self::flush).
    pub fn connection_mut(&mut self) -> Option<&mut Connection> {
        self.conn.as_mut()
    }

    /// The TCP stream (addresses, socket options).
    pub fn tcp(&self) -> &mio::net::TcpStream {
        self.io.tcp()
    }

    /// Everything is over: the transport is closed. Deregister and drop the socket.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// The interest the socket needs now: readable until EOF, writable while bytes wait (or
    /// while connecting). [`register`](Self::register) and [`flush`](Self::flush) apply it.
    pub fn interest(&self) -> Interest {
        self.io.interest(self.wants_write())
    }

    /// Bytes are waiting to be written (ours, the core's or rustls's).
    pub fn wants_write(&self) -> bool {
        !self.out.is_empty()
            || self
                .conn
                .as_ref()
                .is_some_and(|c| !c.pending_transmit().is_empty())
            || self.io.tls_wants_write()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout): the core's next timer (handshake
    /// timeout, close timeout, keepalive, idle), the end of the closing linger, or "now" when a
    /// busy socket yielded with input left to read.
    pub fn next_deadline(&self) -> Option<std::time::Instant> {
        let core = match &self.phase {
            Phase::ClientHandshake(h) => h.poll_timeout(),
            Phase::ServerHandshake(h) => h.poll_timeout(),
            Phase::HttpRequest(_) | Phase::Finished => None,
            Phase::Open => self.conn.as_ref().and_then(Connection::poll_timeout),
            Phase::Finishing { until, .. } => Some(*until),
        };
        crate::time::earliest(core.map(to_std), self.starved_at)
    }

    // --- registration ---

    /// Register in `registry` under `token`, for [`interest`](Self::interest).
    pub fn register(&mut self, registry: &Registry, token: Token) -> Result<(), Error> {
        let want_write = self.wants_write();
        Ok(self.io.register(registry, token, want_write)?)
    }

    /// Remove the registration (before dropping a finished socket).
    pub fn deregister(&mut self, registry: &Registry) -> Result<(), Error> {
        Ok(self.io.deregister(registry)?)
    }

    // --- inputs ---

    /// A readiness event with this socket's token arrived. Follow with [`poll_event`](Self::poll_event)
    /// and [`flush`](Self::flush).
    pub fn handle_ready(
        &mut self,
        registry: &Registry,
        event: &mio::event::Event,
    ) -> Result<(), Error> {
        self.budget = READ_BUDGET;
        self.starved_at = None;
        if let Err(e) = self.io.handle_ready(registry, event) {
            // Every address refused the connection.
            self.phase = Phase::Finished;
            return Err(e.into());
        }
        Ok(())
    }

    /// The deadline passed: fire the core's timers. Early calls do nothing. Follow with
    /// [`poll_event`](Self::poll_event) and [`flush`](Self::flush).
    pub fn handle_timeout(&mut self) {
        let now = now();
        self.budget = READ_BUDGET;
        self.starved_at = None;
        match &mut self.phase {
            Phase::ClientHandshake(h) => h.handle_timeout(now),
            Phase::ServerHandshake(h) => h.handle_timeout(now),
            Phase::Open => {
                if let Some(conn) = self.conn.as_mut() {
                    conn.handle_timeout(now);
                }
            }
            Phase::Finishing { until, .. } if now >= *until => self.finish(),
            _ => {}
        }
    }

    // --- application calls ---

    fn open_conn(&mut self) -> Result<&mut Connection, Error> {
        match (&self.phase, self.conn.as_mut()) {
            (Phase::ClientHandshake(_) | Phase::ServerHandshake(_) | Phase::HttpRequest(_), _)
            | (_, None) => Err(Error::NotOpen),
            (_, Some(conn)) => Ok(conn),
        }
    }

    /// Queue a message; it is written by the next [`flush`](Self::flush).
    pub fn send(&mut self, message: &Message) -> Result<(), Error> {
        Ok(self.open_conn()?.send(message)?)
    }

    /// Queue a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        Ok(self.open_conn()?.send_text(text)?)
    }

    /// Queue a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        Ok(self.open_conn()?.send_binary(data)?)
    }

    /// Queue a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        Ok(self.open_conn()?.ping(payload)?)
    }

    /// Start the closing handshake (RFC 6455 §7.1.2); [`Event::Closed`] follows.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        let now = now();
        Ok(self.open_conn()?.close(now, code, reason)?)
    }

    /// After [`SocketEvent::HttpRequest`]: queue your HTTP answer (see
    /// [`http_response`](duplex_core::ws::handshake::http_response)); the socket writes it and
    /// finishes.
    pub fn respond(&mut self, response: Bytes) -> Result<(), Error> {
        self.answer(|h| h.respond(response))
    }

    /// After [`SocketEvent::HttpRequest`]: answer `426 Upgrade Required` and finish.
    pub fn reject(&mut self) -> Result<(), Error> {
        self.answer(|h| h.reject_not_websocket())
    }

    fn answer(&mut self, f: impl FnOnce(&mut ServerHandshake)) -> Result<(), Error> {
        let Phase::HttpRequest(h) = &mut self.phase else {
            return Err(Error::Handshake(HandshakeError::NotUpgrade));
        };
        f(h);
        while let Some(bytes) = h.poll_transmit() {
            self.out.extend_from_slice(&bytes);
        }
        self.start_finishing(true);
        Ok(())
    }

    // --- outputs ---

    /// The next event, reading from the socket when nothing is pending. `Ok(None)`: nothing more
    /// until the next readiness event or deadline. `Err`: the transport (or the client's
    /// handshake) failed and the socket is finished.
    pub fn poll_event(&mut self) -> Result<Option<SocketEvent>, Error> {
        match self.next() {
            Err(e) => {
                self.finish();
                Err(e)
            }
            ok => ok,
        }
    }

    fn next(&mut self) -> Result<Option<SocketEvent>, Error> {
        loop {
            if let Some(event) = self.events.pop_front() {
                if self.events.is_empty() {
                    // Only the handshake queues events here: give the queue's memory back.
                    self.events = VecDeque::new();
                }
                return Ok(Some(event));
            }
            match &mut self.phase {
                Phase::ClientHandshake(h) => {
                    if let Some(outcome) = h.poll_outcome() {
                        self.client_outcome(outcome)?;
                        continue;
                    }
                }
                Phase::ServerHandshake(h) => {
                    if let Some(outcome) = h.poll_outcome() {
                        self.server_outcome(outcome);
                        continue;
                    }
                }
                Phase::Open => {
                    let conn = self.conn.as_mut().expect("open");
                    if let Some(event) = conn.poll_event() {
                        if let Event::Closed(info) = &event {
                            self.close_info = Some(info.clone());
                            self.start_finishing(self.role == Role::Server);
                        }
                        return Ok(Some(SocketEvent::Ws(event)));
                    }
                }
                Phase::HttpRequest(_) | Phase::Finished => return Ok(None),
                Phase::Finishing { .. } => {}
            }
            if !self.read_some()? {
                return Ok(None);
            }
        }
    }

    /// Read once into whichever machine runs now. `false`: nothing more to read for now.
    fn read_some(&mut self) -> Result<bool, Error> {
        if !self.io.may_read() {
            return Ok(false);
        }
        if self.budget == 0 {
            self.starved_at.get_or_insert_with(std::time::Instant::now);
            return Ok(false);
        }
        let now = now();
        let outcome = match &mut self.phase {
            Phase::Open => {
                // Read through the thread's buffer into the machine (it copies and unmasks).
                let conn = self.conn.as_mut().expect("open");
                let outcome = self.io.read(|data| conn.handle_input(now, data));
                if let Ok(ReadOutcome::Eof) = outcome {
                    conn.handle_eof(now);
                }
                outcome?
            }
            Phase::ClientHandshake(h) => {
                let outcome = self.io.read(|data| h.handle_input(now, data))?;
                if outcome == ReadOutcome::Eof {
                    h.handle_eof();
                }
                outcome
            }
            Phase::ServerHandshake(h) => {
                let outcome = self.io.read(|data| h.handle_input(now, data))?;
                if outcome == ReadOutcome::Eof {
                    h.handle_eof();
                }
                outcome
            }
            Phase::Finishing { .. } => {
                // Lingering: the peer's last bytes are of no interest, its EOF is.
                let outcome = self.io.read(|_| {})?;
                if outcome == ReadOutcome::Eof {
                    let _ = self.io.shutdown_write();
                    if !self.wants_write() {
                        self.finish();
                    }
                }
                outcome
            }
            Phase::HttpRequest(_) | Phase::Finished => ReadOutcome::WouldBlock,
        };
        Ok(match outcome {
            ReadOutcome::Data(n) => {
                self.budget = self.budget.saturating_sub(n);
                true
            }
            ReadOutcome::Eof => true,
            ReadOutcome::WouldBlock => false,
        })
    }

    fn client_outcome(&mut self, outcome: ClientOutcome) -> Result<(), Error> {
        match outcome {
            ClientOutcome::Accepted {
                protocol, leftover, ..
            } => {
                let rng = self.rng.take().unwrap_or_else(os_rng);
                let now = now();
                let mut conn = Connection::client(now, self.config.clone(), Box::new(rng));
                conn.handle_input(now, &leftover);
                self.open(conn, protocol, None);
                Ok(())
            }
            ClientOutcome::Failed(error) => {
                self.io.close();
                Err(error.into())
            }
        }
    }

    fn server_outcome(&mut self, outcome: ServerOutcome) {
        let Phase::ServerHandshake(h) = &mut self.phase else {
            return;
        };
        while let Some(bytes) = h.poll_transmit() {
            self.out.extend_from_slice(&bytes);
        }
        match outcome {
            ServerOutcome::Upgraded {
                request,
                protocol,
                leftover,
            } => {
                let now = now();
                let mut conn = Connection::server(now, self.config.clone());
                conn.handle_input(now, &leftover);
                self.open(conn, protocol, Some(Box::new(request)));
            }
            ServerOutcome::HttpRequest { request, .. } => {
                let Phase::ServerHandshake(h) = std::mem::replace(&mut self.phase, Phase::Finished)
                else {
                    unreachable!()
                };
                self.phase = Phase::HttpRequest(h);
                self.events
                    .push_back(SocketEvent::HttpRequest(Box::new(request)));
            }
            ServerOutcome::Rejected { status, error } => {
                self.start_finishing(true);
                self.events
                    .push_back(SocketEvent::Rejected { status, error });
            }
        }
    }

    fn open(
        &mut self,
        conn: Connection,
        protocol: Option<String>,
        request: Option<Box<RequestHead>>,
    ) {
        self.conn = Some(conn);
        self.phase = Phase::Open;
        self.protocol.clone_from(&protocol);
        self.events
            .push_back(SocketEvent::Open { protocol, request });
    }

    fn queue_handshake_transmit(&mut self) {
        if let Phase::ClientHandshake(h) = &mut self.phase {
            while let Some(bytes) = h.poll_transmit() {
                self.out.extend_from_slice(&bytes);
            }
        }
    }

    fn start_finishing(&mut self, shut_first: bool) {
        let linger: Duration = self.config.close_timeout;
        self.phase = Phase::Finishing {
            until: now() + linger,
            shut_first,
        };
    }

    fn finish(&mut self) {
        self.phase = Phase::Finished;
        self.io.close();
    }

    /// Write what is queued — handshake bytes, frames, TLS records — as far as the socket takes
    /// it, then re-register for the interest needed now. Call it after draining
    /// [`poll_event`](Self::poll_event) and after application calls.
    pub fn flush(&mut self, registry: &Registry) -> Result<(), Error> {
        if let Err(e) = self.write_queued() {
            self.finish();
            let _ = self.io.update_interest(registry, false);
            return Err(e.into());
        }
        let want_write = self.wants_write();
        if let Phase::Finishing { shut_first, .. } = self.phase {
            if !want_write {
                if shut_first || self.io.is_eof() {
                    self.io.shutdown_write()?;
                }
                if self.io.is_eof() && self.io.is_write_shut() {
                    self.finish();
                }
            }
        }
        Ok(self.io.update_interest(registry, self.wants_write())?)
    }

    fn write_queued(&mut self) -> std::io::Result<()> {
        if self.io.is_connecting() || self.is_finished() {
            return Ok(());
        }
        while !self.out.is_empty() {
            let n = self.io.write(&self.out)?;
            if n == 0 {
                return self.io.flush();
            }
            self.out.advance(n);
        }
        if let Some(conn) = self.conn.as_mut() {
            while !conn.pending_transmit().is_empty() {
                let n = self.io.write(conn.pending_transmit())?;
                if n == 0 {
                    break;
                }
                conn.advance_transmit(n);
            }
        }
        self.io.flush()
    }
}
