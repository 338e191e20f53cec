//! A simulated client host: the real client handshake, WebSocket [`Connection`] and STOMP
//! [`ClientSession`], driven by the application's [`ClientLogic`].
//!
//! The host does what a runtime adapter does and nothing more: it moves bytes between the
//! network and the machines, fires their timers, and follows the contract's order (drain events,
//! then transmit, then re-arm the timer). When the connection ends it asks the logic whether and
//! when to reconnect.

use crate::net::{Delivery, End, LinkId, Network};
use crate::rng::SimRng;
use crate::trace::Obs;
use bytes::Bytes;
use duplex_core::stomp::ws::{accept_versions_for, WS_SUBPROTOCOLS};
use duplex_core::stomp::{
    heartbeat, AckMode, ClientConfig, ClientEvent, ClientSession, LocalError,
    Message as StompMessage, ReceiptId, SubscriptionId,
};
use duplex_core::ws::handshake::{ClientHandshake, ClientOutcome, ClientRequest};
use duplex_core::ws::{CloseCode, Config as WsConfig, Connection, Event, Message, State};
use duplex_core::Instant;
use std::time::Duration;

/// Your client application, run by the simulator on one client host.
///
/// Every method gets a [`ClientCx`]: the virtual time, the host's seeded randomness, and the
/// STOMP calls (which the simulator records in the trace). Do not read a clock or OS randomness
/// here: use `cx.now()` and `cx.rng()`, or the run will not replay.
pub trait ClientLogic {
    /// The STOMP session got CONNECTED on a fresh connection: subscribe, publish…
    fn on_connected(&mut self, cx: &mut ClientCx<'_>) {
        let _ = cx;
    }

    /// A STOMP event arrived: a MESSAGE, a RECEIPT, an ERROR…
    fn on_event(&mut self, cx: &mut ClientCx<'_>, event: &ClientEvent) {
        let _ = (cx, event);
    }

    /// The wake-up asked for with [`ClientCx::wake_at`] came due.
    fn on_wake(&mut self, cx: &mut ClientCx<'_>) {
        let _ = cx;
    }

    /// The connection is gone (closed, reset, refused, timed out). Return how long to wait
    /// before reconnecting, or `None` to stay offline. Default: a seeded backoff of 50–500 ms.
    fn on_disconnected(&mut self, cx: &mut ClientCx<'_>) -> Option<Duration> {
        Some(cx.rng().millis(50, 500))
    }
}

/// What a [`ClientLogic`] may do, and what it may know.
pub struct ClientCx<'a> {
    pub(crate) now: Instant,
    pub(crate) client: usize,
    pub(crate) link: Option<LinkId>,
    pub(crate) session: Option<&'a mut ClientSession>,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) wake: &'a mut Option<Instant>,
    pub(crate) obs: &'a mut Vec<Obs>,
    pub(crate) disconnect_started: &'a mut Option<Instant>,
    pub(crate) next_receipt: &'a mut u64,
}

