//! Messages and text payloads handed to the application.

use std::fmt;

use bytes::Bytes;

/// Bytes that are known to be valid UTF-8: a text payload, zero-copy.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wrap bytes after checking they are UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        if simdutf8::basic::from_utf8(&bytes).is_ok() {
            Ok(Utf8Bytes(bytes))
        } else {
            Err(bytes)
        }
    }

    /// Wrap bytes the connection has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// The text.
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks the bytes are UTF-8 (`from_validated` is only called by
        // the connection after its incremental validator accepted the whole message), and `Bytes`
        // is immutable.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwrap into the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s))
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl std::ops::Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A complete data message, RFC 6455 §5.6.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message (opcode 0x1), valid UTF-8.
    Text(Utf8Bytes),
    /// A binary message (opcode 0x2).
    Binary(Bytes),
}

impl Message {
    /// The payload bytes.
    pub fn payload(&self) -> &Bytes {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// The kind of message.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Text(_) => MessageKind::Text,
            Message::Binary(_) => MessageKind::Binary,
        }
    }
}

/// Text or binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Text: the payload is UTF-8.
    Text,
    /// Binary.
    Binary,
}
