//! The client side of a STOMP session, STOMP 1.2 §"Connecting", §"Client Frames",
//! §"Heart-beating", §"DISCONNECT".

use super::decode::{Decoded, Decoder};
use super::error::{LocalError, ProtocolError};
use super::frame::{Command, Frame, Version};
use super::heartbeat::{self, HeartBeat, Negotiated};
use super::ids::{AckMode, ReceiptId, SubscriptionId, TransactionId};
use super::timer::{Timer, TimerTable};
use super::Limits;
use crate::time::Instant;
use bytes::{Bytes, BytesMut};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

/// How a [`ClientSession`] connects.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The `host` header (virtual host). STOMP 1.2 clients MUST set it.
    pub host: String,
    /// The `login` header, if any.
    pub login: Option<String>,
    /// The `passcode` header, if any.
    pub passcode: Option<String>,
    /// Our heart-beat offer. Default `0,0`.
    pub heart_beat: HeartBeat,
    /// Versions we accept; empty means all of 1.0, 1.1, 1.2.
    pub accept_versions: Vec<Version>,
    /// Extra CONNECT headers.
    pub headers: Vec<(String, String)>,
    /// Decoder limits. Default [`Limits::default`].
    pub limits: Limits,
    /// Give up when CONNECTED has not arrived after this long. Default 30 s.
    pub connect_timeout: Duration,
    /// Give up waiting for the RECEIPT of DISCONNECT after this long. Default 5 s.
    pub disconnect_timeout: Duration,
    /// Receive-side heart-beat tolerance in percent of the negotiated interval. Default 200.
    pub heart_beat_tolerance_percent: u32,
    /// Send `STOMP` instead of `CONNECT`. Default false: STOMP 1.2 §"CONNECT or STOMP Frame" says
    /// clients SHOULD keep using CONNECT for 1.0 servers.
    pub use_stomp_command: bool,
}

impl ClientConfig {
    /// Defaults for virtual host `host`.
    pub fn new(host: impl Into<String>) -> Self {
        ClientConfig {
            host: host.into(),
            login: None,
            passcode: None,
            heart_beat: HeartBeat::NONE,
            accept_versions: Vec::new(),
            headers: Vec::new(),
            limits: Limits::default(),
            connect_timeout: Duration::from_secs(30),
            disconnect_timeout: Duration::from_secs(5),
            heart_beat_tolerance_percent: heartbeat::DEFAULT_TOLERANCE_PERCENT,
            use_stomp_command: false,
        }
    }
}

/// A MESSAGE delivered to one of our subscriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The subscription it was delivered to.
    pub subscription: SubscriptionId,
    /// The whole MESSAGE frame.
    pub frame: Frame,
}

impl Message {
    /// The `destination` header.
    pub fn destination(&self) -> Option<&str> {
        self.frame.get("destination")
    }
    /// The `message-id` header.
    pub fn message_id(&self) -> Option<&str> {
        self.frame.get("message-id")
    }
    /// The `ack` header (1.2, present when the subscription needs ACKs).
    pub fn ack_id(&self) -> Option<&str> {
        self.frame.get("ack")
    }
    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.frame.body
    }
}

/// What happened, from [`ClientSession::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// CONNECTED arrived.
    Connected {
        /// The negotiated version.
        version: Version,
        /// The `server` header.
        server: Option<String>,
        /// The `session` header.
        session: Option<String>,
        /// The negotiated heart-beat intervals.
        heart_beat: Negotiated,
    },
    /// A MESSAGE for an open subscription.
    Message(Message),
    /// A RECEIPT for a frame we asked one for.
    Receipt(ReceiptId),
    /// The server sent ERROR; [`ClientEvent::Closed`] follows.
    Error(Frame),
    /// The server broke the protocol; [`ClientEvent::Closed`] follows.
    ProtocolError(ProtocolError),
    /// Nothing arrived within the tolerated heart-beat interval; [`ClientEvent::Closed`] follows.
    HeartBeatTimeout,
    /// The session is over: flush `poll_transmit`, then close the transport.
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Connecting,
    Connected,
    Disconnecting(ReceiptId),
    Closed,
}

