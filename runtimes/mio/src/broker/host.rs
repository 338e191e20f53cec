//! The loop's state: the core [`Broker`], owned directly (no lock), and one WebSocket
//! [`Socket`] per connection, moving STOMP bytes between them.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use duplex_core::broker::{ConnId, Output};
use duplex_core::ws::handshake::http_response;
use duplex_core::ws::{CloseCode, Event, Message};
use mio::net::TcpStream;
use mio::{Registry, Token};

use super::{BrokerHandle, HttpHandler, Shared};
use crate::time::{earliest, now, to_std};
use crate::ws::{AcceptOptions, Socket, SocketEvent};

/// Most bytes queued on a socket before the broker's next bytes for it wait (the broker then
/// sees a slow consumer's backlog and applies its policy).
const WRITE_ROOM: usize = 256 * 1024;

struct Conn {
    socket: Socket,
    id: ConnId,
    /// `Broker::open` was called and `handle_closed` not yet.
    open: bool,
    /// The handshake ended (open, HTTP request, rejected) or its failure was counted.
    greeted: bool,
}

/// Every connection of one broker endpoint, and the broker (locked per call, never across an
/// application callback).
pub(crate) struct Host {
    shared: Arc<Shared>,
    conns: HashMap<Token, Conn>,
    by_id: HashMap<ConnId, Token>,
    /// Connections the broker has bytes for that their socket could not take yet.
    waiting: BTreeSet<ConnId>,
    /// Connections to look at in the next `process`.
    touched: BTreeSet<Token>,
    next_id: u64,
    endpoint: String,
    accept: AcceptOptions,
    http: Option<Box<HttpHandler>>,
    pub(crate) shutting_down: bool,
}

