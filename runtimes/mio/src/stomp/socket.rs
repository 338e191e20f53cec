//! [`StompSocket`]: a STOMP client session — the core's [`ClientSession`] — over TCP or over a
//! WebSocket [`Socket`], registered in a `mio::Poll` that you own.

use bytes::{Buf, BytesMut};
use duplex_core::stomp::ws::{accept_versions_for, WS_SUBPROTOCOLS};
use duplex_core::stomp::{ClientConfig, ClientEvent, ClientSession};
use duplex_core::ws::{CloseCode, Event, Message};
use mio::{Interest, Registry, Token};

use super::StompError;
use crate::io::{Io, ReadOutcome};
use crate::time::{earliest, now, to_std};
use crate::ws::{ConnectOptions, Socket, SocketEvent};
use crate::Error;

#[derive(Debug)]
enum Transport {
    /// STOMP over TCP (port 61613).
    Tcp {
        io: Io,
        out: BytesMut,
        finished: bool,
    },
    /// STOMP over WebSocket (`v12.stomp` and friends): message payloads are STOMP bytes.
    WebSocket(Box<Socket>),
}

/// A STOMP client session in your own `mio::Poll` loop, over TCP or WebSocket.
///
/// Driven like [`ws::Socket`](crate::ws::Socket): [`register`](Self::register), then on
/// readiness [`handle_ready`](Self::handle_ready), at [`next_deadline`](Self::next_deadline)
/// [`handle_timeout`](Self::handle_timeout) (heart-beats, connect and disconnect timeouts, the
/// WebSocket's own timers), after either drain [`poll_event`](Self::poll_event) until `Ok(None)`,
/// then [`flush`](Self::flush); drop it once [`is_finished`](Self::is_finished).
/// [`ClientEvent::Connected`] comes first; application calls (`subscribe`, `send`…) are the
/// core session's, through [`session_mut`](Self::session_mut) — they queue frames that the next
/// `flush` writes.
#[derive(Debug)]
pub struct StompSocket {
    /// `None` over WebSocket until the handshake chose a subprotocol (it decides the versions).
    session: Option<ClientSession>,
    config: Option<ClientConfig>,
    transport: Transport,
    /// The session is closed and the transport was told to close.
    closing: bool,
}

impl StompSocket {
    /// Start connecting over TCP to `addr` (`host:port`; resolved blocking, connected without
    /// blocking). CONNECT goes out once connected.
    pub fn connect_tcp(addr: &str, config: ClientConfig) -> Result<StompSocket, StompError> {
        let addrs: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(addr)
            .map_err(Error::from)?
            .collect();
        let io = Io::connect(addrs, None).map_err(Error::from)?;
        let mut session = ClientSession::new(now(), config)?;
        let mut out = BytesMut::new();
        session.poll_transmit_into(&mut out);
        Ok(StompSocket {
            session: Some(session),
            config: None,
            transport: Transport::Tcp {
                io,
                out,
                finished: false,
            },
            closing: false,
        })
    }

    /// Start connecting over WebSocket to `url`, offering the STOMP subprotocols; CONNECT goes
    /// out once the handshake is done. With empty `accept_versions`, the versions follow the
    /// subprotocol the server chose.
    pub fn connect_ws(url: &str, config: ClientConfig) -> Result<StompSocket, StompError> {
        let options = ConnectOptions {
            protocols: WS_SUBPROTOCOLS.iter().map(|s| s.to_string()).collect(),
            ..ConnectOptions::default()
        };
        Self::connect_ws_with(url, options, config)
    }

    /// [`connect_ws`](Self::connect_ws) with your WebSocket options (TLS roots, headers…). The
    /// STOMP subprotocols are offered when `options.protocols` is empty.
    pub fn connect_ws_with(
        url: &str,
        mut options: ConnectOptions,
        config: ClientConfig,
    ) -> Result<StompSocket, StompError> {
        if options.protocols.is_empty() {
            options.protocols = WS_SUBPROTOCOLS.iter().map(|s| s.to_string()).collect();
        }
        let socket = Socket::connect(url, options)?;
        Ok(StompSocket {
            session: None,
            config: Some(config),
            transport: Transport::WebSocket(Box::new(socket)),
            closing: false,
        })
    }

