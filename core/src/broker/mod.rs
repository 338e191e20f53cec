//! A sans-IO STOMP broker: sessions in, deliveries out.
//!
//! The [`Broker`] owns one [`ServerSession`] per transport connection and routes what they
//! receive, in the spirit of Spring's simple broker:
//! - `/topic/**` fans out to every matching subscription (wildcards: see [`pattern`](self#wildcards));
//! - `/queue/**` gives each message to exactly one subscription, round-robin, with
//!   `client`/`client-individual` acknowledgement, NACK redelivery and a redelivery limit;
//! - `/user/**` reaches only the sessions of one principal;
//! - `/app/**` SENDs go to registered handlers (or out as [`Output::AppMessage`]).
//!
//! It does no I/O and reads no clock, so the same broker runs under tokio, smol, mio and the
//! deterministic simulator. The full rule book, with defaults and the tests that keep each
//! rule, is `spec-notes/broker.md`.
//!
//! # Wildcards
//! Subscriptions to topic and user destinations may be patterns. Destinations are split into
//! segments at [`BrokerConfig::path_separator`] (default `/`); `**` as a whole segment matches
//! any number of segments, `*` matches any run of characters within one segment (`/topic/*`,
//! `/topic/chat.*`), `?` one character. Queue subscriptions must be literal. Handler patterns
//! may also hold `{name}` segments, captured as path variables.

mod app;
mod authn;
mod authz;
mod config;
mod delivery;
mod outbound;
mod pattern;
mod queue;
mod routing;
mod stats;

pub use app::{AppMessage, HandlerContext};
pub use authn::{AnyLogin, Users, ANONYMOUS_PREFIX};
pub use authz::{Authorizer, DefaultAuthorizer, PermitAll};
pub use config::{
    BrokerConfig, DestinationClass, OutboundLimits, SlowConsumerPolicies, SlowConsumerPolicy,
};
pub use stats::{prometheus_row, BrokerStats};

use crate::rng::RandomSource;
use crate::stomp::{
    AckMode, Acknowledgement, Authenticator, Frame, ServerSession, SubscriptionId, TransactionId,
};
use crate::time::Instant;
use app::Handler;
use authz::SharedAuthenticator;
use bytes::Bytes;
use outbound::Outbound;
use pattern::Pattern;
use queue::{Queue, QueuedMessage};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

/// A transport connection, named by the driver (any value unique among open connections).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// What the driver must do next, from [`Broker::poll_output`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Bytes are waiting for this connection: call [`Broker::take_transmit`] when the transport
    /// can take them. Reported once until they are taken.
    Transmit(ConnId),
    /// The session is over: take the remaining bytes, write them, close the transport, then
    /// call [`Broker::handle_closed`].
    Close(ConnId),
    /// A SEND to an application destination that no registered handler matched. Handle it
    /// asynchronously and answer with [`Broker::publish`] / [`Broker::send_to_user`]; if
    /// nobody handles it, it is simply gone (the broker does not know your application).
    AppMessage(AppMessage),
}

/// Misuse of the broker API by its driver.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    /// [`Broker::open`] with an id that is already open.
    #[error("connection {0} is already open")]
    DuplicateConnection(ConnId),
    /// A handler pattern outside every app prefix.
    #[error("handler pattern {0:?} is not under an application prefix")]
    NotAnAppDestination(String),
    /// [`Broker::publish`] to a destination that is not a topic, queue or user destination.
    #[error("no route to destination {0:?}")]
    Unroutable(String),
}

/// A subscription as the broker indexes it: its connection and its id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SubKey {
    pub(crate) conn: ConnId,
    pub(crate) id: SubscriptionId,
}

/// Where a subscription listens.
#[derive(Clone, Debug)]
pub(crate) enum Route {
    Topic(Pattern),
    Queue(String),
    /// Indexed in `Broker::users` by principal, with a pattern over the user-relative
    /// destination (`/queue/x` for `/user/queue/x`).
    User,
}

#[derive(Debug)]
pub(crate) struct Subscription {
    pub(crate) route: Route,
    pub(crate) ack: AckMode,
    pub(crate) unacked: usize,
}

/// A queue message delivered to a `client`/`client-individual` subscription, not yet acked.
#[derive(Debug)]
pub(crate) struct InFlight {
    pub(crate) sub: SubscriptionId,
    pub(crate) message: QueuedMessage,
}

