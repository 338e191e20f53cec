//! The two kinds of failure, kept apart as DESIGN.md asks: [`LocalError`] is misuse of the API by
//! our caller (returned as `Err`, nothing changes); [`ProtocolError`] is a misbehaving peer
//! (reported as an event, the session queues an ERROR where it can and closes for good).

use super::decode::DecodeError;
use super::encode::EncodeError;
use super::frame::Command;

/// The caller asked for something the session cannot do in its state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// The session is not connected yet.
    #[error("not connected yet")]
    NotConnected,
    /// A graceful disconnect is in progress: no frame may follow DISCONNECT
    /// (STOMP 1.2 §"DISCONNECT": clients MUST NOT send any more frames).
    #[error("disconnecting")]
    Disconnecting,
    /// The session is closed.
    #[error("session closed")]
    Closed,
    /// No such subscription on this connection.
    #[error("unknown subscription {0:?}")]
    UnknownSubscription(String),
    /// No such open transaction on this connection.
    #[error("unknown transaction {0:?}")]
    UnknownTransaction(String),
    /// The message cannot be acknowledged: its subscription is `auto`, or it has no `ack`
    /// (1.2) / `message-id` (1.0, 1.1) header.
    #[error("message cannot be acknowledged")]
    NotAckable,
    /// The negotiated version lacks the feature (NACK in 1.0).
    #[error("not supported by the negotiated STOMP version")]
    Unsupported,
    /// The frame cannot be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// What the peer did wrong. The session closes after reporting it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The byte stream is not valid STOMP, or exceeds a limit.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A frame that is not allowed here (e.g. SEND before CONNECT, MESSAGE sent to a server).
    #[error("unexpected {0} frame")]
    UnexpectedFrame(Command),
    /// A required header is missing.
    #[error("{command} frame without required header {header:?}")]
    MissingHeader {
        /// The frame.
        command: Command,
        /// The header it needs.
        header: &'static str,
    },
    /// A header has a value we cannot accept.
    #[error("invalid {header:?} header {value:?}")]
    InvalidHeader {
        /// The header.
        header: &'static str,
        /// Its value (truncated).
        value: String,
    },
    /// The client and server share no protocol version (STOMP 1.2 §"Protocol Negotiation").
    #[error("no common protocol version")]
    NoCommonVersion,
    /// A subscription id that is not open (UNSUBSCRIBE, ACK) or already open (SUBSCRIBE).
    #[error("subscription {0:?} unknown or already in use")]
    Subscription(String),
    /// A transaction id that is not open (COMMIT, ABORT, SEND) or already open (BEGIN).
    #[error("transaction {0:?} unknown or already in use")]
    Transaction(String),
    /// The authenticator refused the CONNECT.
    #[error("authentication failed: {0}")]
    AuthenticationFailed(String),
    /// The session did not connect in time.
    #[error("connect timeout")]
    ConnectTimeout,
}

impl ProtocolError {
    pub(crate) fn invalid(header: &'static str, value: &str) -> Self {
        ProtocolError::InvalidHeader {
            header,
            value: value.chars().take(64).collect(),
        }
    }
}
