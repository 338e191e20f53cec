//! What a connection reports to the application, and what it refuses to do.

use bytes::Bytes;

use super::close::CloseCode;
use super::message::{Message, MessageKind};

/// Something that happened on a connection. Drain them with
/// [`Connection::poll_event`](super::Connection::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A whole message arrived (the default, non-streaming mode).
    Message(Message),
    /// Part of a message arrived (streaming mode, [`Config::streaming`](super::Config::streaming)).
    /// Text chunks may split a code point; the whole message is checked to be UTF-8 before the
    /// chunk with `fin` is delivered.
    Chunk {
        /// Text or binary, fixed by the message's first frame.
        kind: MessageKind,
        /// The bytes, unmasked.
        data: Bytes,
        /// This is the last chunk of the message.
        fin: bool,
    },
    /// A ping arrived (already answered when `auto_pong` is on), RFC 6455 §5.5.2.
    Ping(Bytes),
    /// A pong arrived, RFC 6455 §5.5.3.
    Pong(Bytes),
    /// The connection is closed: write out what `poll_transmit` still has, then close the transport.
    /// Emitted exactly once.
    Closed(CloseInfo),
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The code from the peer's close frame; [`CloseCode::NO_STATUS`] if it had none;
    /// [`CloseCode::ABNORMAL`] when no close frame was received; the code we sent when we failed
    /// the connection.
    pub code: CloseCode,
    /// The reason text that went with `code`.
    pub reason: String,
    /// Who sent the first close frame (or failed the connection).
    pub initiator: Initiator,
    /// The close handshake completed both ways (RFC 6455 §7.1.4 "cleanly").
    pub clean: bool,
    /// Why the connection was failed, if it was.
    pub failure: Option<Failure>,
}

/// Which side started the closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// This endpoint.
    Local,
    /// The peer.
    Remote,
}

/// Why a connection was failed (RFC 6455 §7.1.7) rather than closed by a handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The peer broke the framing rules; we sent 1002. The text says which rule.
    Protocol(&'static str),
    /// A text message or close reason was not UTF-8; we sent 1007.
    InvalidUtf8,
    /// A frame or message exceeded our limits; we sent 1009.
    TooBig,
    /// The peer did not answer our close frame within `close_timeout`.
    CloseTimeout,
    /// Nothing was received within `idle_timeout`; we sent 1001.
    IdleTimeout,
    /// The transport ended before the close handshake did.
    TransportClosed,
}

/// A call the connection refuses. Nothing was queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// The connection is closing or closed: no more data may be sent (RFC 6455 §5.5.1).
    #[error("the connection is closing or closed")]
    Closed,
    /// Control frame payloads are at most 125 bytes (RFC 6455 §5.5).
    #[error("control frame payload longer than 125 bytes")]
    ControlTooLong,
    /// That close code may not be sent (RFC 6455 §7.4).
    #[error("close code {0} may not be sent")]
    BadCloseCode(u16),
    /// The close reason must fit in 123 bytes (RFC 6455 §5.5).
    #[error("close reason longer than 123 bytes")]
    ReasonTooLong,
    /// A fragmented message is being sent; finish it before starting another (RFC 6455 §5.4).
    #[error("a fragmented message is in progress")]
    MessageInProgress,
    /// A fragment continued a message of the other kind.
    #[error("fragment kind does not match the message in progress")]
    FragmentKindMismatch,
}