/// A frame buffered in a transaction until COMMIT.
#[derive(Debug)]
pub(crate) enum TxOp {
    Send { destination: String, frame: Frame },
    Ack(Acknowledgement),
    Nack(Acknowledgement),
}

pub(crate) struct Conn {
    pub(crate) session: ServerSession,
    pub(crate) principal: Option<String>,
    pub(crate) outbound: Outbound,
    pub(crate) transmit_signalled: bool,
    /// The session's deadline as indexed in `Broker::deadlines`.
    pub(crate) deadline: Option<Instant>,
    /// No longer routed to or from (session closed, refused, slow, or transport gone).
    pub(crate) detached: bool,
    pub(crate) subs: BTreeMap<SubscriptionId, Subscription>,
    /// By delivery sequence number, so `client` ACKs can cover every earlier message.
    pub(crate) in_flight: BTreeMap<u64, InFlight>,
    pub(crate) in_flight_ids: HashMap<String, u64>,
    pub(crate) transactions: HashMap<TransactionId, Vec<TxOp>>,
}

/// Where a destination routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Topic,
    Queue,
    App,
    User,
    Unknown,
}

/// A sans-IO STOMP broker owning every server session.
///
/// - Getters: [`stats`](Self::stats), [`is_open`](Self::is_open),
///   [`outbound_len`](Self::outbound_len).
/// - Inputs: [`open`](Self::open), [`handle_input`](Self::handle_input),
///   [`handle_closed`](Self::handle_closed), [`handle_timeout`](Self::handle_timeout).
/// - Application calls: [`register_handler`](Self::register_handler),
///   [`publish`](Self::publish), [`send_to_user`](Self::send_to_user).
/// - Outputs: [`poll_output`](Self::poll_output) (then [`take_transmit`](Self::take_transmit)
///   for each [`Output::Transmit`]), [`poll_timeout`](Self::poll_timeout).
///
/// After any input or call: drain `poll_output` (taking transmits as the transports allow),
/// then re-arm the timer with `poll_timeout`. Bytes not yet taken count against
/// [`BrokerConfig::outbound`]: a driver should call `take_transmit` only when it can write, so
/// the broker sees the backlog of a slow peer.
pub struct Broker {
    pub(crate) config: BrokerConfig,
    authenticator: SharedAuthenticator,
    pub(crate) authorizer: Box<dyn Authorizer>,
    rng: Box<dyn RandomSource>,
    pub(crate) id_prefix: String,
    pub(crate) next_seq: u64,
    pub(crate) last_now: Instant,
    pub(crate) conns: BTreeMap<ConnId, Conn>,
    pub(crate) topics_exact: HashMap<String, BTreeSet<SubKey>>,
    pub(crate) topics_wild: BTreeMap<SubKey, Pattern>,
    pub(crate) users: HashMap<String, BTreeMap<SubKey, Pattern>>,
    pub(crate) queues: HashMap<String, Queue>,
    /// Queues that may be able to deliver: new message, new consumer, freed prefetch.
    pub(crate) dirty: BTreeSet<String>,
    pub(crate) handlers: Vec<(Pattern, Handler)>,
    pub(crate) outputs: VecDeque<Output>,
    pub(crate) stats: BrokerStats,
    /// Every session deadline, earliest first: `poll_timeout` is O(1) and `handle_timeout`
    /// visits only the sessions that are due.
    pub(crate) deadlines: BTreeSet<(Instant, ConnId)>,
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("connections", &self.conns.len())
            .field("queues", &self.queues.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A broker with no connections. `authenticator` checks every CONNECT; `authorizer` every
    /// SUBSCRIBE and SEND (use [`DefaultAuthorizer`] unless you know better); `rng` draws
    /// session ids and the message-id prefix.
    pub fn new(
        now: Instant,
        config: BrokerConfig,
        authenticator: Box<dyn Authenticator>,
        authorizer: Box<dyn Authorizer>,
        mut rng: Box<dyn RandomSource>,
    ) -> Self {
        let mut prefix = [0u8; 4];
        rng.fill_bytes(&mut prefix);
        Broker {
            config,
            authenticator: SharedAuthenticator(Arc::new(Mutex::new(authenticator))),
            authorizer,
            rng,
            id_prefix: prefix.iter().map(|b| format!("{b:02x}")).collect(),
            next_seq: 0,
            last_now: now,
            conns: BTreeMap::new(),
            topics_exact: HashMap::new(),
            topics_wild: BTreeMap::new(),
            users: HashMap::new(),
            queues: HashMap::new(),
            dirty: BTreeSet::new(),
            handlers: Vec::new(),
            outputs: VecDeque::new(),
            stats: BrokerStats::default(),
            deadlines: BTreeSet::new(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &BrokerStats {
        &self.stats
    }

    /// Whether `conn` is open (opened and not yet [`handle_closed`](Self::handle_closed)).
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.conns.contains_key(&conn)
    }

    /// The heart-beats negotiated on `conn`'s session (none until its CONNECT is accepted), or
    /// `None` if `conn` is not open.
    pub fn negotiated_heart_beat(&self, conn: ConnId) -> Option<crate::stomp::Negotiated> {
        self.conns
            .get(&conn)
            .map(|c| c.session.negotiated_heart_beat())
    }

    /// Bytes queued for `conn` that the transport has not taken.
    pub fn outbound_len(&self, conn: ConnId) -> usize {
        self.conns.get(&conn).map_or(0, |c| c.outbound.len())
    }

    /// A transport connected (after the WebSocket handshake, if any): start its STOMP session.
    /// It must CONNECT within [`ServerConfig::connect_timeout`](crate::stomp::ServerConfig::connect_timeout).
    pub fn open(&mut self, now: Instant, conn: ConnId) -> Result<(), BrokerError> {
        if self.conns.contains_key(&conn) {
            return Err(BrokerError::DuplicateConnection(conn));
        }
        self.last_now = self.last_now.max(now);
        let session = ServerSession::new(
            now,
            self.config.session.clone(),
            self.authenticator.clone(),
            self.rng.as_mut(),
        );
        self.conns.insert(
            conn,
            Conn {
                session,
                principal: None,
                outbound: Outbound::default(),
                transmit_signalled: false,
                deadline: None,
                detached: false,
                subs: BTreeMap::new(),
                in_flight: BTreeMap::new(),
                in_flight_ids: HashMap::new(),
                transactions: HashMap::new(),
            },
        );
        self.stats.connections += 1;
        self.stats.connections_total += 1;
        self.reindex_deadline(conn);
        Ok(())
    }

    /// Bytes received on `conn`. Unknown or closed connections are ignored (a late read).
    pub fn handle_input(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        self.last_now = self.last_now.max(now);
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.session.handle_input(now, data);
        self.drain_session(now, conn);
    }

    /// The transport of `conn` is gone: its subscriptions end, its open transactions are
    /// discarded and its unacked queue messages are redelivered to other consumers.
    pub fn handle_closed(&mut self, now: Instant, conn: ConnId) {
        self.last_now = self.last_now.max(now);
        if self.conns.contains_key(&conn) {
            self.detach(conn, false);
            if let Some(c) = self.conns.remove(&conn) {
                if let Some(at) = c.deadline {
                    self.deadlines.remove(&(at, conn));
                }
                self.stats.outbound_bytes -= c.outbound.len() as u64;
            }
            self.stats.connections -= 1;
            self.run_dispatch(now);
        }
    }

    /// Fire the session timers due at `now` (connect timeout, heart-beats); a no-op early.
    /// Visits only the sessions whose deadline is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        let mut due = Vec::new();
        while let Some(&(at, id)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(c) = self.conns.get_mut(&id) {
                c.deadline = None;
            }
            due.push(id);
        }
        for id in due {
            if let Some(c) = self.conns.get_mut(&id) {
                c.session.handle_timeout(now);
                self.drain_session(now, id);
            }
        }
    }

    /// End the session of `conn` without an ERROR frame: the server is shutting down, or the
    /// application is done with it. Bytes already queued (a RECEIPT for a DISCONNECT that was
    /// just handled, say) stay queued; its subscriptions end and its unacked queue messages go
    /// back to their queues; then [`Output::Close`] follows as for any other end. The
    /// transport should say why (WebSocket: close code 1001 "going away" on shutdown).
    pub fn close(&mut self, now: Instant, conn: ConnId) {
        self.last_now = self.last_now.max(now);
        self.flush(now, conn);
        self.detach(conn, true);
        self.run_dispatch(now);
    }

    /// [`close`](Self::close) every open session (graceful shutdown).
    pub fn shutdown(&mut self, now: Instant) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            self.close(now, id);
        }
    }

