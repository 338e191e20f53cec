//! The simulated server host: the broker hosted exactly as `duplex-server` hosts it — the server
//! handshake on each accepted connection, then a WebSocket [`Connection`] whose messages feed
//! [`Broker::handle_input`], with [`Broker::poll_output`] / [`Broker::take_transmit`] going back
//! out — but on virtual time and the simulated network.
//!
//! Driver contract kept (spec-notes/broker.md): bytes are taken from the broker only when the
//! WebSocket is not backpressured (so a slow reader shows up as broker backlog); on
//! [`Output::Close`] the rest is taken and written, the WebSocket closed, and
//! [`Broker::handle_closed`] called once the transport is done.

use crate::net::{Delivery, End, LinkId, Network};
use crate::rng::SimRng;
use crate::trace::Obs;
use duplex_core::broker::{AppMessage, Broker, BrokerConfig, ConnId, DefaultAuthorizer, Output};
use duplex_core::stomp::ws::WS_SUBPROTOCOLS;
use duplex_core::stomp::{heartbeat, AllowAll};
use duplex_core::ws::handshake::{ServerConfig as HandshakeConfig, ServerHandshake, ServerOutcome};
use duplex_core::ws::{CloseCode, Config as WsConfig, Connection, Event, Message, State};
use duplex_core::Instant;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Registers the application's handlers on a fresh broker (at start and after every restart).
pub type BrokerSetup = Box<dyn FnMut(&mut Broker)>;

enum Stage {
    Handshake(Box<ServerHandshake>),
    Open(Box<Connection>),
    /// Refused or answered over HTTP: only the transport remains.
    Failed,
}

pub(crate) struct ServerConn {
    stage: Stage,
    pending: Vec<u8>,
    /// Opened in the broker and not yet `handle_closed`.
    broker_open: bool,
    /// The broker let go (asked to close, or was told the transport is gone).
    pub(crate) released: bool,
    want_take: bool,
    close_requested: bool,
    fin_sent: bool,
    peer_fin: bool,
    reset: bool,
    /// When the broker last got bytes from this connection.
    pub(crate) last_in: Instant,
    pub(crate) opened: Instant,
    /// The session's receive heart-beat timeout, once the client saw CONNECTED.
    pub(crate) hb_timeout: Option<Duration>,
    /// Paused since the last input: heart-beat deadlines are off.
    pub(crate) hb_exempt: bool,
    pub(crate) close_started: Option<Instant>,
    linger_until: Option<Instant>,
}

impl ServerConn {
    /// The WebSocket, once the handshake is done.
    pub(crate) fn ws(&self) -> Option<&Connection> {
        match &self.stage {
            Stage::Open(ws) => Some(ws),
            _ => None,
        }
    }
}

/// The server host.
pub(crate) struct ServerHost {
    pub(crate) broker: Option<Broker>,
    setup: BrokerSetup,
    pub(crate) broker_config: BrokerConfig,
    pub(crate) ws_config: WsConfig,
    handshake: Arc<HandshakeConfig>,
    rng: SimRng,
    pub(crate) conns: BTreeMap<LinkId, ServerConn>,
    dirty: BTreeSet<LinkId>,
    pub(crate) paused_until: Instant,
    /// Processes started so far.
    pub(crate) incarnation: u32,
    /// `/app` SENDs no handler took.
    pub(crate) app_messages: Vec<AppMessage>,
    /// Invariant violations seen while hosting (reported by the world).
    pub(crate) violations: Vec<String>,
}

