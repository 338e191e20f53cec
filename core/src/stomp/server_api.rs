//! What a [`ServerSession`](super::ServerSession) exchanges with the broker above it: the
//! authenticator hook, the configuration and the typed events (STOMP 1.2 §"Client Frames").

use super::error::ProtocolError;
use super::frame::{Frame, Version};
use super::heartbeat::{self, HeartBeat, Negotiated};
use super::ids::{AckMode, ReceiptId, SubscriptionId, TransactionId};
use super::Limits;
use std::time::Duration;

/// Decides whether a CONNECT may proceed: `Ok(principal)` or `Err(message for the ERROR frame)`.
/// Any `FnMut(login, passcode, &connect_frame) -> Result<String, String>` is one.
pub trait Authenticator: Send {
    /// Authenticate the CONNECT (or STOMP) `frame`.
    fn authenticate(
        &mut self,
        login: Option<&str>,
        passcode: Option<&str>,
        frame: &Frame,
    ) -> Result<String, String>;
}

impl<F> Authenticator for F
where
    F: FnMut(Option<&str>, Option<&str>, &Frame) -> Result<String, String> + Send,
{
    fn authenticate(
        &mut self,
        login: Option<&str>,
        passcode: Option<&str>,
        frame: &Frame,
    ) -> Result<String, String> {
        self(login, passcode, frame)
    }
}

/// Accept everyone; the principal is the `login` header, or `"anonymous"`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Authenticator for AllowAll {
    fn authenticate(
        &mut self,
        login: Option<&str>,
        _: Option<&str>,
        _: &Frame,
    ) -> Result<String, String> {
        Ok(login.unwrap_or("anonymous").to_owned())
    }
}

/// How a [`ServerSession`](super::ServerSession) answers.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Versions we speak. Default all of 1.0, 1.1, 1.2.
    pub versions: Vec<Version>,
    /// Our heart-beat offer (`sx,sy`). Default `0,0`.
    pub heart_beat: HeartBeat,
    /// The `server` header of CONNECTED (`name["/"version]`). Default `duplex/<crate version>`.
    pub server: Option<String>,
    /// Decoder limits. Default [`Limits::default`].
    pub limits: Limits,
    /// Close (with ERROR) when no CONNECT arrived after this long. Default 30 s.
    pub connect_timeout: Duration,
    /// Receive-side heart-beat tolerance in percent of the negotiated interval. Default 200.
    pub heart_beat_tolerance_percent: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            versions: Version::ALL.to_vec(),
            heart_beat: HeartBeat::NONE,
            server: Some(format!("duplex/{}", env!("CARGO_PKG_VERSION"))),
            limits: Limits::default(),
            connect_timeout: Duration::from_secs(30),
            heart_beat_tolerance_percent: heartbeat::DEFAULT_TOLERANCE_PERCENT,
        }
    }
}

/// What the client asked for, from [`ServerSession::poll_event`](super::ServerSession::poll_event). Events carrying `receipt`
/// expect the broker to call [`ServerSession::send_receipt`](super::ServerSession::send_receipt) once it has acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// The client connected and was authenticated; CONNECTED is queued.
    Connected {
        /// What the authenticator returned.
        principal: String,
        /// The negotiated version.
        version: Version,
        /// The `host` header.
        host: Option<String>,
        /// The negotiated heart-beat intervals.
        heart_beat: Negotiated,
        /// The session id sent in CONNECTED.
        session: String,
    },
    /// SEND (§"SEND").
    Send {
        /// The `destination` header.
        destination: String,
        /// The `transaction` header (an open transaction).
        transaction: Option<TransactionId>,
        /// The `receipt` header.
        receipt: Option<ReceiptId>,
        /// The whole frame: user headers are to be passed through to MESSAGE.
        frame: Frame,
    },
    /// SUBSCRIBE (§"SUBSCRIBE").
    Subscribe {
        /// The subscription id (1.0 without `id`: the destination).
        id: SubscriptionId,
        /// The `destination` header.
        destination: String,
        /// The ack mode.
        ack: AckMode,
        /// The `receipt` header.
        receipt: Option<ReceiptId>,
        /// The whole frame (for server-specific headers such as selectors).
        frame: Frame,
    },
    /// UNSUBSCRIBE of an open subscription (§"UNSUBSCRIBE").
    Unsubscribe {
        /// The subscription.
        id: SubscriptionId,
        /// The `receipt` header.
        receipt: Option<ReceiptId>,
    },
    /// ACK (§"ACK").
    Ack(Acknowledgement),
    /// NACK (§"NACK").
    Nack(Acknowledgement),
    /// BEGIN (§"BEGIN").
    Begin {
        /// The new transaction.
        transaction: TransactionId,
        /// The `receipt` header.
        receipt: Option<ReceiptId>,
    },
    /// COMMIT of an open transaction (§"COMMIT").
    Commit {
        /// The transaction.
        transaction: TransactionId,
        /// The `receipt` header.
        receipt: Option<ReceiptId>,
    },
    /// ABORT of an open transaction (§"ABORT").
    Abort {
        /// The transaction.
        transaction: TransactionId,
        /// The `receipt` header.
        receipt: Option<ReceiptId>,
    },
    /// DISCONNECT (§"DISCONNECT"). With a receipt, the session closes once the broker calls
    /// [`ServerSession::send_receipt`](super::ServerSession::send_receipt) for it; without, [`ServerEvent::Closed`] follows at once.
    Disconnect {
        /// The `receipt` header.
        receipt: Option<ReceiptId>,
    },
    /// Transactions left open at DISCONNECT or close, implicitly aborted (§"BEGIN").
    TransactionsAborted(Vec<TransactionId>),
    /// The client was silent beyond the heart-beat tolerance; [`ServerEvent::Closed`] follows.
    HeartBeatTimeout,
    /// The client broke the protocol; ERROR is queued and [`ServerEvent::Closed`] follows.
    ProtocolError(ProtocolError),
    /// The session is over: flush `poll_transmit`, then close the transport.
    Closed,
}

/// An ACK or NACK, validated for the negotiated version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledgement {
    /// 1.2: the `id` header (the MESSAGE's `ack` value); 1.0 and 1.1: the `message-id` header.
    pub id: String,
    /// The `subscription` header (required in 1.1, validated to be open).
    pub subscription: Option<SubscriptionId>,
    /// The `transaction` header (an open transaction).
    pub transaction: Option<TransactionId>,
    /// The `receipt` header.
    pub receipt: Option<ReceiptId>,
}