    /// The next thing for the driver to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Every byte queued for `conn`, as one buffer. Queue messages held back from it as a slow
    /// consumer may be delivered right away (another [`Output::Transmit`] follows).
    pub fn take_transmit(&mut self, conn: ConnId) -> Option<Bytes> {
        let c = self.conns.get_mut(&conn)?;
        c.transmit_signalled = false;
        self.stats.outbound_bytes -= c.outbound.len() as u64;
        let bytes = c.outbound.take();
        let queues: Vec<String> = c
            .subs
            .values()
            .filter_map(|s| match &s.route {
                Route::Queue(q) => Some(q.clone()),
                _ => None,
            })
            .collect();
        if !queues.is_empty() && !c.detached {
            self.dirty.extend(queues);
            self.run_dispatch(self.last_now);
        }
        bytes
    }

    /// The earliest deadline at which [`handle_timeout`](Self::handle_timeout) has work.
    /// O(1): read from an index kept up to date as sessions change.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Re-read `id`'s session deadline into the index (after anything that may move it).
    pub(crate) fn reindex_deadline(&mut self, id: ConnId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let next = c.session.poll_timeout();
        if next == c.deadline {
            return;
        }
        if let Some(old) = c.deadline {
            self.deadlines.remove(&(old, id));
        }
        if let Some(at) = next {
            self.deadlines.insert((at, id));
        }
        c.deadline = next;
    }

