//! The WebSocket connection machine, RFC 6455 §5–§7: everything after the opening handshake.

mod recv;
mod send;

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::close::CloseCode;
use super::config::Config;
use super::event::{CloseInfo, Event, Failure, Initiator};
use super::frame::FrameHeader;
use super::message::MessageKind;
use super::timer::{Timer, TimerTable};
use super::utf8::Utf8Validator;
use crate::rng::RandomSource;
use crate::time::Instant;

/// Which end of the connection this is. Clients mask what they send; servers refuse unmasked
/// frames (RFC 6455 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The end that sent the opening handshake.
    Client,
    /// The end that accepted it.
    Server,
}

/// Where the closing handshake stands (RFC 6455 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Data flows both ways.
    Open,
    /// We sent a close frame and wait for the peer's.
    CloseSent,
    /// Closed: nothing more is read or accepted for sending.
    Closed,
}

/// A WebSocket connection as a sans-IO state machine.
///
/// It never touches a socket or a clock: you feed it bytes and time, and it gives back events,
/// bytes to send and its next deadline.
///
/// - **Getters**: [`state`](Self::state), [`role`](Self::role), [`is_backpressured`](Self::is_backpressured),
///   [`outbound_len`](Self::outbound_len).
/// - **Inputs**: [`handle_input`](Self::handle_input) (or [`input_buffer`](Self::input_buffer) then
///   [`handle_buffered_input`](Self::handle_buffered_input) to read straight into the machine's
///   buffer), [`handle_eof`](Self::handle_eof), [`handle_timeout`](Self::handle_timeout).
/// - **Application calls**: `send_text`, `send_binary`, `send`, `send_fragment`, `ping`, `pong`,
///   `close`. They return [`LocalError`](super::LocalError) when misused and queue nothing then.
/// - **Outputs**: [`poll_event`](Self::poll_event), then [`poll_transmit`](Self::poll_transmit) (or
///   [`pending_transmit`](Self::pending_transmit) + [`advance_transmit`](Self::advance_transmit)),
///   then [`poll_timeout`](Self::poll_timeout).
///
/// **Order**: after any input or call, drain `poll_event` until `None`, then write everything
/// `poll_transmit` gives, then re-arm your timer from `poll_timeout` (calling `handle_timeout` early
/// is harmless). After [`Event::Closed`], flush the transmit queue and close the transport.
///
/// A peer that breaks the protocol is not an `Err`: the connection queues the close frame the RFC
/// asks for (1002, 1007 or 1009), reports [`Event::Closed`] with the [`Failure`], and stays closed.
pub struct Connection {
    role: Role,
    config: Config,
    state: State,
    /// Received bytes not yet consumed. The front `unmask.done` bytes have been through the
    /// unmasking cursor (payloads unmasked, headers as received); the front `frame.checked` bytes of
    /// the current frame's payload are UTF-8 checked too (for text).
    recv: BytesMut,
    /// How far payloads in `recv` are unmasked.
    unmask: recv::Unmasker,
    /// The frame whose payload is arriving.
    frame: Option<InFrame>,
    /// The data message being received, across fragments.
    message: Option<InMessage>,
    /// Fragments of `message` so far (non-streaming mode).
    fragments: BytesMut,
    /// Encoded frames waiting to be written.
    out: BytesMut,
    /// The kind of the fragmented message we are sending, if any.
    sending: Option<MessageKind>,
    events: VecDeque<Event>,
    timers: TimerTable,
    rng: Option<Box<dyn RandomSource>>,
}

/// A frame being received.
struct InFrame {
    header: FrameHeader,
    /// Payload bytes already handed out (streaming mode splits a frame as it arrives).
    delivered: u64,
    /// Payload bytes at the front of `recv` already checked (UTF-8 for text) and counted.
    checked: usize,
}

/// A data message being received.
struct InMessage {
    kind: MessageKind,
    size: u64,
    utf8: Utf8Validator,
}

impl Connection {
    /// A server-side connection (frames from the client must be masked).
    pub fn server(now: Instant, config: Config) -> Self {
        Self::new(Role::Server, now, config, None)
    }

    /// A client-side connection; `rng` draws a fresh mask key for every frame (RFC 6455 §5.3).
    pub fn client(now: Instant, config: Config, rng: Box<dyn RandomSource>) -> Self {
        Self::new(Role::Client, now, config, Some(rng))
    }

    fn new(role: Role, now: Instant, config: Config, rng: Option<Box<dyn RandomSource>>) -> Self {
        let mut conn = Connection {
            role,
            state: State::Open,
            // Both buffers are allocated as bytes arrive or are queued, not up front: an idle
            // connection holds neither (issue #7: RSS per idle connection).
            recv: BytesMut::new(),
            unmask: recv::Unmasker::default(),
            frame: None,
            message: None,
            fragments: BytesMut::new(),
            out: BytesMut::new(),
            sending: None,
            events: VecDeque::new(),
            timers: TimerTable::default(),
            rng,
            config,
        };
        conn.note_life(now);
        conn
    }

    // --- getters ---

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Bytes queued for sending.
    pub fn outbound_len(&self) -> usize {
        self.out.len()
    }

