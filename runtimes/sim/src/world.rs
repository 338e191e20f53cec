//! The world: virtual time, the network, the server host and the client hosts, stepped one
//! event at a time from one seed; and the invariants every run must keep whatever the
//! application does (heart-beats, close deadlines, buffer limits, no livelock).
//!
//! The loop is str0m's earliest-event `progress()`: find the earliest deadline among network
//! deliveries and every machine's `poll_timeout`, move the clock there, handle exactly one thing,
//! record what was observed. Ties are broken in a fixed order (network, server, clients by
//! index), so a seed always replays the same run.

use crate::client::{ClientConn, ClientCx, ClientHost, ClientLogic, Stage};
use crate::net::{Delivery, End, LinkId, NetConfig, Network};
use crate::rng::SimRng;
use crate::server::{BrokerSetup, ServerHost};
use crate::trace::{Obs, Trace};
use duplex_core::broker::{Broker, BrokerConfig};
use duplex_core::stomp::{heartbeat, ClientConfig};
use duplex_core::ws::{Config as WsConfig, State};
use duplex_core::Instant;
use std::fmt;
use std::time::Duration;

/// How a world is built. [`SimConfig::new`] gives sensible defaults for a seed.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The one seed every random choice comes from.
    pub seed: u64,
    /// The network's behaviour.
    pub net: NetConfig,
    /// The broker's configuration (a fresh broker gets it at every (re)start).
    pub broker: BrokerConfig,
    /// The server's WebSocket settings.
    pub server_ws: WsConfig,
    /// The clients' WebSocket settings.
    pub client_ws: WsConfig,
    /// Cut a STOMP transmit into several WebSocket messages now and then.
    pub split_messages: bool,
    /// How many observations to keep as text for failure reports.
    pub keep_trace: usize,
    /// Largest STOMP frame the application sends or gets (bounds the buffer-limit check).
    pub max_frame: usize,
    /// Fail when this many steps happen without the clock moving (a livelock).
    pub max_steps_per_instant: u64,
}

impl SimConfig {
    /// Defaults: a LAN-ish network, the default broker, small WebSocket high-water marks.
    pub fn new(seed: u64) -> Self {
        let ws = WsConfig {
            outbound_high_water: 64 * 1024,
            close_timeout: Duration::from_secs(2),
            ..WsConfig::default()
        };
        SimConfig {
            seed,
            net: NetConfig::default(),
            broker: BrokerConfig::default(),
            server_ws: ws.clone(),
            client_ws: ws,
            split_messages: true,
            keep_trace: 64,
            max_frame: 1 << 20,
            max_steps_per_instant: 200_000,
        }
    }
}

/// Checks a run's observations as they happen (the delivery invariants are one).
pub trait Observer {
    /// `obs` happened at `now`; an `Err` fails the run.
    fn observe(&mut self, now: Instant, obs: &Obs) -> Result<(), String>;
}

/// Why a run failed.
#[derive(Clone, Debug)]
pub struct SimError {
    /// The seed.
    pub seed: u64,
    /// Virtual time of the failure.
    pub at: Instant,
    /// What was violated.
    pub message: String,
    /// The last observations before it.
    pub trace_tail: String,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} failed at t={:.6}s: {}",
            self.seed,
            self.at.as_nanos() as f64 / 1e9,
            self.message
        )?;
        writeln!(f, "last observations:\n{}", self.trace_tail)?;
        write!(f, "reproduce with DUPLEX_SEED={}", self.seed)
    }
}

impl std::error::Error for SimError {}

/// A simulated server and its clients. See the crate docs for a guide.
pub struct World<L: ClientLogic> {
    config: SimConfig,
    now: Instant,
    net: Network,
    pub(crate) server: ServerHost,
    pub(crate) clients: Vec<ClientHost<L>>,
    client_rng_base: u64,
    trace: Trace,
    obs: Vec<Obs>,
    observers: Vec<Box<dyn Observer>>,
    server_up_at: Option<Instant>,
    steps: u64,
    steps_here: u64,
    failure: Option<SimError>,
}

/// Run statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events handled.
    pub steps: u64,
    /// Observations recorded.
    pub observations: u64,
    /// Bytes the network delivered.
    pub bytes: u64,
    /// Connections clients opened.
    pub connects: u64,
    /// The hash of the whole trace.
    pub trace_hash: u64,
    /// Virtual time at the end.
    pub virtual_time: Duration,
}