    /// Run `handler` for SENDs to destinations matching `pattern` (e.g. `/app/chat/{room}`);
    /// the first registered match wins. Handlers run inside the broker, synchronously; their
    /// replies are routed before the SEND's RECEIPT.
    pub fn register_handler(
        &mut self,
        pattern: &str,
        handler: impl FnMut(&mut HandlerContext, &AppMessage) + Send + 'static,
    ) -> Result<(), BrokerError> {
        if self.classify(pattern) != Kind::App {
            return Err(BrokerError::NotAnAppDestination(pattern.to_owned()));
        }
        let pattern = Pattern::parse(pattern, self.config.path_separator, true);
        self.handlers.push((pattern, Box::new(handler)));
        Ok(())
    }

    /// Publish a message from the application to a topic, a queue, or
    /// `/user/{name}/…`. `headers` are added to the MESSAGE.
    pub fn publish(
        &mut self,
        now: Instant,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(), BrokerError> {
        self.last_now = self.last_now.max(now);
        let headers = owned_headers(headers);
        let routed = self.route(now, destination, headers, body.into());
        self.run_dispatch(now);
        if routed {
            Ok(())
        } else {
            Err(BrokerError::Unroutable(destination.to_owned()))
        }
    }

    /// Send to every session of `user` subscribed to `/user{destination}` (e.g. `user`
    /// `"alice"`, `destination` `"/queue/ticks"` reaches Alice's `/user/queue/ticks`).
    pub fn send_to_user(
        &mut self,
        now: Instant,
        user: &str,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.last_now = self.last_now.max(now);
        let headers = owned_headers(headers);
        self.stats.messages_in += 1;
        self.publish_user(now, user, None, destination, &headers, &body.into());
        self.run_dispatch(now);
    }

    /// Send to the subscriptions of one connection to `/user{destination}` (the session-only
    /// form of [`send_to_user`](Self::send_to_user), for replies to the sender of an
    /// [`AppMessage`]). A connection that is gone or not subscribed gets nothing.
    pub fn send_to_session(
        &mut self,
        now: Instant,
        conn: ConnId,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.last_now = self.last_now.max(now);
        let headers = owned_headers(headers);
        self.stats.messages_in += 1;
        self.publish_session(now, conn, destination, &headers, &body.into());
        self.run_dispatch(now);
    }

    /// Which kind of destination `destination` is.
    pub(crate) fn classify(&self, destination: &str) -> Kind {
        let sep = self.config.path_separator;
        let any = |prefixes: &[String]| {
            prefixes
                .iter()
                .any(|p| config::has_prefix(destination, p, sep))
        };
        if any(&self.config.topic_prefixes) {
            Kind::Topic
        } else if any(&self.config.queue_prefixes) {
            Kind::Queue
        } else if any(&self.config.app_prefixes) {
            Kind::App
        } else if config::has_prefix(destination, &self.config.user_prefix, sep) {
            Kind::User
        } else {
            Kind::Unknown
        }
    }

    /// `/user/{name}/rest` → (`name`, `/rest`).
    pub(crate) fn split_user_destination<'d>(
        &self,
        destination: &'d str,
    ) -> Option<(&'d str, &'d str)> {
        let rest = destination.strip_prefix(self.config.user_prefix.as_str())?;
        let rest = rest.strip_prefix('/')?;
        let slash = rest.find('/')?;
        Some((&rest[..slash], &rest[slash..]))
    }
}