    /// More than `outbound_high_water` bytes are queued: stop producing until they are written.
    pub fn is_backpressured(&self) -> bool {
        self.out.len() >= self.config.outbound_high_water
    }

    /// Closed, and everything queued has been handed out: the transport can be closed.
    pub fn is_done(&self) -> bool {
        self.state == State::Closed && self.out.is_empty() && self.events.is_empty()
    }

    // --- inputs ---

    /// Bytes arrived from the transport. They are copied into the receive buffer, payloads
    /// unmasked on the way in, and decoded as [`poll_event`](Self::poll_event) is called.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if self.state == State::Closed || data.is_empty() {
            return;
        }
        self.append_unmasked(data);
        self.note_life(now);
    }

    /// The machine's receive buffer, with room for at least `additional` more bytes: read from the
    /// transport straight into it, then call [`handle_buffered_input`](Self::handle_buffered_input).
    pub fn input_buffer(&mut self, additional: usize) -> &mut BytesMut {
        self.recv.reserve(additional);
        &mut self.recv
    }

    /// Bytes were appended to [`input_buffer`](Self::input_buffer). They are decoded as
    /// [`poll_event`](Self::poll_event) is called.
    pub fn handle_buffered_input(&mut self, now: Instant) {
        if self.state == State::Closed {
            self.recv.clear();
            self.unmask = recv::Unmasker::default();
            return;
        }
        self.note_life(now); // the bytes are unmasked in place as they are decoded
    }

    /// The transport reached end of file: the peer will send nothing more.
    pub fn handle_eof(&mut self, _now: Instant) {
        if self.state != State::Closed {
            self.finish(CloseInfo {
                code: CloseCode::ABNORMAL,
                reason: String::new(),
                initiator: Initiator::Remote,
                clean: false,
                failure: Some(Failure::TransportClosed),
            });
        }
    }

    /// Time has passed. Calling it before [`poll_timeout`](Self::poll_timeout)'s deadline does
    /// nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut expired = [None; 3];
        for (slot, t) in expired.iter_mut().zip(self.timers.expire(now)) {
            *slot = Some(t);
        }
        for timer in expired.into_iter().flatten() {
            match timer {
                Timer::Close if self.state == State::CloseSent => self.finish(CloseInfo {
                    code: CloseCode::ABNORMAL,
                    reason: String::new(),
                    initiator: Initiator::Local,
                    clean: false,
                    failure: Some(Failure::CloseTimeout),
                }),
                Timer::KeepAlive if self.state == State::Open => {
                    self.write_frame(super::frame::OpCode::Ping, true, b"");
                    if let Some(interval) = self.config.ping_interval {
                        self.timers.set(Timer::KeepAlive, now + interval);
                    }
                }
                Timer::Idle if self.state != State::Closed => {
                    self.fail(CloseCode::GOING_AWAY, Failure::IdleTimeout, "idle timeout")
                }
                _ => {}
            }
        }
    }

    // --- outputs ---

    /// The next event, if any. Received frames are decoded here, one event at a time, so that
    /// whatever the application sends in answer to an event goes out before the effects of later
    /// frames (RFC 6455 §5.4: frames are processed in order).
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.process_input();
        }
        self.events.pop_front()
    }

    /// All bytes queued for the transport, as one buffer.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// The bytes queued for the transport, without taking them: write some, then
    /// [`advance_transmit`](Self::advance_transmit) by what was written. Allocates nothing.
    pub fn pending_transmit(&self) -> &[u8] {
        &self.out
    }

    /// `n` bytes of [`pending_transmit`](Self::pending_transmit) were written.
    pub fn advance_transmit(&mut self, n: usize) {
        bytes::Buf::advance(&mut self.out, n);
    }

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // --- internals shared by recv and send ---

    /// Something was received: push back the keepalive and idle deadlines.
    fn note_life(&mut self, now: Instant) {
        if self.state != State::Open {
            return;
        }
        if let Some(interval) = self.config.ping_interval {
            self.timers.set(Timer::KeepAlive, now + interval);
        }
        if let Some(idle) = self.config.idle_timeout {
            self.timers.set(Timer::Idle, now + idle);
        }
    }

    /// Fail the connection (RFC 6455 §7.1.7): send a close frame unless one went already, stop
    /// reading, report why.
    fn fail(&mut self, code: CloseCode, failure: Failure, reason: &'static str) {
        if self.state == State::Closed {
            return;
        }
        if self.state == State::Open {
            self.write_close(Some(code), reason);
        }
        self.finish(CloseInfo {
            code,
            reason: reason.to_owned(),
            initiator: Initiator::Local,
            clean: false,
            failure: Some(failure),
        });
    }

    /// Enter `Closed`, drop what is buffered for reading, and report it once.
    fn finish(&mut self, info: CloseInfo) {
        self.state = State::Closed;
        self.timers.stop_all();
        self.recv.clear();
        self.unmask = recv::Unmasker::default();
        self.frame = None;
        self.message = None;
        self.fragments.clear();
        self.events.push_back(Event::Closed(info));
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("buffered_in", &self.recv.len())
            .field("queued_out", &self.out.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
