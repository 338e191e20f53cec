//! The server side of a STOMP session, STOMP 1.2 §"Connecting", §"Protocol Negotiation",
//! §"Client Frames", §"Server Frames", §"Heart-beating", §"Size Limits".
//!
//! The session validates frames and reports them upward as typed [`ServerEvent`]s; the broker
//! acts and then calls [`ServerSession::send_receipt`], so a RECEIPT means "done", not "parsed".
//! Any violation queues an ERROR frame (with `receipt-id` when the offending frame asked for a
//! receipt) and closes the session for good (§"ERROR": the server MUST close after ERROR).

use super::decode::{Decoded, Decoder};
use super::error::{LocalError, ProtocolError};
use super::frame::{Command, Frame, Version};
use super::heartbeat::{self, HeartBeat, Negotiated};
use super::ids::{AckMode, ReceiptId, SubscriptionId, TransactionId};
use super::server_api::{Acknowledgement, Authenticator, ServerConfig, ServerEvent};
use super::timer::{Timer, TimerTable};
use crate::rng::RandomSource;
use crate::time::Instant;
use bytes::{Bytes, BytesMut};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    AwaitingConnect,
    Connected,
    Disconnecting(ReceiptId),
    Closed,
}

/// A STOMP server session: one client connection, without I/O and without a broker.
///
/// - Getters: [`version`](Self::version), [`is_connected`](Self::is_connected),
///   [`is_closed`](Self::is_closed), [`session_id`](Self::session_id).
/// - Inputs: [`handle_input`](Self::handle_input), [`handle_timeout`](Self::handle_timeout).
/// - Broker calls: [`send_receipt`](Self::send_receipt), [`send_message`](Self::send_message),
///   [`send_error`](Self::send_error).
/// - Outputs: [`poll_event`](Self::poll_event), [`poll_transmit`](Self::poll_transmit),
///   [`poll_timeout`](Self::poll_timeout).
///
/// After any input or call: drain `poll_event`, then `poll_transmit`, then re-arm the timer with
/// `poll_timeout`. Broker calls time heart-beats from the latest `now` given to an input.
pub struct ServerSession {
    config: ServerConfig,
    auth: Box<dyn Authenticator>,
    state: State,
    version: Version,
    session_id: String,
    decoder: Decoder,
    out: BytesMut,
    events: VecDeque<ServerEvent>,
    timers: TimerTable,
    heart_beat: Negotiated,
    last_now: Instant,
    subscriptions: HashMap<SubscriptionId, AckMode>,
    transactions: BTreeSet<TransactionId>,
}