impl<L: ClientLogic> World<L> {
    /// A world whose server is up at time zero, its broker set up by `setup` (which runs again
    /// after every restart: register your handlers there).
    pub fn new(config: SimConfig, setup: impl FnMut(&mut Broker) + 'static) -> Self {
        let seed = config.seed;
        let net = Network::new(config.net.clone(), SimRng::stream(seed, 1));
        let setup: BrokerSetup = Box::new(setup);
        let server = ServerHost::new(
            config.broker.clone(),
            config.server_ws.clone(),
            SimRng::stream(seed, 2),
            setup,
        );
        let mut world = World {
            now: Instant::from_nanos(1_000_000_000),
            net,
            server,
            clients: Vec::new(),
            client_rng_base: seed,
            trace: Trace::new(config.keep_trace),
            obs: Vec::new(),
            observers: Vec::new(),
            server_up_at: None,
            steps: 0,
            steps_here: 0,
            failure: None,
            config,
        };
        world.server.start(world.now, &mut world.obs);
        world.settle();
        world
    }

    /// Add a client host running `logic`; it connects at once.
    pub fn add_client(&mut self, logic: L, stomp: ClientConfig) -> usize {
        let index = self.clients.len();
        let rng = SimRng::stream(self.client_rng_base, 1000 + index as u64);
        let mut host = ClientHost::new(
            index,
            logic,
            rng,
            stomp,
            self.config.client_ws.clone(),
            self.config.split_messages,
        );
        host.connect(self.now, &mut self.net);
        host.pump(self.now, &mut self.net, &mut self.obs);
        self.clients.push(host);
        self.settle();
        index
    }

    /// Check every observation as it happens.
    pub fn add_observer(&mut self, observer: Box<dyn Observer>) {
        self.observers.push(observer);
    }

    /// Virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// Client `i`'s logic.
    pub fn client(&self, i: usize) -> &L {
        &self.clients[i].logic
    }

    /// How many clients there are.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Whether client `i` has a connected STOMP session.
    pub fn is_connected(&self, i: usize) -> bool {
        self.clients[i].is_connected()
    }