impl Host {
    pub(crate) fn new(
        shared: Arc<Shared>,
        endpoint: String,
        accept: AcceptOptions,
        http: Option<Box<HttpHandler>>,
    ) -> Host {
        Host {
            shared,
            conns: HashMap::new(),
            by_id: HashMap::new(),
            waiting: BTreeSet::new(),
            touched: BTreeSet::new(),
            next_id: 1,
            endpoint,
            accept,
            http,
            shutting_down: false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.conns.len()
    }

    /// A connection the listener accepted, under `token`.
    pub(crate) fn accept(&mut self, registry: &Registry, token: Token, tcp: TcpStream) {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        let Ok(mut socket) = Socket::accept(tcp, &self.accept) else {
            self.shared.count(|c| &mut c.handshake_failures);
            return;
        };
        if socket.register(registry, token).is_err() {
            self.shared.count(|c| &mut c.handshake_failures);
            return;
        }
        self.conns.insert(
            token,
            Conn {
                socket,
                id,
                open: false,
                greeted: false,
            },
        );
        self.by_id.insert(id, token);
        self.touched.insert(token);
    }

    /// A readiness event; `false` if the token is not one of ours.
    pub(crate) fn handle_ready(&mut self, registry: &Registry, event: &mio::event::Event) -> bool {
        let Some(conn) = self.conns.get_mut(&event.token()) else {
            return false;
        };
        let _ = conn.socket.handle_ready(registry, event);
        self.touched.insert(event.token());
        true
    }

    /// The earliest deadline: the broker's timers and every socket's.
    pub(crate) fn next_deadline(&self) -> Option<std::time::Instant> {
        let sockets = self
            .conns
            .values()
            .filter_map(|c| c.socket.next_deadline())
            .min();
        let broker = self.shared.broker().poll_timeout();
        earliest(broker.map(to_std), sockets)
    }

    /// Fire what is due.
    pub(crate) fn handle_timeout(&mut self) {
        let at = std::time::Instant::now();
        let mut broker = self.shared.broker();
        if broker.poll_timeout().is_some_and(|t| to_std(t) <= at) {
            broker.handle_timeout(now());
        }
        drop(broker);
        for (token, conn) in &mut self.conns {
            if conn.socket.next_deadline().is_some_and(|t| t <= at) {
                conn.socket.handle_timeout();
                self.touched.insert(*token);
            }
        }
    }

    /// Graceful shutdown: every session ends without ERROR; sockets close with 1001 once the
    /// broker's last bytes for them are queued.
    pub(crate) fn shutdown(&mut self) {
        self.shutting_down = true;
        self.shared.broker().shutdown(now());
        for (token, conn) in &mut self.conns {
            if !conn.open && conn.socket.is_open() {
                let _ = conn
                    .socket
                    .close(CloseCode::GOING_AWAY, "server shutting down");
            }
            self.touched.insert(*token);
        }
    }

    /// After inputs: drain every touched socket's events into the broker, the broker's outputs
    /// into the sockets, then write and re-register.
    pub(crate) fn process(&mut self, registry: &Registry, handle: &BrokerHandle) {
        let touched = std::mem::take(&mut self.touched);
        for token in &touched {
            self.drain_socket(*token, handle);
        }
        self.drain_broker();
        // Write everything queued, then offer the broker's held-back bytes to sockets that
        // made room.
        let mut finished = Vec::new();
        for (token, conn) in &mut self.conns {
            if touched.contains(token) || conn.socket.wants_write() {
                let _ = conn.socket.flush(registry);
            }
            if conn.socket.is_finished() {
                finished.push(*token);
            }
        }
        let ready: Vec<ConnId> = self
            .waiting
            .iter()
            .copied()
            .filter(|id| {
                self.by_id
                    .get(id)
                    .and_then(|t| self.conns.get(t))
                    .is_some_and(|c| has_room(&c.socket))
            })
            .collect();
        if !ready.is_empty() {
            for id in ready {
                self.waiting.remove(&id);
                self.feed(id);
            }
            self.drain_broker();
            for conn in self.conns.values_mut() {
                if conn.socket.wants_write() {
                    let _ = conn.socket.flush(registry);
                }
            }
        }
        for token in finished {
            if let Some(mut conn) = self.conns.remove(&token) {
                let _ = conn.socket.deregister(registry);
                self.by_id.remove(&conn.id);
                self.waiting.remove(&conn.id);
                if conn.open {
                    self.shared.broker().handle_closed(now(), conn.id);
                }
            }
        }
        self.drain_broker();
    }

    fn drain_socket(&mut self, token: Token, handle: &BrokerHandle) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        loop {
            let event = match conn.socket.poll_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(_) => {
                    if !conn.greeted {
                        // The TLS or WebSocket handshake failed before it could answer.
                        conn.greeted = true;
                        self.shared.count(|c| &mut c.handshake_failures);
                    }
                    break;
                }
            };
            match event {
                SocketEvent::Open { request, .. } => {
                    conn.greeted = true;
                    let path = request
                        .as_ref()
                        .map(|r| r.path.split('?').next().unwrap_or(""));
                    if self.shutting_down {
                        let _ = conn
                            .socket
                            .close(CloseCode::GOING_AWAY, "server shutting down");
                    } else if path == Some(self.endpoint.as_str()) {
                        conn.open = self.shared.broker().open(now(), conn.id).is_ok();
                    } else {
                        tracing::debug!(path = ?path, "WebSocket to an unknown path");
                        self.shared.count(|c| &mut c.handshake_failures);
                        let _ = conn
                            .socket
                            .close(CloseCode::POLICY_VIOLATION, "unknown endpoint");
                    }
                }
                SocketEvent::HttpRequest(request) => {
                    conn.greeted = true;
                    self.shared.count(|c| &mut c.http_requests);
                    // No broker lock here: the callback may use the handle.
                    let answer = self.http.as_ref().map(|http| http(&request, handle));
                    let _ = match answer {
                        Some(Some(response)) => conn.socket.respond(response),
                        Some(None) => conn.socket.respond(http_response(
                            404,
                            "Not Found",
                            &[("Content-Type", "text/plain")],
                            b"not found\n",
                        )),
                        None => conn.socket.reject(),
                    };
                }
                SocketEvent::Rejected { .. } => {
                    conn.greeted = true;
                    self.shared.count(|c| &mut c.handshake_failures);
                }
                SocketEvent::Ws(Event::Message(m)) if conn.open => {
                    self.shared
                        .broker()
                        .handle_input(now(), conn.id, m.payload());
                }
                SocketEvent::Ws(Event::Chunk { data, .. }) if conn.open => {
                    self.shared.broker().handle_input(now(), conn.id, &data);
                }
                SocketEvent::Ws(Event::Closed(_)) if conn.open => {
                    conn.open = false;
                    self.shared.broker().handle_closed(now(), conn.id);
                }
                _ => {}
            }
        }
    }

    /// Act on the broker's outputs.
    fn drain_broker(&mut self) {
        loop {
            // Not `while let`: its scrutinee's guard would live through the body, which
            // takes the lock again.
            let output = self.shared.broker().poll_output();
            let Some(output) = output else {
                break;
            };
            match output {
                Output::Transmit(id) => {
                    let room = self
                        .by_id
                        .get(&id)
                        .and_then(|t| self.conns.get(t))
                        .is_some_and(|c| has_room(&c.socket));
                    if room {
                        self.feed(id);
                    } else {
                        self.waiting.insert(id);
                    }
                }
                Output::Close(id) => {
                    self.feed(id);
                    if let Some(conn) = self.by_id.get(&id).and_then(|t| self.conns.get_mut(t)) {
                        let code = if self.shutting_down {
                            CloseCode::GOING_AWAY
                        } else {
                            CloseCode::NORMAL
                        };
                        if conn.socket.is_open() {
                            let _ = conn.socket.close(code, "");
                        }
                        if conn.open {
                            conn.open = false;
                            self.shared.broker().handle_closed(now(), id);
                        }
                    }
                }
                // No handler matched: without async handlers there is nobody else to ask.
                Output::AppMessage(_) => {}
            }
        }
    }

    /// Move the broker's bytes for `id` into its socket's send queue.
    fn feed(&mut self, id: ConnId) {
        let bytes = self.shared.broker().take_transmit(id);
        let Some(bytes) = bytes else {
            return;
        };
        if let Some(conn) = self.by_id.get(&id).and_then(|t| self.conns.get_mut(t)) {
            let _ = conn.socket.send(&Message::text_or_binary(bytes));
        }
    }
}

fn has_room(socket: &Socket) -> bool {
    socket
        .connection()
        .is_some_and(|c| c.pending_transmit().len() < WRITE_ROOM)
}
