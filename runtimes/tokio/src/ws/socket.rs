//! [`WebSocket`]: a [`Connection`] machine driven over any tokio byte stream.
//!
//! Reads go into one buffer per thread ([`READ_CHUNK`] bytes, so one read takes everything the
//! kernel has, up to that), and what arrived is handed to the machine with `handle_input`, which
//! copies it into the connection's receive buffer, unmasking on the way. A connection that waits
//! for input therefore holds no read buffer of its own: idle connections stay small, however large
//! the reads of busy ones. Writes are batched by the caller: [`WebSocket::feed`] queues, and one
//! write sends everything queued.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use duplex_core::ws::{CloseCode, CloseInfo, Connection, Event, Message, Role, State};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::clock::Clock;
use crate::Error;

/// The size of the per-thread read buffer: the most one read takes.
const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    /// Shared by every connection polled on this thread; borrowed only inside one `poll_read`,
    /// never across an `.await`.
    static READ_BUF: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// A WebSocket connection on tokio: a read loop, a write loop and a timer around the core's
/// [`Connection`]; every protocol decision is the core's.
///
/// Every `async fn` here is cancel-safe: dropping its future (in `tokio::select!`) loses nothing.
/// Received bytes stay in the machine's buffer, queued frames stay queued and are written by the
/// next call.
#[derive(Debug)]
pub struct WebSocket<S> {
    io: S,
    conn: Connection,
    clock: Clock,
    protocol: Option<String>,
    close_info: Option<CloseInfo>,
    /// The transport has been shut down and drained: nothing more will happen.
    finished: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Wrap a stream on which the opening handshake has completed. `leftover` is what was read past
    /// the handshake head.
    pub(crate) fn from_parts(
        io: S,
        conn: Connection,
        clock: Clock,
        protocol: Option<String>,
        leftover: &[u8],
    ) -> Self {
        let mut ws = WebSocket {
            io,
            conn,
            clock,
            protocol,
            close_info: None,
            finished: false,
        };
        if leftover.is_empty() {
            // Nothing received yet: give back the receive buffer the machine starts with. Reads
            // go through the thread's buffer, so it is allocated again only as bytes arrive.
            let recv = ws.conn.input_buffer(0);
            if recv.is_empty() {
                *recv = BytesMut::new();
            }
        } else {
            let now = ws.clock.now();
            ws.conn.handle_input(now, leftover);
        }
        ws
    }

    /// The subprotocol the handshake selected, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// How the connection ended, once it has.
    pub fn close_info(&self) -> Option<&CloseInfo> {
        self.close_info.as_ref()
    }