impl ClientCx<'_> {
    /// Virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// This client's index.
    pub fn client(&self) -> usize {
        self.client
    }

    /// This host's seeded randomness.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// Call [`ClientLogic::on_wake`] at `at` (replaces an earlier request).
    pub fn wake_at(&mut self, at: Instant) {
        *self.wake = Some(at);
    }

    /// Whether a STOMP session is connected.
    pub fn is_connected(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.is_connected())
    }

    /// The STOMP session, for calls the simulator does not record (transactions…).
    pub fn session(&mut self) -> Option<&mut ClientSession> {
        self.session.as_deref_mut()
    }

    fn connected(&mut self) -> Result<(&mut ClientSession, LinkId), LocalError> {
        match (self.session.as_deref_mut(), self.link) {
            (Some(s), Some(l)) => Ok((s, l)),
            _ => Err(LocalError::NotConnected),
        }
    }

    fn receipt_id(&mut self) -> String {
        *self.next_receipt += 1;
        format!("sim-{}", self.next_receipt)
    }

    /// SUBSCRIBE, with a RECEIPT when `receipt` (the RECEIPT means the broker registered it).
    pub fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        receipt: bool,
    ) -> Result<(SubscriptionId, Option<String>), LocalError> {
        let r = receipt.then(|| self.receipt_id());
        let (client, now) = (self.client, self.now);
        let _ = now;
        let (session, link) = self.connected()?;
        let headers: Vec<(&str, &str)> = r.iter().map(|r| ("receipt", r.as_str())).collect();
        let sub = session.subscribe(destination, ack, &headers)?;
        self.obs.push(Obs::Subscribe {
            client,
            link,
            sub: sub.0.clone(),
            destination: destination.to_owned(),
            receipt: r.clone(),
        });
        Ok((sub, r))
    }

    /// SEND `body` to `destination`, with a RECEIPT when `receipt`.
    pub fn send(
        &mut self,
        destination: &str,
        body: Bytes,
        receipt: bool,
    ) -> Result<Option<ReceiptId>, LocalError> {
        let client = self.client;
        let (session, link) = self.connected()?;
        let r = session.send(destination, body.clone(), &[], receipt)?;
        self.obs.push(Obs::Send {
            client,
            link,
            destination: destination.to_owned(),
            body,
            receipt: r.as_ref().map(|r| r.0.clone()),
        });
        Ok(r)
    }

    /// ACK (`positive`) or NACK `message`.
    pub fn ack(&mut self, message: &StompMessage, positive: bool) -> Result<(), LocalError> {
        let client = self.client;
        let (session, link) = self.connected()?;
        if positive {
            session.ack(message, None)?;
        } else {
            session.nack(message, None)?;
        }
        self.obs.push(Obs::Ack {
            client,
            link,
            body: message.body().clone(),
            positive,
            receipt: None,
        });
        Ok(())
    }

    /// Graceful DISCONNECT: the session waits for its RECEIPT (or its `disconnect_timeout`).
    pub fn disconnect(&mut self) -> Result<(), LocalError> {
        let now = self.now;
        let (session, _) = self.connected()?;
        session.disconnect()?;
        *self.disconnect_started = Some(now);
        Ok(())
    }
}

/// Where a client connection stands.
pub(crate) enum Stage {
    Handshake(Box<ClientHandshake>),
    Open {
        ws: Box<Connection>,
        stomp: Box<ClientSession>,
    },
    /// The handshake failed: only the transport remains to be closed.
    Failed,
}

/// One connection of a client host.
pub(crate) struct ClientConn {
    pub(crate) link: LinkId,
    pub(crate) stage: Stage,
    /// Handshake bytes not yet taken by the network.
    pending: Vec<u8>,
    pub(crate) fin_sent: bool,
    pub(crate) peer_fin: bool,
    pub(crate) reset: bool,
    /// When the STOMP session last received bytes (for the heart-beat check).
    pub(crate) last_rx: Instant,
    /// The negotiated receive-side heart-beat timeout, once CONNECTED.
    pub(crate) hb_timeout: Option<Duration>,
    /// When we sent a WebSocket close frame.
    pub(crate) close_started: Option<Instant>,
    pub(crate) disconnect_started: Option<Instant>,
    /// After our FIN: when to give up on the peer's and reset.
    linger_until: Option<Instant>,
    pub(crate) session_closed: bool,
}

/// A client host.
pub(crate) struct ClientHost<L> {
    pub(crate) index: usize,
    pub(crate) logic: L,
    pub(crate) rng: SimRng,
    pub(crate) conn: Option<ClientConn>,
    pub(crate) reconnect_at: Option<Instant>,
    pub(crate) wake_at: Option<Instant>,
    pub(crate) paused_until: Instant,
    /// Paused since the session last heard from the server: heart-beat deadlines are off.
    pub(crate) hb_exempt: bool,
    pub(crate) stomp: ClientConfig,
    pub(crate) ws: WsConfig,
    pub(crate) split_messages: bool,
    next_receipt: u64,
    /// Where a [`ClientCx`] without a connection records a (refused) disconnect.
    spare_disconnect: Option<Instant>,
    /// Connections made (for reports).
    pub(crate) connects: u64,
    /// Invariant violations seen on this host (reported by the world).
    pub(crate) violations: Vec<String>,
}

