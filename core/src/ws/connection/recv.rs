//! The receive path: frames out of the byte stream, RFC 6455 §5.2–§5.6 and §6.2.
//!
//! Payload bytes are unmasked and (for text) UTF-8 checked as soon as they arrive, in place in the
//! receive buffer, so a bad byte fails the connection before the rest of the frame comes, and a
//! whole frame is handed out as a `Bytes` slice of that buffer with no copy.

use bytes::{Buf, Bytes};

use super::{Connection, InFrame, InMessage, Role, State};
use crate::ws::close::{BadCloseBody, CloseBody, CloseCode};
use crate::ws::event::{CloseInfo, Event, Failure, Initiator};
use crate::ws::frame::{FrameHeader, OpCode};
use crate::ws::mask::apply_mask;
use crate::ws::message::{Message, MessageKind, Utf8Bytes};
use crate::ws::utf8::Utf8Validator;

impl Connection {
    /// Consume frames from `recv` until one yields an event or more bytes are needed.
    ///
    /// Frames are processed lazily, one event at a time, as the application polls: so its answer
    /// to a message (an echo, say) is queued before anything that a later frame in the same read
    /// causes (a close reply, or the close frame that fails the connection), exactly in order.
    pub(super) fn process_input(&mut self) {
        while self.state != State::Closed && self.events.is_empty() {
            if self.frame.is_none() && !self.start_frame() {
                return;
            }
            if !self.advance_frame() {
                return;
            }
        }
    }

    /// Decode the next frame header. Returns false when more bytes are needed or the connection
    /// failed.
    fn start_frame(&mut self) -> bool {
        let (header, header_len) = match FrameHeader::decode(&self.recv) {
            Ok(Some(h)) => h,
            Ok(None) => return false,
            Err(e) => {
                self.fail(
                    CloseCode::PROTOCOL_ERROR,
                    Failure::Protocol(e.as_str()),
                    e.as_str(),
                );
                return false;
            }
        };
        if let Err((code, failure, reason)) = self.check_header(&header) {
            self.fail(code, failure, reason);
            return false;
        }
        self.recv.advance(header_len);
        self.frame = Some(InFrame {
            header,
            delivered: 0,
            checked: 0,
        });
        true
    }