    /// Act as client `i` now (send, subscribe…), as if its application decided to.
    pub fn with_client<R>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut L, &mut ClientCx<'_>) -> R,
    ) -> R {
        let now = self.now;
        let r = self.clients[i].with_cx(now, &mut self.net, &mut self.obs, f);
        self.settle();
        r
    }

    /// The broker of the running server process (`None` while it is down).
    pub fn broker(&self) -> Option<&Broker> {
        self.server.broker.as_ref()
    }

    /// The seed's trace hash so far.
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// Run statistics so far.
    pub fn stats(&self) -> Stats {
        Stats {
            steps: self.steps,
            observations: self.trace.len,
            bytes: self.net.delivered_bytes,
            connects: self.clients.iter().map(|c| c.connects).sum(),
            trace_hash: self.trace.hash(),
            virtual_time: self.now - Instant::from_nanos(1_000_000_000),
        }
    }

    /// Fail the run with `message` (for checks made outside the world).
    pub fn fail(&mut self, message: impl Into<String>) -> SimError {
        let e = self.error(message.into());
        self.failure.get_or_insert(e).clone()
    }

    fn error(&self, message: String) -> SimError {
        SimError {
            seed: self.config.seed,
            at: self.now,
            message,
            trace_tail: self.trace.tail(),
        }
    }

    // --- faults ---

    fn link_of(&self, i: usize) -> Option<LinkId> {
        self.clients[i].conn.as_ref().map(|c| c.link)
    }

    fn note(&mut self, fault: String) {
        self.obs.push(Obs::Fault(fault));
    }

    /// Reset client `i`'s connection (both ends see it; data in flight is lost).
    pub fn reset(&mut self, i: usize) {
        if let Some(link) = self.link_of(i) {
            self.note(format!("reset c{i} {link:?}"));
            self.net.reset(self.now, link, [true, true]);
        }
        self.settle();
    }

    /// Client `i` shuts down its writing side without a close handshake (a half-close).
    pub fn half_close(&mut self, i: usize) {
        let now = self.now;
        if let Some(c) = self.clients[i].conn.as_mut() {
            if !c.fin_sent {
                let link = c.link;
                c.fin_sent = true;
                self.net.shutdown(now, link, End::Client);
                self.note(format!("half-close c{i} {link:?}"));
            }
        }
        self.settle();
    }

    /// Client `i` reads nothing for `d` (its application is busy); it still runs its timers.
    pub fn stall_reader(&mut self, i: usize, d: Duration) {
        if let Some(link) = self.link_of(i) {
            self.note(format!("stall c{i} {link:?} for {d:?}"));
            self.net.stall(link, End::Client, self.now + d);
        }
    }

    /// Client `i`'s link is slow both ways for `d`: `extra` latency, tiny segments.
    pub fn slow_link(&mut self, i: usize, d: Duration, extra: Duration) {
        if let Some(link) = self.link_of(i) {
            self.note(format!("slow c{i} {link:?} for {d:?} +{extra:?}"));
            for end in [End::Client, End::Server] {
                self.net.slow(link, end, self.now + d, extra);
            }
        }
    }

    /// Client host `i` stops for `d`: no reads, no timers (a GC pause, a suspended laptop).
    pub fn pause_client(&mut self, i: usize, d: Duration) {
        let until = self.now + d;
        self.note(format!("pause c{i} for {d:?}"));
        self.clients[i].paused_until = self.clients[i].paused_until.max(until);
        if let Some(link) = self.link_of(i) {
            self.net.stall(link, End::Client, until);
        }
    }

    /// The server host stops for `d`.
    pub fn pause_server(&mut self, d: Duration) {
        self.note(format!("pause server for {d:?}"));
        self.server.paused_until = self.server.paused_until.max(self.now + d);
        self.stall_server_links();
    }

    fn stall_server_links(&mut self) {
        if self.server.is_paused(self.now) {
            let links: Vec<LinkId> = self.net.links().collect();
            for link in links {
                self.net.stall(link, End::Server, self.server.paused_until);
            }
        }
    }

    /// The server process crashes now and a fresh one starts after `down`: every connection is
    /// reset and the broker's in-memory state is lost; clients must reconnect.
    pub fn restart_server(&mut self, down: Duration) {
        if !self.server.is_up() {
            return;
        }
        self.note(format!("restart server, down for {down:?}"));
        self.server.crash(self.now, &mut self.net, &mut self.obs);
        self.server_up_at = Some(self.now + down);
        self.settle();
    }

    // --- the loop ---

    fn next_time(&self) -> Option<Instant> {
        let mut t = self.net.next_event();
        let mut take = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        take(self.server_up_at);
        take(self.server.poll_timeout());
        for c in &self.clients {
            take(c.poll_timeout());
        }
        t
    }

    /// Handle everything due up to `until`, then set the clock to `until`.
    pub fn run_until(&mut self, until: Instant) -> Result<(), SimError> {
        loop {
            if let Some(e) = &self.failure {
                return Err(e.clone());
            }
            match self.next_time() {
                Some(t) if t <= until => self.step(t),
                _ => break,
            }
        }
        if until > self.now {
            self.now = until;
            self.steps_here = 0;
        }
        self.check_deadlines();
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// [`run_until`](Self::run_until) `now + d`.
    pub fn run_for(&mut self, d: Duration) -> Result<(), SimError> {
        self.run_until(self.now + d)
    }

    fn step(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
            self.steps_here = 0;
        }
        self.steps += 1;
        self.steps_here += 1;
        if self.steps_here > self.config.max_steps_per_instant {
            let e = self.error(format!(
                "livelock: {} steps without the clock moving",
                self.steps_here
            ));
            self.failure.get_or_insert(e);
            return;
        }
        let now = self.now;
        if let Some((link, end, delivery)) = self.net.poll(now) {
            let len = match &delivery {
                Delivery::Data(b) => b.len() as u64,
                Delivery::Eof => u64::MAX,
                Delivery::Reset => u64::MAX - 1,
            };
            self.trace.mix(now, link.0 << 1 | end as u64, len);
            match end {
                End::Server => {
                    self.server
                        .handle_delivery(now, link, delivery, &mut self.net, &mut self.obs);
                    // The client's window has room again.
                    if let Some(c) = self.owner(link) {
                        self.clients[c].pump(now, &mut self.net, &mut self.obs);
                    }
                }
                End::Client => {
                    if let Some(c) = self.owner(link) {
                        self.clients[c].handle_delivery(
                            now,
                            delivery,
                            &mut self.net,
                            &mut self.obs,
                        );
                    }
                    self.server
                        .writable(now, link, &mut self.net, &mut self.obs);
                }
            }
        } else if self.server_up_at.is_some_and(|t| t <= now) {
            self.server_up_at = None;
            self.server.start(now, &mut self.obs);
        } else if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.trace.mix(now, 1, 0);
            self.server
                .handle_timeout(now, &mut self.net, &mut self.obs);
        } else if let Some(i) = self
            .clients
            .iter()
            .position(|c| c.poll_timeout().is_some_and(|t| t <= now))
        {
            self.trace.mix(now, 2, i as u64);
            self.clients[i].handle_timeout(now, &mut self.net, &mut self.obs);
        }
        self.settle();
    }

    fn owner(&self, link: LinkId) -> Option<usize> {
        self.clients
            .iter()
            .position(|c| c.conn.as_ref().is_some_and(|c| c.link == link))
    }

    /// After anything happened: refuse connections to a dead server, stall reads of a paused
    /// one, record and check the observations, check the invariants.
    fn settle(&mut self) {
        if !self.server.is_up() {
            let open: Vec<LinkId> = self.net.links().filter(|l| self.net.is_open(*l)).collect();
            for link in open {
                self.net.refuse(self.now, link);
            }
        }
        self.stall_server_links();
        let obs = std::mem::take(&mut self.obs);
        for o in &obs {
            self.trace.record(self.now, o);
            if let Obs::Connected { client, link } = o {
                self.on_connected(*client, *link);
            }
            let mut failed = None;
            for observer in &mut self.observers {
                if let Err(message) = observer.observe(self.now, o) {
                    failed.get_or_insert(message);
                }
            }
            if let Some(message) = failed {
                let e = self.error(message);
                self.failure.get_or_insert(e);
            }
        }
        self.check_deadlines();
    }

    /// The server session on `link` is connected: its receive heart-beat deadline is known.
    fn on_connected(&mut self, client: usize, link: LinkId) {
        let server_hb = self.config.broker.session.heart_beat;
        let tolerance = self.config.broker.session.heart_beat_tolerance_percent;
        let client_hb = self.clients[client].stomp.heart_beat;
        if let Some(c) = self.server.conns.get_mut(&link) {
            c.hb_timeout = heartbeat::negotiate(server_hb, client_hb)
                .expect_every
                .map(|every| heartbeat::receive_timeout(every, tolerance));
        }
    }

    /// Deadlines that must have fired by now, and buffers that must be within their limits.
    fn check_deadlines(&mut self) {
        if self.failure.is_some() {
            return;
        }
        let now = self.now;
        let mut problems = std::mem::take(&mut self.server.violations);
        for host in &mut self.clients {
            problems.append(&mut host.violations);
            let Some(ClientConn {
                stage: Stage::Open { ws, stomp },
                ..
            }) = &host.conn
            else {
                continue;
            };
            let c = host.conn.as_ref().expect("matched above");
            let i = host.index;
            if let Some(timeout) = c.hb_timeout {
                if !stomp.is_closed() && host.paused_until <= c.last_rx && now > c.last_rx + timeout
                {
                    problems.push(format!(
                        "c{i} heard nothing for {:?} but did not detect it (heart-beat timeout \
                         {timeout:?})",
                        now - c.last_rx
                    ));
                }
            }
            if let Some(t0) = c.close_started {
                if ws.state() == State::CloseSent
                    && host.paused_until <= t0
                    && now > t0 + self.config.client_ws.close_timeout
                {
                    problems.push(format!("c{i} close handshake not over by its deadline"));
                }
            }
            if let Some(t0) = c.disconnect_started {
                if !stomp.is_closed()
                    && host.paused_until <= t0
                    && now > t0 + host.stomp.disconnect_timeout
                {
                    problems.push(format!("c{i} DISCONNECT not over by its deadline"));
                }
            }
        }
        let server_paused = self.server.paused_until;
        let ws_limit = self.config.server_ws.outbound_high_water;
        let broker_limit = self.config.broker.outbound.max_bytes + self.config.max_frame + 4096;
        if let Some(broker) = &self.server.broker {
            for (link, c) in &self.server.conns {
                if let Some(timeout) = c.hb_timeout {
                    if !c.released && server_paused <= c.last_in && now > c.last_in + timeout {
                        problems.push(format!(
                            "server heard nothing on {link:?} for {:?} but did not detect it \
                             (heart-beat timeout {timeout:?})",
                            now - c.last_in
                        ));
                    }
                }
                let queued = broker.outbound_len(duplex_core::broker::ConnId(link.0));
                if queued > broker_limit {
                    problems.push(format!(
                        "broker outbound queue for {link:?} holds {queued} bytes, limit {broker_limit}"
                    ));
                }
                if let Some(ws) = c.ws() {
                    // One take while under the high-water mark, and the final take when the
                    // broker closes the session (taken whatever the backlog): each at most the
                    // broker's own bound.
                    if ws.outbound_len() > ws_limit + 2 * broker_limit {
                        problems.push(format!(
                            "server WebSocket for {link:?} holds {} bytes (state {:?}, broker \
                             holds {queued}, limits {ws_limit} + {broker_limit})",
                            ws.outbound_len(),
                            ws.state()
                        ));
                    }
                    if let Some(t0) = c.close_started {
                        if ws.state() == State::CloseSent
                            && server_paused <= t0
                            && now > t0 + self.config.server_ws.close_timeout
                        {
                            problems.push(format!(
                                "server close handshake on {link:?} not over by its deadline"
                            ));
                        }
                    }
                }
            }
        }
        if let Some(p) = problems.into_iter().next() {
            let e = self.error(p);
            self.failure = Some(e);
        }
    }
}