    // --- getters ---

    /// The session machine (version, negotiated heart-beats…); `None` over WebSocket until the
    /// handshake completed.
    pub fn session(&self) -> Option<&ClientSession> {
        self.session.as_ref()
    }

    /// The session machine's application calls: `subscribe`, `send`, `ack`, `disconnect`…
    /// Follow with [`flush`](Self::flush).
    pub fn session_mut(&mut self) -> Result<&mut ClientSession, StompError> {
        self.session
            .as_mut()
            .ok_or(StompError::Transport(Error::NotOpen))
    }

    /// The session is over and the transport closed: deregister and drop.
    pub fn is_finished(&self) -> bool {
        match &self.transport {
            Transport::Tcp { finished, .. } => *finished,
            Transport::WebSocket(ws) => ws.is_finished(),
        }
    }

    /// The interest needed now.
    pub fn interest(&self) -> Interest {
        match &self.transport {
            Transport::Tcp { io, out, .. } => io.interest(!out.is_empty()),
            Transport::WebSocket(ws) => ws.interest(),
        }
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    pub fn next_deadline(&self) -> Option<std::time::Instant> {
        let session = self
            .session
            .as_ref()
            .filter(|s| !s.is_closed())
            .and_then(ClientSession::poll_timeout)
            .map(to_std);
        let transport = match &self.transport {
            Transport::Tcp { .. } => None,
            Transport::WebSocket(ws) => ws.next_deadline(),
        };
        earliest(session, transport)
    }

    // --- registration and inputs ---

    /// Register in `registry` under `token`.
    pub fn register(&mut self, registry: &Registry, token: Token) -> Result<(), StompError> {
        match &mut self.transport {
            Transport::Tcp { io, out, .. } => io
                .register(registry, token, !out.is_empty())
                .map_err(Error::from)?,
            Transport::WebSocket(ws) => ws.register(registry, token)?,
        }
        Ok(())
    }

    /// Remove the registration.
    pub fn deregister(&mut self, registry: &Registry) -> Result<(), StompError> {
        match &mut self.transport {
            Transport::Tcp { io, .. } => io.deregister(registry).map_err(Error::from)?,
            Transport::WebSocket(ws) => ws.deregister(registry)?,
        }
        Ok(())
    }

    /// A readiness event with this socket's token arrived.
    pub fn handle_ready(
        &mut self,
        registry: &Registry,
        event: &mio::event::Event,
    ) -> Result<(), StompError> {
        match &mut self.transport {
            Transport::Tcp { io, finished, .. } => {
                if let Err(e) = io.handle_ready(registry, event) {
                    *finished = true;
                    return Err(Error::from(e).into());
                }
            }
            Transport::WebSocket(ws) => ws.handle_ready(registry, event)?,
        }
        Ok(())
    }

    /// The deadline passed: fire the session's and the transport's timers.
    pub fn handle_timeout(&mut self) {
        if let Some(session) = self.session.as_mut() {
            session.handle_timeout(now());
        }
        if let Transport::WebSocket(ws) = &mut self.transport {
            ws.handle_timeout();
        }
    }

    // --- outputs ---

    /// The next event, reading when nothing is pending. `Ok(None)`: nothing more for now (or
    /// ever, once [`is_finished`](Self::is_finished)). `Err`: the transport failed.
    pub fn poll_event(&mut self) -> Result<Option<ClientEvent>, StompError> {
        loop {
            if let Some(event) = self.session.as_mut().and_then(ClientSession::poll_event) {
                return Ok(Some(event));
            }
            self.move_transmit()?;
            if !self.read_some()? {
                return Ok(None);
            }
        }
    }

    /// Hand what the session queued to the transport; once the session is over, close the
    /// transport (a WebSocket close with 1000, or a TCP shutdown after the last bytes).
    fn move_transmit(&mut self) -> Result<(), StompError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        match &mut self.transport {
            Transport::Tcp { out, .. } => {
                session.poll_transmit_into(out);
            }
            Transport::WebSocket(ws) => {
                // Over WebSocket, one message per batch: text when UTF-8 (what browsers' STOMP
                // clients expect), else binary.
                while let Some(bytes) = session.poll_transmit() {
                    if ws.is_open() {
                        ws.send(&Message::text_or_binary(bytes))?;
                    }
                }
            }
        }
        if session.is_closed() && !self.closing {
            // TCP: shut once `out` is written (see `flush`).
            self.closing = true;
            if let Transport::WebSocket(ws) = &mut self.transport {
                if ws.is_open() {
                    ws.close(CloseCode::NORMAL, "")?;
                }
            }
        }
        Ok(())
    }