macro_rules! cx {
    ($host:expr, $now:expr, $obs:expr) => {{
        let (session, link, disconnect_started) = match &mut $host.conn {
            Some(ClientConn {
                stage: Stage::Open { stomp, .. },
                link,
                disconnect_started,
                ..
            }) => (Some(&mut **stomp), Some(*link), disconnect_started),
            _ => (None, None, &mut $host.spare_disconnect),
        };
        ClientCx {
            now: $now,
            client: $host.index,
            link,
            session,
            rng: &mut $host.rng,
            wake: &mut $host.wake_at,
            obs: $obs,
            disconnect_started,
            next_receipt: &mut $host.next_receipt,
        }
    }};
}

impl<L: ClientLogic> ClientHost<L> {
    pub(crate) fn new(
        index: usize,
        logic: L,
        rng: SimRng,
        stomp: ClientConfig,
        ws: WsConfig,
        split_messages: bool,
    ) -> Self {
        ClientHost {
            index,
            logic,
            rng,
            conn: None,
            reconnect_at: None,
            wake_at: None,
            paused_until: Instant::ZERO,
            hb_exempt: false,
            stomp,
            ws,
            split_messages,
            next_receipt: 0,
            spare_disconnect: None,
            connects: 0,
            violations: Vec::new(),
        }
    }

    /// Open a new connection now.
    pub(crate) fn connect(&mut self, now: Instant, net: &mut Network) -> LinkId {
        let link = net.connect();
        let request = ClientRequest {
            protocols: WS_SUBPROTOCOLS.iter().map(|p| (*p).to_owned()).collect(),
            ..ClientRequest::new("sim.invalid", "/ws")
        };
        let mut hs = ClientHandshake::new(now, request, &mut self.rng);
        let pending = hs.poll_transmit().map(|b| b.to_vec()).unwrap_or_default();
        self.connects += 1;
        self.conn = Some(ClientConn {
            link,
            stage: Stage::Handshake(Box::new(hs)),
            pending,
            fin_sent: false,
            peer_fin: false,
            reset: false,
            last_rx: now,
            hb_timeout: None,
            close_started: None,
            disconnect_started: None,
            linger_until: None,
            session_closed: false,
        });
        link
    }