/// A STOMP client session: CONNECT, subscriptions, sends, acks, transactions, receipts,
/// heart-beats and graceful disconnect, with no I/O.
///
/// - Getters: [`version`](Self::version), [`is_connected`](Self::is_connected),
///   [`is_closed`](Self::is_closed).
/// - Inputs: [`handle_input`](Self::handle_input), [`handle_timeout`](Self::handle_timeout).
/// - Application calls: [`subscribe`](Self::subscribe), [`unsubscribe`](Self::unsubscribe),
///   [`send`](Self::send), [`ack`](Self::ack), [`nack`](Self::nack), [`begin`](Self::begin),
///   [`commit`](Self::commit), [`abort`](Self::abort), [`disconnect`](Self::disconnect).
/// - Outputs: [`poll_event`](Self::poll_event), [`poll_transmit`](Self::poll_transmit),
///   [`poll_timeout`](Self::poll_timeout).
///
/// After any input or call: drain `poll_event`, then `poll_transmit`, then re-arm the timer with
/// `poll_timeout`. Application calls do not take `now`: they time heart-beats from the latest
/// `now` given to an input, so beats can only go out early, never late.
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    state: State,
    version: Version,
    decoder: Decoder,
    out: BytesMut,
    events: VecDeque<ClientEvent>,
    timers: TimerTable,
    heart_beat: Negotiated,
    last_now: Instant,
    next_id: u64,
    subscriptions: HashMap<SubscriptionId, AckMode>,
    transactions: HashSet<TransactionId>,
}

impl ClientSession {
    /// Start a session at `now`: CONNECT (or STOMP) is queued for transmission.
    /// Fails if the CONNECT headers cannot be encoded (CR or LF in a value).
    pub fn new(now: Instant, mut config: ClientConfig) -> Result<Self, LocalError> {
        if config.accept_versions.is_empty() {
            config.accept_versions = Version::ALL.to_vec();
        }
        config.accept_versions.sort();
        config.accept_versions.dedup();
        let command = if config.use_stomp_command {
            Command::Stomp
        } else {
            Command::Connect
        };
        let versions: Vec<&str> = config.accept_versions.iter().map(|v| v.as_str()).collect();
        let mut frame = Frame::new(command)
            .header("accept-version", versions.join(","))
            .header("host", config.host.clone());
        if let Some(login) = &config.login {
            frame.headers.push("login", login.clone());
        }
        if let Some(passcode) = &config.passcode {
            frame.headers.push("passcode", passcode.clone());
        }
        if config.heart_beat != HeartBeat::NONE {
            frame
                .headers
                .push("heart-beat", config.heart_beat.to_header());
        }
        for (n, v) in &config.headers {
            frame.headers.push(n.clone(), v.clone());
        }
        let mut out = BytesMut::new();
        frame.encode(Version::V1_2, &mut out)?;
        let mut timers = TimerTable::default();
        timers.set(Timer::Connect, now + config.connect_timeout);
        let top = *config.accept_versions.last().unwrap_or(&Version::V1_2);
        Ok(ClientSession {
            decoder: Decoder::new(top, config.limits),
            config,
            state: State::Connecting,
            version: top,
            out,
            events: VecDeque::new(),
            timers,
            heart_beat: Negotiated::default(),
            last_now: now,
            next_id: 0,
            subscriptions: HashMap::new(),
            transactions: HashSet::new(),
        })
    }

    /// The negotiated heart-beat intervals (none until CONNECTED arrives).
    pub fn negotiated_heart_beat(&self) -> Negotiated {
        self.heart_beat
    }