    /// The checks that depend on the connection's state: masking direction (§5.1), fragment
    /// order (§5.4) and our size limits (§10.4).
    fn check_header(&mut self, h: &FrameHeader) -> Result<(), (CloseCode, Failure, &'static str)> {
        let protocol = |reason: &'static str| {
            Err((CloseCode::PROTOCOL_ERROR, Failure::Protocol(reason), reason))
        };
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return protocol("unmasked frame from a client"),
            (Role::Client, true) => return protocol("masked frame from a server"),
            _ => {}
        }
        if h.payload_len > self.config.max_frame_size {
            return Err((CloseCode::MESSAGE_TOO_BIG, Failure::TooBig, "frame too big"));
        }
        let kind = match h.opcode {
            OpCode::Text => MessageKind::Text,
            OpCode::Binary => MessageKind::Binary,
            OpCode::Continuation => match &self.message {
                Some(m) if m.size.saturating_add(h.payload_len) > self.config.max_message_size => {
                    return Err((
                        CloseCode::MESSAGE_TOO_BIG,
                        Failure::TooBig,
                        "message too big",
                    ))
                }
                Some(_) => return Ok(()),
                None => return protocol("continuation frame with no message to continue"),
            },
            _ => return Ok(()), // control frames: §5.2 checks were done by the decoder
        };
        if self.message.is_some() {
            return protocol("new data frame inside a fragmented message");
        }
        if h.payload_len > self.config.max_message_size {
            return Err((
                CloseCode::MESSAGE_TOO_BIG,
                Failure::TooBig,
                "message too big",
            ));
        }
        self.message = Some(InMessage {
            kind,
            size: 0,
            utf8: Utf8Validator::new(),
        });
        Ok(())
    }

    /// Unmask and check what has arrived of the current frame; hand it out when complete (or in
    /// pieces when streaming). Returns false when more bytes are needed or the connection failed.
    fn advance_frame(&mut self) -> bool {
        let frame = self.frame.as_mut().expect("a frame is in progress");
        let header = frame.header;
        let remaining = header.payload_len - frame.delivered;
        let available = remaining.min(self.recv.len() as u64) as usize;
        if available > frame.checked {
            let fresh = &mut self.recv[frame.checked..available];
            if let Some(key) = header.mask {
                apply_mask(
                    fresh,
                    key,
                    (frame.delivered as usize).wrapping_add(frame.checked),
                );
            }
            frame.checked = available;
            let is_text = !header.opcode.is_control()
                && self.message.as_ref().map(|m| m.kind) == Some(MessageKind::Text);
            if is_text {
                let message = self.message.as_mut().expect("text message in progress");
                if message.utf8.feed(fresh).is_err() {
                    self.fail(
                        CloseCode::INVALID_PAYLOAD,
                        Failure::InvalidUtf8,
                        "invalid UTF-8",
                    );
                    return false;
                }
            }
        }
        if available as u64 == remaining {
            let payload = self.recv.split_to(available).freeze();
            self.frame = None;
            self.dispatch(header, payload);
            return true;
        }
        if self.config.streaming && !header.opcode.is_control() && frame.checked > 0 {
            let piece = self.recv.split_to(frame.checked).freeze();
            frame.delivered += frame.checked as u64;
            frame.checked = 0;
            self.deliver_data(piece, false);
        }
        false
    }

    /// A whole frame (or the rest of one) has arrived.
    fn dispatch(&mut self, header: FrameHeader, payload: Bytes) {
        match header.opcode {
            OpCode::Ping => {
                if self.config.auto_pong && self.state != State::Closed {
                    self.write_frame(OpCode::Pong, true, &payload);
                }
                self.events.push_back(Event::Ping(payload));
            }
            OpCode::Pong => self.events.push_back(Event::Pong(payload)),
            OpCode::Close => self.receive_close(&payload),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                self.deliver_data(payload, header.fin)
            }
        }
    }

    /// Data bytes of the current message, RFC 6455 §5.4 and §5.6.
    fn deliver_data(&mut self, data: Bytes, fin: bool) {
        let message = self.message.as_mut().expect("data frame inside a message");
        message.size += data.len() as u64;
        let kind = message.kind;
        if fin && kind == MessageKind::Text && message.utf8.finish().is_err() {
            self.fail(
                CloseCode::INVALID_PAYLOAD,
                Failure::InvalidUtf8,
                "invalid UTF-8",
            );
            return;
        }
        if fin {
            self.message = None;
        }
        if self.config.streaming {
            if !data.is_empty() || fin {
                self.events.push_back(Event::Chunk { kind, data, fin });
            }
            return;
        }
        let whole = if fin && self.fragments.is_empty() {
            data // a message in one frame: hand out the receive buffer's slice, no copy
        } else {
            self.fragments.extend_from_slice(&data);
            if !fin {
                return;
            }
            self.fragments.split().freeze()
        };
        self.events.push_back(Event::Message(match kind {
            MessageKind::Text => Message::Text(Utf8Bytes::from_validated(whole)),
            MessageKind::Binary => Message::Binary(whole),
        }));
    }

    /// A close frame arrived, RFC 6455 §5.5.1 and §7.1.
    fn receive_close(&mut self, payload: &[u8]) {
        let body = match CloseBody::parse(payload) {
            Ok(body) => body,
            Err(BadCloseBody::Protocol(why)) => {
                return self.fail(CloseCode::PROTOCOL_ERROR, Failure::Protocol(why), why)
            }
            Err(BadCloseBody::Utf8) => {
                return self.fail(
                    CloseCode::INVALID_PAYLOAD,
                    Failure::InvalidUtf8,
                    "invalid UTF-8 in close reason",
                )
            }
        };
        let initiator = match self.state {
            State::Open => {
                // §5.5.1: reply with a close frame, echoing the status code.
                self.write_close(body.code, "");
                Initiator::Remote
            }
            State::CloseSent => Initiator::Local,
            State::Closed => return,
        };
        self.finish(CloseInfo {
            code: body.code.unwrap_or(CloseCode::NO_STATUS),
            reason: body.reason,
            initiator,
            clean: true,
            failure: None,
        });
    }
}
