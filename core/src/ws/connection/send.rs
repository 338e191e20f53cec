//! The send path: application calls that queue frames, RFC 6455 §5.2–§5.5 and §7.1.2.

use super::{Connection, Role, State};
use crate::time::Instant;
use crate::ws::close::CloseCode;
use crate::ws::event::LocalError;
use crate::ws::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::ws::mask::{apply_mask, extend_masked};
use crate::ws::message::{Message, MessageKind};
use crate::ws::timer::Timer;

/// Payloads at least this long are masked while they are copied into the transmit queue.
const FUSE_MIN: usize = 64;

impl Connection {
    /// Queue a text message in one frame.
    pub fn send_text(&mut self, text: &str) -> Result<(), LocalError> {
        self.send_whole(OpCode::Text, text.as_bytes())
    }

    /// Queue a binary message in one frame.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), LocalError> {
        self.send_whole(OpCode::Binary, data)
    }

    /// Queue a message in one frame.
    pub fn send(&mut self, message: &Message) -> Result<(), LocalError> {
        match message {
            Message::Text(t) => self.send_whole(OpCode::Text, t.as_bytes()),
            Message::Binary(b) => self.send_whole(OpCode::Binary, b),
        }
    }

    /// Queue one fragment of a message (RFC 6455 §5.4): the first call starts a message of `kind`,
    /// later calls continue it, and `fin` ends it. Lets a large message be streamed out without
    /// holding it whole. Text fragments may split code points; the whole must be UTF-8.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), LocalError> {
        self.check_open()?;
        let opcode = match self.sending {
            None => match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            },
            Some(k) if k == kind => OpCode::Continuation,
            Some(_) => return Err(LocalError::FragmentKindMismatch),
        };
        self.sending = if fin { None } else { Some(kind) };
        self.write_frame(opcode, fin, data);
        Ok(())
    }

    /// Queue a ping (RFC 6455 §5.5.2). The payload is at most 125 bytes.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queue a pong (RFC 6455 §5.5.3): an answer to a ping, or an unsolicited heartbeat.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), LocalError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Start the closing handshake (RFC 6455 §7.1.2): queue a close frame and wait up to
    /// `close_timeout` for the peer's. `code` must be sendable (§7.4) and `reason` at most 123 bytes.
    pub fn close(&mut self, now: Instant, code: CloseCode, reason: &str) -> Result<(), LocalError> {
        self.check_open()?;
        if !code.is_valid_on_wire() {
            return Err(LocalError::BadCloseCode(code.0));
        }
        if reason.len() > 123 {
            return Err(LocalError::ReasonTooLong);
        }
        self.write_close(Some(code), reason);
        self.state = State::CloseSent;
        self.timers.stop(Timer::KeepAlive);
        self.timers.stop(Timer::Idle);
        self.timers
            .set(Timer::Close, now + self.config.close_timeout);
        Ok(())
    }

    fn check_open(&self) -> Result<(), LocalError> {
        match self.state {
            State::Open => Ok(()),
            _ => Err(LocalError::Closed),
        }
    }

    fn send_whole(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), LocalError> {
        self.check_open()?;
        if self.sending.is_some() {
            return Err(LocalError::MessageInProgress);
        }
        self.write_frame(opcode, true, payload);
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), LocalError> {
        self.check_open()?;
        if payload.len() > 125 {
            return Err(LocalError::ControlTooLong);
        }
        self.write_frame(opcode, true, payload);
        Ok(())
    }

    /// Queue a close frame body: the code, then the reason (§5.5.1). `None` sends an empty body.
    pub(super) fn write_close(&mut self, code: Option<CloseCode>, reason: &str) {
        let mut body = [0u8; 125];
        let len = match code {
            None => 0,
            Some(code) => {
                let reason = &reason.as_bytes()[..reason.len().min(123)];
                body[..2].copy_from_slice(&code.0.to_be_bytes());
                body[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
        };
        self.write_frame(OpCode::Close, true, &body[..len]);
    }

    /// Encode one frame into the transmit queue, masking it if we are the client (§5.3) as the
    /// payload is copied in.
    pub(super) fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        let mask = match self.role {
            Role::Client => {
                let rng = self.rng.as_mut().expect("clients have a random source");
                Some(rng.next_u32().to_ne_bytes())
            }
            Role::Server => None,
        };
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        self.out.reserve(head_len + payload.len());
        self.out.extend_from_slice(&head[..head_len]);
        match mask {
            // Copied and masked in one pass: the payload is read once and written once. (A
            // short one costs fewer instructions copied, then masked in place while in L1.)
            Some(key) if payload.len() >= FUSE_MIN => extend_masked(&mut self.out, payload, key, 0),
            Some(key) => {
                let start = self.out.len();
                self.out.extend_from_slice(payload);
                apply_mask(&mut self.out[start..], key, 0);
            }
            None => self.out.extend_from_slice(payload),
        }
    }
}