    /// The next time this host has work (its machines' deadlines, wake-ups, reconnects),
    /// deferred while paused.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let mut t = [self.wake_at, self.reconnect_at, None, None, None];
        if let Some(c) = &self.conn {
            t[2] = c.linger_until;
            match &c.stage {
                Stage::Handshake(hs) => t[3] = hs.poll_timeout(),
                Stage::Open { ws, stomp } => {
                    t[3] = ws.poll_timeout();
                    t[4] = stomp.poll_timeout();
                }
                Stage::Failed => {}
            }
        }
        let t = t.into_iter().flatten().min()?;
        Some(t.max(self.paused_until))
    }

    /// Time passed: fire whatever is due.
    pub(crate) fn handle_timeout(&mut self, now: Instant, net: &mut Network, obs: &mut Vec<Obs>) {
        if self.reconnect_at.is_some_and(|t| t <= now) {
            self.reconnect_at = None;
            if self.conn.is_none() {
                self.connect(now, net);
            }
        }
        if self.wake_at.is_some_and(|t| t <= now) {
            self.wake_at = None;
            let mut cx = cx!(self, now, obs);
            self.logic.on_wake(&mut cx);
        }
        if let Some(c) = &mut self.conn {
            if c.linger_until.is_some_and(|t| t <= now) {
                // The peer never closed its side: abort.
                net.reset(now, c.link, [false, true]);
                c.reset = true;
            } else {
                match &mut c.stage {
                    Stage::Handshake(hs) => hs.handle_timeout(now),
                    Stage::Open { ws, stomp } => {
                        ws.handle_timeout(now);
                        stomp.handle_timeout(now);
                    }
                    Stage::Failed => {}
                }
            }
        }
        self.pump(now, net, obs);
    }

    /// Something arrived on our link.
    pub(crate) fn handle_delivery(
        &mut self,
        now: Instant,
        delivery: Delivery,
        net: &mut Network,
        obs: &mut Vec<Obs>,
    ) {
        let Some(c) = &mut self.conn else {
            return;
        };
        match delivery {
            Delivery::Data(bytes) => match &mut c.stage {
                Stage::Handshake(hs) => hs.handle_input(now, &bytes),
                Stage::Open { ws, .. } => ws.handle_input(now, &bytes),
                Stage::Failed => {}
            },
            Delivery::Eof => {
                c.peer_fin = true;
                match &mut c.stage {
                    Stage::Handshake(hs) => hs.handle_eof(),
                    Stage::Open { ws, .. } => ws.handle_eof(now),
                    Stage::Failed => {}
                }
            }
            Delivery::Reset => {
                c.reset = true;
                match &mut c.stage {
                    Stage::Handshake(hs) => hs.handle_eof(),
                    Stage::Open { ws, .. } => ws.handle_eof(now),
                    Stage::Failed => {}
                }
            }
        }
        self.pump(now, net, obs);
    }

    /// Move everything that can move: handshake outcome, WebSocket events into STOMP, STOMP
    /// events to the logic, STOMP bytes into WebSocket, WebSocket bytes to the network.
    pub(crate) fn pump(&mut self, now: Instant, net: &mut Network, obs: &mut Vec<Obs>) {
        for _ in 0..1000 {
            if !self.pump_once(now, net, obs) {
                return;
            }
        }
        panic!("client {} pump did not settle", self.index);
    }

    fn pump_once(&mut self, now: Instant, net: &mut Network, obs: &mut Vec<Obs>) -> bool {
        let Some(c) = &mut self.conn else {
            return false;
        };
        let mut progress = false;
        // Handshake outcome.
        if let Stage::Handshake(hs) = &mut c.stage {
            match hs.poll_outcome() {
                Some(ClientOutcome::Accepted {
                    protocol, leftover, ..
                }) => {
                    let mut ws =
                        Connection::client(now, self.ws.clone(), Box::new(self.rng.fork()));
                    let mut config = self.stomp.clone();
                    config.accept_versions = accept_versions_for(protocol.as_deref()).to_vec();
                    let stomp = ClientSession::new(now, config).expect("valid CONNECT headers");
                    ws.handle_input(now, &leftover);
                    c.stage = Stage::Open {
                        ws: Box::new(ws),
                        stomp: Box::new(stomp),
                    };
                    progress = true;
                }
                Some(ClientOutcome::Failed(_)) => {
                    c.stage = Stage::Failed;
                    progress = true;
                }
                None => {}
            }
        }
        let link = c.link;
        let mut events = Vec::new();
        if let Stage::Open { ws, stomp } = &mut c.stage {
            // WebSocket events: STOMP bytes in.
            while let Some(event) = ws.poll_event() {
                progress = true;
                match event {
                    Event::Message(m) => {
                        if !m.payload().is_empty() {
                            c.last_rx = now;
                            self.hb_exempt = false;
                        }
                        stomp.handle_input(now, m.payload());
                    }
                    Event::Closed(_) => stomp.handle_transport_closed(now),
                    _ => {}
                }
            }
            while let Some(event) = stomp.poll_event() {
                events.push(event);
            }
        }
        for event in events {
            progress = true;
            self.on_stomp_event(now, link, event, obs);
        }
        let Some(c) = &mut self.conn else {
            return progress;
        };
        if let Stage::Open { ws, stomp } = &mut c.stage {
            // STOMP bytes out, one or several WebSocket messages.
            if let Some(bytes) = stomp.poll_transmit() {
                progress = true;
                let mut rest = bytes;
                while !rest.is_empty() {
                    let n = if self.split_messages && rest.len() > 1 && self.rng.chance(300) {
                        self.rng.range_usize(1, rest.len() - 1)
                    } else {
                        rest.len()
                    };
                    let piece = rest.split_to(n);
                    if ws.send(&Message::text_or_binary(piece)).is_err() {
                        break;
                    }
                }
            }
            // The session is over: close the WebSocket.
            if stomp.is_closed() && ws.state() == State::Open {
                let _ = ws.close(now, CloseCode::NORMAL, "");
                c.close_started = Some(now);
                progress = true;
            }
            if c.close_started.is_none() && ws.state() == State::CloseSent {
                c.close_started = Some(now);
            }
        }
        if c.reset {
            // Nothing more can be written or read.
            self.end_connection(now, obs);
            return true;
        }
        // Bytes to the network.
        let c = self.conn.as_mut().expect("still here");
        if !c.pending.is_empty() {
            let n = net.write(now, c.link, End::Client, &c.pending);
            c.pending.drain(..n);
            progress |= n > 0;
        }
        let done = match &mut c.stage {
            Stage::Open { ws, .. } => {
                let out = ws.pending_transmit();
                if !out.is_empty() {
                    let n = net.write(now, c.link, End::Client, out);
                    ws.advance_transmit(n);
                    progress |= n > 0;
                }
                ws.is_done()
            }
            Stage::Handshake(_) => false,
            Stage::Failed => c.pending.is_empty(),
        };
        if done && !c.fin_sent {
            net.shutdown(now, c.link, End::Client);
            c.fin_sent = true;
            c.linger_until = Some(now + self.ws.close_timeout);
            progress = true;
        }
        if c.fin_sent && c.peer_fin {
            self.end_connection(now, obs);
            return true;
        }
        progress
    }

    fn on_stomp_event(
        &mut self,
        now: Instant,
        link: LinkId,
        event: ClientEvent,
        obs: &mut Vec<Obs>,
    ) {
        let client = self.index;
        match &event {
            ClientEvent::Connected { heart_beat, .. } => {
                if let Some(c) = &mut self.conn {
                    c.last_rx = now;
                    c.hb_timeout = heart_beat.expect_every.map(|every| {
                        heartbeat::receive_timeout(every, self.stomp.heart_beat_tolerance_percent)
                    });
                }
                obs.push(Obs::Connected { client, link });
                let mut cx = cx!(self, now, obs);
                self.logic.on_connected(&mut cx);
                return;
            }
            ClientEvent::Message(m) => obs.push(Obs::Message {
                client,
                link,
                sub: m.subscription.0.clone(),
                destination: m.destination().unwrap_or_default().to_owned(),
                body: m.body().clone(),
                redelivered: m.frame.get("redelivered") == Some("true"),
            }),
            ClientEvent::Receipt(r) => obs.push(Obs::Receipt {
                client,
                link,
                receipt: r.0.clone(),
            }),
            ClientEvent::HeartBeatTimeout => {
                if let Some(c) = &self.conn {
                    let silent = now - c.last_rx;
                    obs.push(Obs::Fault(format!(
                        "c{client} heart-beat timeout after {silent:?} of silence"
                    )));
                    // Never earlier than the negotiated tolerance.
                    if c.hb_timeout.map_or(true, |t| silent < t) {
                        self.violations.push(format!(
                            "c{client} declared the server dead after {silent:?} of silence; \
                             its heart-beat timeout is {:?}",
                            c.hb_timeout
                        ));
                    }
                }
            }
            ClientEvent::Closed => {
                if let Some(c) = &mut self.conn {
                    c.session_closed = true;
                }
                obs.push(Obs::SessionClosed { client, link });
            }
            _ => {}
        }
        let mut cx = cx!(self, now, obs);
        self.logic.on_event(&mut cx, &event);
    }

    /// The connection is over: tell the logic, maybe schedule a reconnect.
    fn end_connection(&mut self, now: Instant, obs: &mut Vec<Obs>) {
        let Some(c) = self.conn.take() else {
            return;
        };
        if !c.session_closed {
            obs.push(Obs::SessionClosed {
                client: self.index,
                link: c.link,
            });
        }
        let mut cx = cx!(self, now, obs);
        let after = self.logic.on_disconnected(&mut cx);
        self.reconnect_at = after.map(|d| now + d);
    }

    /// Whether this host has a connected STOMP session.
    pub(crate) fn is_connected(&self) -> bool {
        matches!(&self.conn, Some(ClientConn { stage: Stage::Open { stomp, .. }, .. }) if stomp.is_connected())
    }

    /// Run `f` with a context (for scheduled operations), then pump.
    pub(crate) fn with_cx<R>(
        &mut self,
        now: Instant,
        net: &mut Network,
        obs: &mut Vec<Obs>,
        f: impl FnOnce(&mut L, &mut ClientCx<'_>) -> R,
    ) -> R {
        let r = {
            let mut cx = cx!(self, now, obs);
            f(&mut self.logic, &mut cx)
        };
        self.pump(now, net, obs);
        r
    }
}