    /// Read once into the session. `false`: nothing more for now.
    fn read_some(&mut self) -> Result<bool, StompError> {
        let now = now();
        match &mut self.transport {
            Transport::Tcp { io, finished, .. } => {
                if *finished || !io.may_read() {
                    return Ok(false);
                }
                let session = self.session.as_mut().expect("TCP sessions start at once");
                // Read through the thread's buffer straight into the session.
                let outcome = match io.read(|data| session.handle_input(now, data)) {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        *finished = true;
                        io.close();
                        return Err(Error::from(e).into());
                    }
                };
                match outcome {
                    ReadOutcome::Data(_) => Ok(true),
                    ReadOutcome::Eof => {
                        session.handle_transport_closed(now);
                        Ok(true)
                    }
                    ReadOutcome::WouldBlock => Ok(false),
                }
            }
            Transport::WebSocket(ws) => {
                let event = match ws.poll_event()? {
                    None => return Ok(false),
                    Some(event) => event,
                };
                match event {
                    SocketEvent::Open { protocol, .. } => {
                        let mut config =
                            self.config.take().unwrap_or_else(|| ClientConfig::new("/"));
                        if config.accept_versions.is_empty() {
                            config.accept_versions =
                                accept_versions_for(protocol.as_deref()).to_vec();
                        }
                        self.session = Some(ClientSession::new(now, config)?);
                    }
                    SocketEvent::Ws(Event::Message(m)) => {
                        if let Some(session) = self.session.as_mut() {
                            session.handle_input(now, m.payload());
                        }
                    }
                    SocketEvent::Ws(Event::Chunk { data, .. }) => {
                        if let Some(session) = self.session.as_mut() {
                            session.handle_input(now, &data);
                        }
                    }
                    SocketEvent::Ws(Event::Closed(_)) => {
                        if let Some(session) = self.session.as_mut() {
                            session.handle_transport_closed(now);
                        }
                    }
                    _ => {}
                }
                Ok(true)
            }
        }
    }

    /// Write what is queued and re-register for the interest needed now. Call it after draining
    /// [`poll_event`](Self::poll_event) and after application calls.
    pub fn flush(&mut self, registry: &Registry) -> Result<(), StompError> {
        self.move_transmit()?;
        match &mut self.transport {
            Transport::Tcp {
                io, out, finished, ..
            } => {
                let result = write_all_possible(io, out).and_then(|()| {
                    if self.closing && out.is_empty() {
                        io.shutdown_write()?;
                        if io.is_write_shut() {
                            *finished = true;
                            io.close();
                        }
                    }
                    io.update_interest(registry, !out.is_empty())
                });
                if let Err(e) = result {
                    *finished = true;
                    io.close();
                    return Err(Error::from(e).into());
                }
            }
            Transport::WebSocket(ws) => ws.flush(registry)?,
        }
        Ok(())
    }

    /// Bytes are waiting to be written.
    pub fn wants_write(&self) -> bool {
        match &self.transport {
            Transport::Tcp { io, out, .. } => !out.is_empty() || io.tls_wants_write(),
            Transport::WebSocket(ws) => ws.wants_write(),
        }
    }
}

fn write_all_possible(io: &mut Io, out: &mut BytesMut) -> std::io::Result<()> {
    while !out.is_empty() {
        let n = io.write(out)?;
        if n == 0 {
            break;
        }
        out.advance(n);
    }
    io.flush()
}