impl ServerHost {
    pub(crate) fn new(
        broker_config: BrokerConfig,
        ws_config: WsConfig,
        rng: SimRng,
        setup: BrokerSetup,
    ) -> Self {
        let handshake = Arc::new(HandshakeConfig {
            protocols: WS_SUBPROTOCOLS.iter().map(|p| (*p).to_owned()).collect(),
            ..HandshakeConfig::default()
        });
        ServerHost {
            broker: None,
            setup,
            broker_config,
            ws_config,
            handshake,
            rng,
            conns: BTreeMap::new(),
            dirty: BTreeSet::new(),
            paused_until: Instant::ZERO,
            incarnation: 0,
            app_messages: Vec::new(),
            violations: Vec::new(),
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        self.broker.is_some()
    }

    pub(crate) fn is_paused(&self, now: Instant) -> bool {
        now < self.paused_until
    }

    /// Start a fresh server process (a new, empty broker).
    pub(crate) fn start(&mut self, now: Instant, obs: &mut Vec<Obs>) {
        let mut broker = Broker::new(
            now,
            self.broker_config.clone(),
            Box::new(AllowAll),
            Box::new(DefaultAuthorizer::default()),
            Box::new(self.rng.fork()),
        );
        (self.setup)(&mut broker);
        self.broker = Some(broker);
        self.incarnation += 1;
        obs.push(Obs::ServerUp);
    }

    /// The process dies: every connection is reset, the broker's state is lost.
    pub(crate) fn crash(&mut self, now: Instant, net: &mut Network, obs: &mut Vec<Obs>) {
        let links: Vec<LinkId> = net.links().collect();
        for link in links {
            net.reset(now, link, [true, false]);
        }
        for (link, c) in std::mem::take(&mut self.conns) {
            if c.broker_open && !c.released {
                obs.push(Obs::Released { link });
            }
        }
        self.broker = None;
        self.dirty.clear();
        obs.push(Obs::ServerDown);
    }

    /// The next time this host has work, deferred while paused.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let broker = self.broker.as_ref()?.poll_timeout();
        let conns = self.conns.values().filter_map(|c| {
            let machine = match &c.stage {
                Stage::Handshake(hs) => hs.poll_timeout(),
                Stage::Open(ws) => ws.poll_timeout(),
                Stage::Failed => None,
            };
            [machine, c.linger_until].into_iter().flatten().min()
        });
        let t = broker.into_iter().chain(conns).min()?;
        Some(t.max(self.paused_until))
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant, net: &mut Network, obs: &mut Vec<Obs>) {
        let Some(broker) = &mut self.broker else {
            return;
        };
        if broker.poll_timeout().is_some_and(|t| t <= now) {
            // The server's receive deadline is known once the broker accepted CONNECT, whether or
            // not the client has read CONNECTED yet (it may be paused).
            let tolerance = self.broker_config.session.heart_beat_tolerance_percent;
            for (link, c) in &mut self.conns {
                if c.hb_timeout.is_none() {
                    c.hb_timeout = broker
                        .negotiated_heart_beat(ConnId(link.0))
                        .and_then(|hb| hb.expect_every)
                        .map(|every| heartbeat::receive_timeout(every, tolerance));
                }
            }
            let slow_before = broker.stats().slow_consumer_disconnects;
            broker.handle_timeout(now);
            let slow = broker.stats().slow_consumer_disconnects != slow_before;
            let closed = self.drain_outputs(obs);
            if !slow {
                self.check_timeout_closes(now, &closed);
            }
        }
        for (link, c) in &mut self.conns {
            if c.linger_until.is_some_and(|t| t <= now) {
                net.reset(now, *link, [true, false]);
                c.reset = true;
            } else {
                match &mut c.stage {
                    Stage::Handshake(hs) => hs.handle_timeout(now),
                    Stage::Open(ws) => ws.handle_timeout(now),
                    Stage::Failed => {}
                }
            }
            self.dirty.insert(*link);
        }
        self.service(now, net, obs);
    }