impl fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSession")
            .field("state", &self.state)
            .field("version", &self.version)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl ServerSession {
    /// A session for a freshly accepted connection at `now`. The session id is drawn from `rng`.
    pub fn new(
        now: Instant,
        mut config: ServerConfig,
        auth: impl Authenticator + 'static,
        rng: &mut dyn RandomSource,
    ) -> Self {
        if config.versions.is_empty() {
            config.versions = Version::ALL.to_vec();
        }
        config.versions.sort();
        config.versions.dedup();
        let mut id = [0u8; 8];
        rng.fill_bytes(&mut id);
        let session_id = id.iter().map(|b| format!("{b:02x}")).collect();
        let top = *config.versions.last().unwrap_or(&Version::V1_2);
        let mut timers = TimerTable::default();
        timers.set(Timer::Connect, now + config.connect_timeout);
        ServerSession {
            decoder: Decoder::new(top, config.limits),
            config,
            auth: Box::new(auth),
            state: State::AwaitingConnect,
            version: top,
            session_id,
            out: BytesMut::new(),
            events: VecDeque::new(),
            timers,
            heart_beat: Negotiated::default(),
            last_now: now,
            subscriptions: HashMap::new(),
            transactions: BTreeSet::new(),
        }
    }

    /// The negotiated version (the highest we speak until CONNECT is handled).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The negotiated heart-beat intervals (none until CONNECT is accepted).
    pub fn negotiated_heart_beat(&self) -> Negotiated {
        self.heart_beat
    }

    /// Whether the client is connected and has not sent DISCONNECT.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether the session is over (sticky).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The `session` id sent in CONNECTED.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Bytes received from the client at `now`. Any octet counts as life (§"Heart-beating").
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.last_now = self.last_now.max(now);
        if self.state == State::Closed || data.is_empty() {
            return;
        }
        self.arm_receive(now);
        self.decoder.feed(data);
        while self.state != State::Closed {
            match self.decoder.decode() {
                Ok(None) => break,
                Ok(Some(Decoded::HeartBeat)) => {}
                Ok(Some(Decoded::Frame(frame))) => self.on_frame(now, frame),
                // §"Size Limits": limits exceeded → SHOULD send ERROR, then close.
                Err(e) => self.fail(ProtocolError::Decode(e), None),
            }
        }
    }

    /// Fire the timers due at `now`; a no-op before the earliest deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::HeartBeatSend => {
                    self.out.extend_from_slice(b"\n");
                    self.arm_send(now);
                }
                Timer::HeartBeatReceive => {
                    self.events.push_back(ServerEvent::HeartBeatTimeout);
                    self.close();
                }
                Timer::Connect => self.fail(ProtocolError::ConnectTimeout, None),
                Timer::DisconnectReceipt => {}
            }
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// All bytes queued for the client, as one buffer.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// Append all bytes queued for the client to `buf`; returns how many.
    pub fn poll_transmit_into(&mut self, buf: &mut BytesMut) -> usize {
        let n = self.out.len();
        buf.extend_from_slice(&self.out);
        self.out.clear();
        n
    }

    /// The earliest deadline at which [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_timeout()
    }

    /// RECEIPT for a frame the broker has acted on (§"RECEIPT"). For the DISCONNECT receipt the
    /// session then closes.
    pub fn send_receipt(&mut self, receipt: &ReceiptId) -> Result<(), LocalError> {
        match &self.state {
            State::Closed => return Err(LocalError::Closed),
            State::AwaitingConnect => return Err(LocalError::NotConnected),
            State::Connected | State::Disconnecting(_) => {}
        }
        self.queue(&Frame::new(Command::Receipt).header("receipt-id", receipt.as_str()))?;
        if self.state == State::Disconnecting(receipt.clone()) {
            self.close();
        }
        Ok(())
    }

    /// MESSAGE to an open subscription (§"MESSAGE"). `headers` are extra (e.g. the SEND's user
    /// headers, which MUST be passed through); `subscription`, `message-id`, `destination` and
    /// `ack` come first so they win over repeats. In 1.2 a `client`/`client-individual`
    /// subscription gets an `ack` header: `ack`, or `message_id` when `None`.
    pub fn send_message(
        &mut self,
        subscription: &SubscriptionId,
        destination: &str,
        message_id: &str,
        ack: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(), LocalError> {
        self.check_connected()?;
        let mode = *self
            .subscriptions
            .get(subscription)
            .ok_or_else(|| LocalError::UnknownSubscription(subscription.0.clone()))?;
        let mut frame = Frame::new(Command::Message)
            .header("subscription", subscription.as_str())
            .header("message-id", message_id)
            .header("destination", destination)
            .with_body(body);
        if self.version == Version::V1_2 && mode != AckMode::Auto {
            frame.headers.push("ack", ack.unwrap_or(message_id));
        }
        for (n, v) in headers {
            frame.headers.push(*n, *v);
        }
        self.queue(&frame)
    }

    /// ERROR, then close (§"ERROR"). `receipt` is the `receipt` of the frame the error is
    /// about, if it asked for one (SHOULD be echoed as `receipt-id`).
    pub fn send_error(
        &mut self,
        message: &str,
        body: impl Into<Bytes>,
        receipt: Option<&ReceiptId>,
    ) -> Result<(), LocalError> {
        if self.state == State::Closed {
            return Err(LocalError::Closed);
        }
        self.queue_error(message, body.into(), receipt, None);
        self.close();
        Ok(())
    }

    fn on_frame(&mut self, now: Instant, frame: Frame) {
        let receipt = frame.get("receipt").map(ReceiptId::from);
        match self.state {
            State::AwaitingConnect => match frame.command {
                Command::Connect | Command::Stomp => self.on_connect(now, &frame),
                // "Nothing before CONNECT."
                other => self.fail(ProtocolError::UnexpectedFrame(other), receipt),
            },
            State::Connected => match validate(&frame, self.version) {
                Ok(()) => match self.on_client_frame(frame, receipt.clone()) {
                    Ok(()) => {}
                    Err(e) => self.fail(e, receipt),
                },
                Err(e) => self.fail(e, receipt),
            },
            // §"DISCONNECT": the client MUST NOT send frames after DISCONNECT; we drop them.
            State::Disconnecting(_) | State::Closed => {}
        }
    }

    /// §"CONNECT or STOMP Frame", §"Protocol Negotiation", §"Heart-beating".
    fn on_connect(&mut self, now: Instant, frame: &Frame) {
        let offered: Vec<Version> = match frame.get("accept-version") {
            // "If the accept-version header is missing, ... the client only supports 1.0."
            None => vec![Version::V1_0],
            Some(v) => v
                .split(',')
                .filter_map(|s| Version::parse(s.trim()))
                .collect(),
        };
        let Some(version) = offered
            .iter()
            .copied()
            .filter(|v| self.config.versions.contains(v))
            .max()
        else {
            return self.fail(ProtocolError::NoCommonVersion, None);
        };
        let client_hb = match frame.get("heart-beat") {
            None => HeartBeat::NONE,
            Some(v) => match HeartBeat::parse(v) {
                Some(hb) => hb,
                None => return self.fail(ProtocolError::invalid("heart-beat", v), None),
            },
        };
        let principal =
            match self
                .auth
                .authenticate(frame.get("login"), frame.get("passcode"), frame)
            {
                Ok(p) => p,
                Err(msg) => return self.fail(ProtocolError::AuthenticationFailed(msg), None),
            };
        self.version = version;
        self.decoder.set_version(version);
        self.heart_beat = heartbeat::negotiate(self.config.heart_beat, client_hb);
        self.timers.stop(Timer::Connect);
        self.state = State::Connected;
        let mut connected = Frame::new(Command::Connected)
            .header("version", version.as_str())
            .header("session", self.session_id.clone());
        if self.config.heart_beat != HeartBeat::NONE {
            connected
                .headers
                .push("heart-beat", self.config.heart_beat.to_header());
        }
        if let Some(server) = &self.config.server {
            connected.headers.push("server", sanitize(server));
        }
        // Cannot fail: no body, and every value was sanitised or is ours.
        let _ = self.queue(&connected);
        self.arm_send(now);
        self.arm_receive(now);
        self.events.push_back(ServerEvent::Connected {
            principal,
            version,
            host: frame.get("host").map(str::to_owned),
            heart_beat: self.heart_beat,
            session: self.session_id.clone(),
        });
    }

    fn on_client_frame(
        &mut self,
        frame: Frame,
        receipt: Option<ReceiptId>,
    ) -> Result<(), ProtocolError> {
        let tx = frame.get("transaction").map(TransactionId::from);
        let needs_open_tx = matches!(
            frame.command,
            Command::Send | Command::Ack | Command::Nack | Command::Commit | Command::Abort
        );
        if let Some(t) = tx.as_ref().filter(|_| needs_open_tx) {
            if !self.transactions.contains(t) {
                return Err(ProtocolError::Transaction(t.0.clone()));
            }
        }
        let event = match frame.command {
            Command::Send => ServerEvent::Send {
                destination: req(&frame, "destination")?.to_owned(),
                transaction: tx,
                receipt,
                frame,
            },
            Command::Subscribe => {
                let destination = req(&frame, "destination")?.to_owned();
                let id = SubscriptionId(match (frame.get("id"), self.version) {
                    (Some(id), _) => id.to_owned(),
                    (None, Version::V1_0) => destination.clone(),
                    (None, _) => req(&frame, "id")?.to_owned(),
                });
                let ack = match frame.get("ack") {
                    None => AckMode::Auto,
                    Some(a) => AckMode::parse(a).ok_or_else(|| ProtocolError::invalid("ack", a))?,
                };
                // §"SUBSCRIBE id Header": different subscriptions MUST use different ids.
                if self.subscriptions.contains_key(&id) {
                    return Err(ProtocolError::Subscription(id.0));
                }
                self.subscriptions.insert(id.clone(), ack);
                ServerEvent::Subscribe {
                    id,
                    destination,
                    ack,
                    receipt,
                    frame,
                }
            }
            Command::Unsubscribe => {
                let id = match (frame.get("id"), self.version) {
                    (None, Version::V1_0) => req(&frame, "destination")?,
                    _ => req(&frame, "id")?,
                };
                let id = SubscriptionId::from(id);
                // §"UNSUBSCRIBE": the id MUST match an existing subscription.
                if self.subscriptions.remove(&id).is_none() {
                    return Err(ProtocolError::Subscription(id.0));
                }
                ServerEvent::Unsubscribe { id, receipt }
            }
            Command::Ack | Command::Nack => {
                let id = match self.version {
                    Version::V1_2 => req(&frame, "id")?,
                    _ => req(&frame, "message-id")?,
                }
                .to_owned();
                let subscription = frame.get("subscription").map(SubscriptionId::from);
                if let Some(s) = &subscription {
                    if !self.subscriptions.contains_key(s) {
                        return Err(ProtocolError::Subscription(s.0.clone()));
                    }
                }
                let ack = Acknowledgement {
                    id,
                    subscription,
                    transaction: tx,
                    receipt,
                };
                if frame.command == Command::Ack {
                    ServerEvent::Ack(ack)
                } else {
                    ServerEvent::Nack(ack)
                }
            }
            Command::Begin => {
                let transaction = TransactionId::from(req(&frame, "transaction")?);
                // §"BEGIN": transaction identifiers MUST be unique per connection.
                if !self.transactions.insert(transaction.clone()) {
                    return Err(ProtocolError::Transaction(transaction.0));
                }
                ServerEvent::Begin {
                    transaction,
                    receipt,
                }
            }
            Command::Commit | Command::Abort => {
                let transaction = TransactionId::from(req(&frame, "transaction")?);
                self.transactions.remove(&transaction);
                if frame.command == Command::Commit {
                    ServerEvent::Commit {
                        transaction,
                        receipt,
                    }
                } else {
                    ServerEvent::Abort {
                        transaction,
                        receipt,
                    }
                }
            }
            Command::Disconnect => {
                self.report_aborted_transactions();
                self.events.push_back(ServerEvent::Disconnect {
                    receipt: receipt.clone(),
                });
                match receipt {
                    Some(r) => self.state = State::Disconnecting(r),
                    None => self.close(),
                }
                return Ok(());
            }
            other => return Err(ProtocolError::UnexpectedFrame(other)),
        };
        self.events.push_back(event);
        Ok(())
    }

    fn check_connected(&self) -> Result<(), LocalError> {
        match self.state {
            State::Connected => Ok(()),
            State::AwaitingConnect => Err(LocalError::NotConnected),
            State::Disconnecting(_) => Err(LocalError::Disconnecting),
            State::Closed => Err(LocalError::Closed),
        }
    }

    fn queue(&mut self, frame: &Frame) -> Result<(), LocalError> {
        frame.encode(self.version, &mut self.out)?;
        self.arm_send(self.last_now);
        Ok(())
    }

    fn queue_error(
        &mut self,
        message: &str,
        body: Bytes,
        receipt: Option<&ReceiptId>,
        extra: Option<(&str, String)>,
    ) {
        let mut frame = Frame::new(Command::Error).header("message", sanitize(message));
        if let Some(r) = receipt {
            frame.headers.push("receipt-id", sanitize(r.as_str()));
        }
        if let Some((n, v)) = extra {
            frame.headers.push(n, v);
        }
        if !body.is_empty() {
            frame.headers.push("content-type", "text/plain");
        }
        frame.body = body;
        if frame.encode(self.version, &mut self.out).is_err() {
            tracing::warn!("could not encode ERROR frame");
        }
    }

    /// Queue ERROR for a protocol violation, report it, close (§"ERROR", §"Size Limits").
    fn fail(&mut self, error: ProtocolError, receipt: Option<ReceiptId>) {
        tracing::debug!(%error, "STOMP client broke the protocol");
        let (extra, body) = if error == ProtocolError::NoCommonVersion {
            // §"Protocol Negotiation": ERROR with a `version` header listing what we support.
            let list: Vec<&str> = self.config.versions.iter().map(|v| v.as_str()).collect();
            let body = format!("Supported protocol versions are {}", list.join(" "));
            (Some(("version", list.join(","))), Bytes::from(body))
        } else {
            (None, Bytes::new())
        };
        self.queue_error(&error.to_string(), body, receipt.as_ref(), extra);
        self.events.push_back(ServerEvent::ProtocolError(error));
        self.close();
    }

    fn report_aborted_transactions(&mut self) {
        if !self.transactions.is_empty() {
            let ids = std::mem::take(&mut self.transactions).into_iter().collect();
            self.events.push_back(ServerEvent::TransactionsAborted(ids));
        }
    }

    fn close(&mut self) {
        if self.state != State::Closed {
            self.report_aborted_transactions();
            self.state = State::Closed;
            self.timers.stop_all();
            self.events.push_back(ServerEvent::Closed);
        }
    }

    fn arm_send(&mut self, now: Instant) {
        if let (Some(every), State::Connected) = (self.heart_beat.send_every, &self.state) {
            self.timers.set(Timer::HeartBeatSend, now + every);
        }
    }

    fn arm_receive(&mut self, now: Instant) {
        if let Some(every) = self.heart_beat.expect_every {
            let timeout =
                heartbeat::receive_timeout(every, self.config.heart_beat_tolerance_percent);
            self.timers.set(Timer::HeartBeatReceive, now + timeout);
        }
    }
}

/// NACK exists from 1.1 on; frames the server never accepts from a client.
fn validate(frame: &Frame, version: Version) -> Result<(), ProtocolError> {
    match frame.command {
        Command::Nack if version == Version::V1_0 => {
            Err(ProtocolError::UnexpectedFrame(Command::Nack))
        }
        Command::Connect
        | Command::Stomp
        | Command::Connected
        | Command::Message
        | Command::Receipt
        | Command::Error => Err(ProtocolError::UnexpectedFrame(frame.command)),
        _ => Ok(()),
    }
}

/// A required header (§"Client Frames": REQUIRED headers per frame).
fn req<'f>(frame: &'f Frame, header: &'static str) -> Result<&'f str, ProtocolError> {
    frame.get(header).ok_or(ProtocolError::MissingHeader {
        command: frame.command,
        header,
    })
}

/// Header values we write must not hold CR or LF in versions without escaping.
fn sanitize(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}