    /// The core machine, for its getters.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The next event: a message, a chunk, a ping or pong, or `Closed`. Returns `Ok(None)` after
    /// `Closed` has been returned and the transport has been closed. Writes what the machine has
    /// queued (pongs, close replies) before waiting for input, and fires its timers.
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(event) = self.conn.poll_event() {
                if let Event::Closed(info) = &event {
                    self.close_info = Some(info.clone());
                    self.flush().await?;
                    if self.conn.role() == Role::Server {
                        // RFC 6455 §7.1.1: the server closes the TCP connection first.
                        let _ = self.io.shutdown().await;
                    }
                }
                return Ok(Some(event));
            }
            self.flush().await?;
            if self.conn.state() == State::Closed {
                self.finish_transport().await;
                return Ok(None);
            }
            self.wait_for_input().await?;
        }
    }

    /// The next message; pings, pongs and chunks are skipped (pongs are sent automatically unless
    /// the config says otherwise). `Ok(None)` once the connection is closed: see
    /// [`close_info`](Self::close_info) for how.
    pub async fn recv(&mut self) -> Result<Option<Message>, Error> {
        while let Some(event) = self.next_event().await? {
            if let Event::Message(m) = event {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Queue a message without writing it; it goes out with the next `flush`, `send` or
    /// `next_event`. Lets a burst of messages share one write.
    pub fn feed(&mut self, message: &Message) -> Result<(), Error> {
        Ok(self.conn.send(message)?)
    }

    /// Queue a message and write everything queued.
    pub async fn send(&mut self, message: &Message) -> Result<(), Error> {
        self.feed(message)?;
        self.flush().await
    }

    /// Send a text message.
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.conn.send_text(text)?;
        self.flush().await
    }

    /// Send a binary message.
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.send_binary(data)?;
        self.flush().await
    }

    /// Send a ping.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.ping(payload)?;
        self.flush().await
    }

    /// Direct access to the machine's application calls (fragments, pongs…); follow with
    /// [`flush`](Self::flush).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Start the closing handshake and wait for it to finish (or time out). Messages that arrive
    /// meanwhile are dropped; use `conn.close` and `next_event` to see them.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseInfo, Error> {
        let now = self.clock.now();
        if self.conn.state() == State::Open {
            self.conn.close(now, code, reason)?;
        }
        while self.next_event().await?.is_some() {}
        Ok(self
            .close_info
            .clone()
            .expect("the connection reports Closed before it finishes"))
    }

    /// Write everything the machine has queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        while !self.conn.pending_transmit().is_empty() {
            let n = self.io.write(self.conn.pending_transmit()).await?;
            if n == 0 {
                return Err(Error::Io(io::ErrorKind::WriteZero.into()));
            }
            self.conn.advance_transmit(n);
        }
        self.io.flush().await?;
        Ok(())
    }

    /// Read once (or fire the timer), feeding the machine.
    async fn wait_for_input(&mut self) -> Result<(), Error> {
        let deadline = self.conn.poll_timeout().map(|at| self.clock.to_tokio(at));
        let (io, conn, clock) = (&mut self.io, &mut self.conn, &self.clock);
        let read = tokio::select! {
            r = std::future::poll_fn(|cx| poll_read_into(io, conn, clock, cx)) => Some(r),
            _ = sleep_until(deadline) => None,
        };
        let now = self.clock.now();
        match read {
            Some(Ok(0)) => self.conn.handle_eof(now),
            Some(Ok(_)) => {} // handed to the machine by `poll_read_into`
            Some(Err(e)) if is_reset(&e) => self.conn.handle_eof(now),
            Some(Err(e)) => return Err(e.into()),
            None => self.conn.handle_timeout(now),
        }
        Ok(())
    }

    /// After `Closed`: let the peer close its side (bounded by `close_timeout`), then close ours.
    async fn finish_transport(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let linger = self.conn.config().close_timeout;
        let io = &mut self.io;
        // The peer's last bytes go through the thread's buffer and are dropped: a buffer here
        // would live in every `next_event` future, idle or not.
        let _ = tokio::time::timeout(linger, async {
            while let Ok(n) = std::future::poll_fn(|cx| poll_discard(io, cx)).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        let _ = self.io.shutdown().await;
    }
}

/// One read into this thread's buffer; whatever arrived goes to the machine before the buffer is
/// released. Cancel-safe: nothing is held between polls.
fn poll_read_into<S: AsyncRead + Unpin>(
    io: &mut S,
    conn: &mut Connection,
    clock: &Clock,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    READ_BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        let mut read = ReadBuf::new(&mut buf[..]);
        ready!(Pin::new(io).poll_read(cx, &mut read))?;
        let n = read.filled().len();
        if n > 0 {
            conn.handle_input(clock.now(), read.filled());
        }
        Poll::Ready(Ok(n))
    })
}

/// One read into this thread's buffer, dropping what arrived.
fn poll_discard<S: AsyncRead + Unpin>(io: &mut S, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
    READ_BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        let mut read = ReadBuf::new(&mut buf[..]);
        ready!(Pin::new(io).poll_read(cx, &mut read))?;
        Poll::Ready(Ok(read.filled().len()))
    })
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Convenience: a text message from a `&str`.
pub fn text(s: &str) -> Message {
    Message::Text(String::from(s).into())
}

/// Convenience: a binary message.
pub fn binary(b: impl Into<Bytes>) -> Message {
    Message::Binary(b.into())
}