    /// The negotiated version (the highest offered one until CONNECTED arrives).
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether CONNECTED arrived and no disconnect started.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether the session is over (sticky).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Bytes received from the server at `now`. Any octet counts as life (§"Heart-beating").
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        self.last_now = self.last_now.max(now);
        if self.state == State::Closed || data.is_empty() {
            return;
        }
        if let Some(every) = self.heart_beat.expect_every {
            let timeout =
                heartbeat::receive_timeout(every, self.config.heart_beat_tolerance_percent);
            self.timers.set(Timer::HeartBeatReceive, now + timeout);
        }
        self.decoder.feed(data);
        while self.state != State::Closed {
            match self.decoder.decode() {
                Ok(None) => break,
                // EOLs are heart-beats; before CONNECTED they are ignored too.
                Ok(Some(Decoded::HeartBeat)) => {}
                Ok(Some(Decoded::Frame(frame))) => self.on_frame(now, frame),
                Err(e) => self.fail(ProtocolError::Decode(e)),
            }
        }
    }

    /// The transport ended: nothing more will arrive. The session closes (a graceful
    /// DISCONNECT whose RECEIPT never came ends here too) and reports [`ClientEvent::Closed`].
    pub fn handle_transport_closed(&mut self, _now: Instant) {
        self.close();
    }

    /// Time has passed: send heart-beats, detect a silent server, give up on CONNECTED or on the
    /// DISCONNECT receipt. Early calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::HeartBeatSend => {
                    // §"Heart-beating": with no real frame to send, MUST send one EOL.
                    self.out.extend_from_slice(b"\n");
                    self.arm_send(now);
                }
                Timer::HeartBeatReceive => {
                    self.events.push_back(ClientEvent::HeartBeatTimeout);
                    self.close();
                }
                Timer::Connect => self.fail(ProtocolError::ConnectTimeout),
                Timer::DisconnectReceipt => self.close(),
            }
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// All bytes queued for the server, as one buffer.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// Append all bytes queued for the server to `buf`; returns how many.
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

    /// SUBSCRIBE to `destination` (§"SUBSCRIBE"). Ids are generated, unique per connection.
    pub fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
    ) -> Result<SubscriptionId, LocalError> {
        self.check_connected()?;
        let id = SubscriptionId(format!("sub-{}", self.next_id()));
        let mut frame = Frame::new(Command::Subscribe)
            .header("id", id.as_str())
            .header("destination", destination);
        if ack != AckMode::Auto {
            frame.headers.push("ack", ack.as_str());
        }
        extend(&mut frame, headers);
        self.queue(&frame)?;
        self.subscriptions.insert(id.clone(), ack);
        Ok(id)
    }

    /// UNSUBSCRIBE (§"UNSUBSCRIBE"). Messages still in flight for it are dropped.
    pub fn unsubscribe(&mut self, id: &SubscriptionId) -> Result<(), LocalError> {
        self.check_connected()?;
        if !self.subscriptions.contains_key(id) {
            return Err(LocalError::UnknownSubscription(id.0.clone()));
        }
        self.queue(&Frame::new(Command::Unsubscribe).header("id", id.as_str()))?;
        self.subscriptions.remove(id);
        Ok(())
    }

    /// SEND `body` to `destination` (§"SEND"). Put a `transaction` header in `headers` to send
    /// inside a transaction. With `receipt`, returns the id a later [`ClientEvent::Receipt`]
    /// carries.
    pub fn send(
        &mut self,
        destination: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> Result<Option<ReceiptId>, LocalError> {
        self.check_connected()?;
        let mut frame = Frame::new(Command::Send)
            .header("destination", destination)
            .with_body(body);
        extend(&mut frame, headers);
        let receipt = receipt.then(|| self.receipt_id());
        if let Some(r) = &receipt {
            frame.headers.push("receipt", r.as_str());
        }
        self.queue(&frame)?;
        Ok(receipt)
    }

    /// ACK `message` (§"ACK"): cumulative on `client` subscriptions, single on
    /// `client-individual` (the server applies that). 1.2 sends the MESSAGE's `ack` header as
    /// `id`; 1.1 sends `message-id` and `subscription`; 1.0 sends `message-id`.
    pub fn ack(
        &mut self,
        message: &Message,
        transaction: Option<&TransactionId>,
    ) -> Result<(), LocalError> {
        self.acknowledge(Command::Ack, message, transaction)
    }

    /// NACK `message` (§"NACK", 1.1+). Same headers as [`ack`](Self::ack).
    pub fn nack(
        &mut self,
        message: &Message,
        transaction: Option<&TransactionId>,
    ) -> Result<(), LocalError> {
        self.acknowledge(Command::Nack, message, transaction)
    }

    /// BEGIN a transaction (§"BEGIN") with a generated id, unique per connection.
    pub fn begin(&mut self) -> Result<TransactionId, LocalError> {
        self.check_connected()?;
        let tx = TransactionId(format!("tx-{}", self.next_id()));
        self.queue(&Frame::new(Command::Begin).header("transaction", tx.as_str()))?;
        self.transactions.insert(tx.clone());
        Ok(tx)
    }

    /// COMMIT an open transaction (§"COMMIT").
    pub fn commit(&mut self, tx: &TransactionId) -> Result<(), LocalError> {
        self.end_transaction(Command::Commit, tx)
    }

    /// ABORT an open transaction (§"ABORT").
    pub fn abort(&mut self, tx: &TransactionId) -> Result<(), LocalError> {
        self.end_transaction(Command::Abort, tx)
    }

    /// Graceful disconnect (§"DISCONNECT"): send DISCONNECT with a receipt, wait for the RECEIPT
    /// (or [`ClientConfig::disconnect_timeout`]), then [`ClientEvent::Closed`]. Before CONNECTED
    /// there is nothing to be graceful about: the session closes at once.
    pub fn disconnect(&mut self) -> Result<(), LocalError> {
        match self.state {
            State::Closed => Err(LocalError::Closed),
            State::Disconnecting(_) => Err(LocalError::Disconnecting),
            State::Connecting => {
                self.close();
                Ok(())
            }
            State::Connected => {
                let receipt = self.receipt_id();
                self.queue(&Frame::new(Command::Disconnect).header("receipt", receipt.as_str()))?;
                self.timers.stop(Timer::HeartBeatSend);
                self.timers.set(
                    Timer::DisconnectReceipt,
                    self.last_now + self.config.disconnect_timeout,
                );
                self.state = State::Disconnecting(receipt);
                Ok(())
            }
        }
    }

    fn acknowledge(
        &mut self,
        command: Command,
        message: &Message,
        transaction: Option<&TransactionId>,
    ) -> Result<(), LocalError> {
        self.check_connected()?;
        if command == Command::Nack && self.version == Version::V1_0 {
            return Err(LocalError::Unsupported);
        }
        if self.subscriptions.get(&message.subscription) == Some(&AckMode::Auto) {
            return Err(LocalError::NotAckable);
        }
        let mut frame = Frame::new(command);
        match self.version {
            Version::V1_2 => {
                let id = message.ack_id().ok_or(LocalError::NotAckable)?;
                frame.headers.push("id", id);
            }
            Version::V1_1 | Version::V1_0 => {
                let id = message.message_id().ok_or(LocalError::NotAckable)?;
                frame.headers.push("message-id", id);
                if self.version == Version::V1_1 {
                    frame
                        .headers
                        .push("subscription", message.subscription.as_str());
                }
            }
        }
        if let Some(tx) = transaction {
            if !self.transactions.contains(tx) {
                return Err(LocalError::UnknownTransaction(tx.0.clone()));
            }
            frame.headers.push("transaction", tx.as_str());
        }
        self.queue(&frame)
    }

    fn end_transaction(&mut self, command: Command, tx: &TransactionId) -> Result<(), LocalError> {
        self.check_connected()?;
        if !self.transactions.contains(tx) {
            return Err(LocalError::UnknownTransaction(tx.0.clone()));
        }
        self.queue(&Frame::new(command).header("transaction", tx.as_str()))?;
        self.transactions.remove(tx);
        Ok(())
    }

    fn on_frame(&mut self, now: Instant, frame: Frame) {
        match (&self.state, frame.command) {
            (_, Command::Error) => {
                self.events.push_back(ClientEvent::Error(frame));
                self.close();
            }
            (State::Connecting, Command::Connected) => self.on_connected(now, &frame),
            (State::Connected | State::Disconnecting(_), Command::Message) => {
                let Some(sub) = frame.get("subscription") else {
                    return self.fail(ProtocolError::MissingHeader {
                        command: Command::Message,
                        header: "subscription",
                    });
                };
                let subscription = SubscriptionId(sub.to_owned());
                // A MESSAGE for a subscription we just closed is a race, not an error: drop it.
                if self.subscriptions.contains_key(&subscription) {
                    self.events.push_back(ClientEvent::Message(Message {
                        subscription,
                        frame,
                    }));
                } else {
                    tracing::debug!(%subscription, "dropping MESSAGE for a closed subscription");
                }
            }
            (State::Connected | State::Disconnecting(_), Command::Receipt) => {
                let Some(id) = frame.get("receipt-id") else {
                    return self.fail(ProtocolError::MissingHeader {
                        command: Command::Receipt,
                        header: "receipt-id",
                    });
                };
                let id = ReceiptId(id.to_owned());
                let done = self.state == State::Disconnecting(id.clone());
                self.events.push_back(ClientEvent::Receipt(id));
                if done {
                    self.close();
                }
            }
            (_, command) => self.fail(ProtocolError::UnexpectedFrame(command)),
        }
    }

    /// §"CONNECTED Frame", §"Protocol Negotiation", §"Heart-beating".
    fn on_connected(&mut self, now: Instant, frame: &Frame) {
        let version = match frame.get("version") {
            None => Version::V1_0,
            Some(v) => match Version::parse(v) {
                Some(v) => v,
                None => return self.fail(ProtocolError::invalid("version", v)),
            },
        };
        if !self.config.accept_versions.contains(&version) {
            return self.fail(ProtocolError::NoCommonVersion);
        }
        let server_hb = match frame.get("heart-beat") {
            None => HeartBeat::NONE,
            Some(v) => match HeartBeat::parse(v) {
                Some(hb) => hb,
                None => return self.fail(ProtocolError::invalid("heart-beat", v)),
            },
        };
        self.version = version;
        self.decoder.set_version(version);
        self.heart_beat = heartbeat::negotiate(self.config.heart_beat, server_hb);
        self.timers.stop(Timer::Connect);
        self.arm_send(now);
        if let Some(every) = self.heart_beat.expect_every {
            let timeout =
                heartbeat::receive_timeout(every, self.config.heart_beat_tolerance_percent);
            self.timers.set(Timer::HeartBeatReceive, now + timeout);
        }
        self.state = State::Connected;
        self.events.push_back(ClientEvent::Connected {
            version,
            server: frame.get("server").map(str::to_owned),
            session: frame.get("session").map(str::to_owned),
            heart_beat: self.heart_beat,
        });
    }

    fn check_connected(&self) -> Result<(), LocalError> {
        match self.state {
            State::Connected => Ok(()),
            State::Connecting => Err(LocalError::NotConnected),
            State::Disconnecting(_) => Err(LocalError::Disconnecting),
            State::Closed => Err(LocalError::Closed),
        }
    }

    fn queue(&mut self, frame: &Frame) -> Result<(), LocalError> {
        frame.encode(self.version, &mut self.out)?;
        self.arm_send(self.last_now);
        Ok(())
    }

    /// Restart the send heart-beat: we just sent something.
    fn arm_send(&mut self, now: Instant) {
        if let (Some(every), State::Connecting | State::Connected) =
            (self.heart_beat.send_every, &self.state)
        {
            self.timers.set(Timer::HeartBeatSend, now + every);
        }
    }

    fn fail(&mut self, error: ProtocolError) {
        tracing::debug!(%error, "STOMP server broke the protocol");
        self.events.push_back(ClientEvent::ProtocolError(error));
        self.close();
    }

    fn close(&mut self) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.timers.stop_all();
            self.events.push_back(ClientEvent::Closed);
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }

    fn receipt_id(&mut self) -> ReceiptId {
        ReceiptId(format!("rcpt-{}", self.next_id()))
    }
}

fn extend(frame: &mut Frame, headers: &[(&str, &str)]) {
    for (n, v) in headers {
        frame.headers.push(*n, *v);
    }
}