    /// A session closed by a timer: the heart-beat (or CONNECT) deadline must really have passed.
    fn check_timeout_closes(&mut self, now: Instant, closed: &[LinkId]) {
        let connect_timeout = self.broker_config.session.connect_timeout;
        for link in closed {
            let Some(c) = self.conns.get(link) else {
                continue;
            };
            let silent = now - c.last_in;
            let hb_due = c.hb_timeout.is_some_and(|t| silent >= t);
            let connect_due = now - c.opened >= connect_timeout;
            if !hb_due && !connect_due {
                self.violations.push(format!(
                    "server closed {link:?} on a timer after {silent:?} of silence, before its \
                     heart-beat deadline ({:?})",
                    c.hb_timeout
                ));
            }
        }
    }

    pub(crate) fn handle_delivery(
        &mut self,
        now: Instant,
        link: LinkId,
        delivery: Delivery,
        net: &mut Network,
        obs: &mut Vec<Obs>,
    ) {
        if self.broker.is_none() {
            return;
        }
        let handshake = &self.handshake;
        let c = self.conns.entry(link).or_insert_with(|| ServerConn {
            stage: Stage::Handshake(Box::new(ServerHandshake::new(now, handshake.clone()))),
            pending: Vec::new(),
            broker_open: false,
            released: false,
            want_take: false,
            close_requested: false,
            fin_sent: false,
            peer_fin: false,
            reset: false,
            last_in: now,
            opened: now,
            hb_timeout: None,
            hb_exempt: false,
            close_started: None,
            linger_until: None,
        });
        match delivery {
            Delivery::Data(bytes) => match &mut c.stage {
                Stage::Handshake(hs) => hs.handle_input(now, &bytes),
                Stage::Open(ws) => ws.handle_input(now, &bytes),
                Stage::Failed => {}
            },
            Delivery::Eof | Delivery::Reset => {
                if delivery == Delivery::Eof {
                    c.peer_fin = true;
                } else {
                    c.reset = true;
                }
                match &mut c.stage {
                    Stage::Handshake(hs) => hs.handle_eof(),
                    Stage::Open(ws) => ws.handle_eof(now),
                    Stage::Failed => {}
                }
            }
        }
        self.dirty.insert(link);
        self.service(now, net, obs);
    }

    /// The network took bytes from `link`: there may be room to write more.
    pub(crate) fn writable(
        &mut self,
        now: Instant,
        link: LinkId,
        net: &mut Network,
        obs: &mut Vec<Obs>,
    ) {
        if self.conns.contains_key(&link) {
            self.dirty.insert(link);
            self.service(now, net, obs);
        }
    }

    /// Drain the broker's outputs; returns the connections it asked to close.
    fn drain_outputs(&mut self, obs: &mut Vec<Obs>) -> Vec<LinkId> {
        let mut closed = Vec::new();
        let Some(broker) = &mut self.broker else {
            return closed;
        };
        while let Some(output) = broker.poll_output() {
            match output {
                Output::Transmit(ConnId(id)) => {
                    let link = LinkId(id);
                    if let Some(c) = self.conns.get_mut(&link) {
                        c.want_take = true;
                        self.dirty.insert(link);
                    }
                }
                Output::Close(ConnId(id)) => {
                    let link = LinkId(id);
                    if let Some(c) = self.conns.get_mut(&link) {
                        c.close_requested = true;
                        if !c.released {
                            c.released = true;
                            obs.push(Obs::Released { link });
                        }
                        self.dirty.insert(link);
                        closed.push(link);
                    }
                }
                Output::AppMessage(m) => self.app_messages.push(m),
            }
        }
        closed
    }

    /// Pump every connection that may have work until nothing moves.
    fn service(&mut self, now: Instant, net: &mut Network, obs: &mut Vec<Obs>) {
        for _ in 0..100_000 {
            self.drain_outputs(obs);
            let Some(link) = self.dirty.pop_first() else {
                return;
            };
            self.pump(now, link, net, obs);
        }
        panic!("server service did not settle");
    }