/// Borrowed header pairs from the public API, owned for routing.
fn owned_headers(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stomp::AllowAll;
    use crate::SeededRng;
    use std::time::Duration;

    fn scan(b: &Broker) -> Option<Instant> {
        b.conns
            .values()
            .filter_map(|c| c.session.poll_timeout())
            .min()
    }

    /// The deadline index always agrees with a scan of every session, through connects,
    /// heart-beats, timeouts, deliveries and closes.
    #[test]
    fn deadline_index_matches_a_full_scan() {
        let mut config = BrokerConfig::default();
        config.session.heart_beat = crate::stomp::HeartBeat {
            can_send: Duration::from_millis(300),
            want_receive: Duration::from_millis(500),
        };
        config.session.connect_timeout = Duration::from_secs(2);
        let mut now = Instant::ZERO;
        let mut b = Broker::new(
            now,
            config,
            Box::new(AllowAll),
            Box::new(PermitAll),
            Box::new(SeededRng::new(1)),
        );
        assert_eq!(b.poll_timeout(), None);
        for i in 0..40u64 {
            now = now + Duration::from_millis(37);
            b.open(now, ConnId(i)).unwrap();
            if i % 3 != 0 {
                let hb = if i % 2 == 0 { "100,100" } else { "0,0" };
                let frame = format!(
                    "CONNECT\naccept-version:1.2\nhost:h\nheart-beat:{hb}\n\n\0\
                     SUBSCRIBE\nid:0\ndestination:/topic/t\n\n\0"
                );
                b.handle_input(now, ConnId(i), frame.as_bytes());
            }
            assert_eq!(b.poll_timeout(), scan(&b));
        }
        for step in 0..200u64 {
            now = now + Duration::from_millis(29);
            match step % 5 {
                0 => b.publish(now, "/topic/t", &[], "x").unwrap(),
                1 => b.handle_input(now, ConnId(step % 40), b"\n"),
                2 => b.handle_closed(now, ConnId(step % 40)),
                _ => {}
            }
            b.handle_timeout(now);
            while let Some(o) = b.poll_output() {
                if let Output::Transmit(c) = o {
                    b.take_transmit(c);
                }
            }
            assert_eq!(b.poll_timeout(), scan(&b), "step {step}");
            assert!(b.poll_timeout().map_or(true, |t| t > now));
        }
        assert_eq!(b.stats().outbound_bytes, 0);
        assert!(b.stats().outbound_peak > 0);
    }

    /// Shutdown ends every session without ERROR; a RECEIPT already owed is still there to take.
    #[test]
    fn shutdown_closes_every_session_without_error_and_keeps_receipts() {
        let now = Instant::ZERO;
        let mut b = Broker::new(
            now,
            BrokerConfig::default(),
            Box::new(AllowAll),
            Box::new(PermitAll),
            Box::new(SeededRng::new(1)),
        );
        for i in 0..3 {
            b.open(now, ConnId(i)).unwrap();
            b.handle_input(now, ConnId(i), b"CONNECT\naccept-version:1.2\nhost:h\n\n\0");
        }
        while b.poll_output().is_some() {}
        for i in 0..3 {
            b.take_transmit(ConnId(i));
        }
        b.handle_input(now, ConnId(1), b"DISCONNECT\nreceipt:bye\n\n\0");
        b.shutdown(now);
        let mut closed = Vec::new();
        while let Some(o) = b.poll_output() {
            if let Output::Close(c) = o {
                closed.push(c);
            }
        }
        closed.sort();
        assert_eq!(closed, [ConnId(0), ConnId(1), ConnId(2)]);
        let receipt = b.take_transmit(ConnId(1)).unwrap();
        assert_eq!(&receipt[..], b"RECEIPT\nreceipt-id:bye\n\n\0");
        assert_eq!(b.take_transmit(ConnId(0)), None, "no ERROR on shutdown");
        assert_eq!(b.take_transmit(ConnId(2)), None, "no ERROR on shutdown");
    }
}