    fn pump(&mut self, now: Instant, link: LinkId, net: &mut Network, obs: &mut Vec<Obs>) {
        let Some(broker) = self.broker.as_mut() else {
            return;
        };
        let Some(c) = self.conns.get_mut(&link) else {
            return;
        };
        let conn = ConnId(link.0);
        if let Stage::Handshake(hs) = &mut c.stage {
            match hs.poll_outcome() {
                Some(ServerOutcome::Upgraded { leftover, .. }) => {
                    if let Some(b) = hs.poll_transmit() {
                        c.pending.extend_from_slice(&b);
                    }
                    let mut ws = Connection::server(now, self.ws_config.clone());
                    broker.open(now, conn).expect("link ids are unique");
                    c.broker_open = true;
                    c.opened = now;
                    c.last_in = now;
                    ws.handle_input(now, &leftover);
                    c.stage = Stage::Open(Box::new(ws));
                }
                Some(ServerOutcome::HttpRequest { .. }) => {
                    hs.reject_not_websocket();
                    c.pending.extend(hs.poll_transmit().unwrap_or_default());
                    c.stage = Stage::Failed;
                }
                Some(ServerOutcome::Rejected { .. }) => {
                    c.pending.extend(hs.poll_transmit().unwrap_or_default());
                    c.stage = Stage::Failed;
                }
                None => {}
            }
        }
        let mut again = false;
        if let Stage::Open(ws) = &mut c.stage {
            while let Some(event) = ws.poll_event() {
                match event {
                    Event::Message(m) => {
                        if !m.payload().is_empty() {
                            c.last_in = now;
                            c.hb_exempt = false;
                        }
                        broker.handle_input(now, conn, m.payload());
                        again = true; // outputs may concern this very connection
                    }
                    Event::Closed(_) if c.broker_open => {
                        c.broker_open = false;
                        broker.handle_closed(now, conn);
                        if !c.released {
                            c.released = true;
                            obs.push(Obs::Released { link });
                        }
                    }
                    _ => {}
                }
            }
            if ws.state() == State::Open && (c.want_take || c.close_requested) {
                if !ws.is_backpressured() || c.close_requested {
                    c.want_take = false;
                    if let Some(bytes) = broker.take_transmit(conn) {
                        let _ = ws.send(&Message::text_or_binary(bytes));
                    }
                    again = true;
                }
                if c.close_requested && !c.want_take {
                    let _ = ws.close(now, CloseCode::NORMAL, "");
                }
            }
            if c.close_started.is_none() && ws.state() == State::CloseSent {
                c.close_started = Some(now);
            }
        }
        if c.reset {
            if let Stage::Open(ws) = &mut c.stage {
                ws.handle_eof(now);
                while ws.poll_event().is_some() {}
            }
            if c.broker_open {
                broker.handle_closed(now, conn);
                if !c.released {
                    obs.push(Obs::Released { link });
                }
            }
            self.conns.remove(&link);
            return;
        }
        if !c.pending.is_empty() {
            let n = net.write(now, link, End::Server, &c.pending);
            c.pending.drain(..n);
        }
        let done = match &mut c.stage {
            Stage::Open(ws) => {
                let out = ws.pending_transmit();
                if !out.is_empty() {
                    let n = net.write(now, link, End::Server, out);
                    ws.advance_transmit(n);
                }
                // A backpressured WebSocket that drained may take more from the broker.
                if c.want_take && ws.state() == State::Open && !ws.is_backpressured() {
                    again = true;
                }
                ws.is_done()
            }
            Stage::Handshake(_) => false,
            Stage::Failed => c.pending.is_empty(),
        };
        if done && !c.fin_sent {
            net.shutdown(now, link, End::Server);
            c.fin_sent = true;
            c.linger_until = Some(now + self.ws_config.close_timeout);
        }
        if c.fin_sent && c.peer_fin {
            if c.broker_open {
                broker.handle_closed(now, conn);
                if !c.released {
                    obs.push(Obs::Released { link });
                }
            }
            self.conns.remove(&link);
            return;
        }
        if again {
            self.dirty.insert(link);
        }
    }
}
