//! One non-blocking TCP connection, plain or TLS, as the sockets of this crate drive it: connect
//! (trying each resolved address in turn), read what is there, write what fits, shut down, and
//! say which readiness it waits for.
//!
//! TLS drives rustls's state machine directly, the way rustls's `tlsclient-mio` and
//! `tlsserver-mio` examples do: `read_tls` → `process_new_packets` → `reader()` for input,
//! `writer()` → `write_tls` for output, and `wants_write()` decides whether we wait for
//! writability. Handshake records rustls queues while reading are written at once.
//!
//! mio reports readiness edge-triggered: a readable edge stays "owed" (`readable`) until a read
//! hits `WouldBlock`, so the owner may read in slices without losing the edge.
//!
//! Reads go into one buffer per thread ([`READ_CHUNK`] bytes) and what arrived is handed to the
//! caller's sink before [`Io::read`] returns (the WebSocket machine copies it into its receive
//! buffer, unmasking on the way). A connection waiting for input therefore holds no read buffer of
//! its own: idle connections stay small, however large the reads of busy ones.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

/// The size of the per-thread read buffer: the most one read asks the socket (or rustls) for.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    /// Shared by every connection read on this thread. Taken for one read and put back at once;
    /// a nested read (a sink that reads) would find it gone and use a buffer of its own.
    static READ_BUF: Cell<Option<Box<[u8]>>> = const { Cell::new(None) };
}

/// Run `f` with this thread's read buffer.
fn with_read_buf<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    let mut buf = READ_BUF
        .take()
        .unwrap_or_else(|| vec![0; READ_CHUNK].into_boxed_slice());
    let result = f(&mut buf);
    READ_BUF.set(Some(buf));
    result
}

/// What one read gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// This many bytes were handed to the sink.
    Data(usize),
    /// Nothing more until the next readable event.
    WouldBlock,
    /// The peer will send nothing more.
    Eof,
}

#[derive(Debug)]
struct Connecting {
    /// Addresses to try after the current one fails.
    rest: Vec<SocketAddr>,
    last_error: Option<io::Error>,
}

/// A TCP stream, maybe wrapped in TLS, with its registration and readiness state.
#[derive(Debug)]
pub(crate) struct Io {
    tcp: TcpStream,
    tls: Option<Box<rustls::Connection>>,
    connecting: Option<Connecting>,
    registered: Option<(Token, Interest)>,
    /// A readable edge (or the start) not yet read through to `WouldBlock`.
    readable: bool,
    /// The read side is finished (EOF, clean TLS close, or an error).
    eof: bool,
    /// We want our write side shut once everything queued is written.
    shutdown_requested: bool,
    /// The write side is shut.
    write_shut: bool,
}

impl Io {
    /// An accepted connection; `tls` is a fresh server-side rustls connection for `wss`.
    pub(crate) fn accepted(tcp: TcpStream, tls: Option<rustls::ServerConnection>) -> Io {
        let _ = tcp.set_nodelay(true);
        Io::new(tcp, tls.map(rustls::Connection::Server), None)
    }

    /// Start connecting to the first of `addrs`; the others are tried in turn if it fails.
    pub(crate) fn connect(
        addrs: Vec<SocketAddr>,
        tls: Option<rustls::ClientConnection>,
    ) -> io::Result<Io> {
        let mut rest = addrs;
        rest.reverse();
        let mut last_error = None;
        while let Some(addr) = rest.pop() {
            match TcpStream::connect(addr) {
                Ok(tcp) => {
                    let connecting = Connecting {
                        rest,
                        last_error: None,
                    };
                    return Ok(Io::new(
                        tcp,
                        tls.map(rustls::Connection::Client),
                        Some(connecting),
                    ));
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "the host resolved to no address")
        }))
    }

    fn new(tcp: TcpStream, tls: Option<rustls::Connection>, connecting: Option<Connecting>) -> Io {
        Io {
            tcp,
            tls: tls.map(Box::new),
            connecting,
            registered: None,
            readable: true,
            eof: false,
            shutdown_requested: false,
            write_shut: false,
        }
    }

    // --- registration ---

    /// Register with `registry` under `token` for the interest wanted now.
    pub(crate) fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        want_write: bool,
    ) -> io::Result<()> {
        let interest = self.interest(want_write);
        registry.register(&mut self.tcp, token, interest)?;
        self.registered = Some((token, interest));
        Ok(())
    }

    /// Remove the registration.
    pub(crate) fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        if self.registered.take().is_some() {
            registry.deregister(&mut self.tcp)?;
        }
        Ok(())
    }

    /// The interest to wait for: readable until the read side ends, writable while the caller
    /// (`want_write`) or rustls has bytes to write, or while connecting.
    pub(crate) fn interest(&self, want_write: bool) -> Interest {
        let write = self.connecting.is_some()
            || (!self.write_shut && (want_write || self.tls_wants_write()));
        match (self.eof, write) {
            (false, true) => Interest::READABLE | Interest::WRITABLE,
            (true, true) => Interest::WRITABLE,
            // Nothing to wait for once both are done; stay registered for readable (hang-ups).
            (_, false) => Interest::READABLE,
        }
    }

    /// Re-register if the interest changed (a changed registration also re-reports current
    /// readiness, so no edge is lost).
    pub(crate) fn update_interest(
        &mut self,
        registry: &Registry,
        want_write: bool,
    ) -> io::Result<()> {
        let interest = self.interest(want_write);
        if let Some((token, current)) = self.registered {
            if current != interest {
                registry.reregister(&mut self.tcp, token, interest)?;
                self.registered = Some((token, interest));
            }
        }
        Ok(())
    }

    // --- readiness ---

    /// A readiness event for this connection arrived. Finishes a pending connect (trying the
    /// next address, re-registered under the same token, if this one failed).
    pub(crate) fn handle_ready(
        &mut self,
        registry: &Registry,
        event: &mio::event::Event,
    ) -> io::Result<()> {
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.readable = true;
        }
        if self.connecting.is_some()
            && (event.is_writable() || event.is_error() || event.is_write_closed())
        {
            self.finish_connect(registry)?;
        }
        Ok(())
    }

    fn finish_connect(&mut self, registry: &Registry) -> io::Result<()> {
        let error = match self.tcp.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match self.tcp.peer_addr() {
                Ok(_) => None,
                // Not connected yet: a spurious event.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(()),
                Err(e) => Some(e),
            },
        };
        let Some(error) = error else {
            self.connecting = None;
            self.readable = true;
            let _ = self.tcp.set_nodelay(true);
            return Ok(());
        };
        let connecting = self.connecting.as_mut().expect("connecting");
        connecting.last_error = Some(error);
        while let Some(addr) = connecting.rest.pop() {
            match TcpStream::connect(addr) {
                Ok(tcp) => {
                    if let Some((token, _)) = self.registered.take() {
                        let _ = registry.deregister(&mut self.tcp);
                        self.tcp = tcp;
                        self.register(registry, token, true)?;
                    } else {
                        self.tcp = tcp;
                    }
                    return Ok(());
                }
                Err(e) => connecting.last_error = Some(e),
            }
        }
        Err(connecting.last_error.take().expect("an error was recorded"))
    }

    /// Still connecting.
    pub(crate) fn is_connecting(&self) -> bool {
        self.connecting.is_some()
    }

    /// A read may find something: a readable edge has not been read through yet.
    pub(crate) fn may_read(&self) -> bool {
        self.readable && !self.eof && self.connecting.is_none()
    }

    /// The read side has ended.
    pub(crate) fn is_eof(&self) -> bool {
        self.eof
    }

    // --- reading ---

    /// Read once (plain) or until some plaintext is there (TLS), into this thread's buffer; what
    /// arrived is handed to `sink` (once, with `Data(n)`'s `n` bytes) before this returns.
    pub(crate) fn read(&mut self, sink: impl FnOnce(&[u8])) -> io::Result<ReadOutcome> {
        if self.eof {
            return Ok(ReadOutcome::Eof);
        }
        if self.connecting.is_some() || !self.readable {
            return Ok(ReadOutcome::WouldBlock);
        }
        let outcome = with_read_buf(|buf| {
            let outcome = if self.tls.is_some() {
                self.read_tls(buf)
            } else {
                read_plain(&mut self.tcp, buf)
            };
            if let Ok(ReadOutcome::Data(n)) = outcome {
                sink(&buf[..n]);
            }
            outcome
        });
        match outcome {
            Ok(ReadOutcome::WouldBlock) => self.readable = false,
            Ok(ReadOutcome::Eof) => self.eof = true,
            Ok(ReadOutcome::Data(_)) => {}
            Err(ref e) if is_reset(e) => {
                self.eof = true;
                return Ok(ReadOutcome::Eof);
            }
            Err(_) => self.eof = true,
        }
        outcome
    }

    fn read_tls(&mut self, buf: &mut [u8]) -> io::Result<ReadOutcome> {
        let tls = self.tls.as_mut().expect("a TLS connection");
        loop {
            // Plaintext rustls already decrypted comes first.
            match tls.reader().read(buf) {
                Ok(0) => return Ok(ReadOutcome::Eof), // close_notify: a clean end
                Ok(n) => return Ok(ReadOutcome::Data(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(ReadOutcome::Eof),
                Err(e) => return Err(e),
            }
            match tls.read_tls(&mut self.tcp) {
                Ok(_) => {
                    // `Ok(0)` is TCP EOF: rustls notes it, and its reader reports it next round.
                    if let Err(error) = tls.process_new_packets() {
                        // Send the alert rustls queued, best effort, then fail.
                        let _ = tls.write_tls(&mut self.tcp);
                        return Err(io::Error::new(io::ErrorKind::InvalidData, error));
                    }
                    // Handshake answers (and key updates) go out without waiting for the caller.
                    write_tls_records(tls, &mut self.tcp)?;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(ReadOutcome::WouldBlock)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    // --- writing ---

    /// Write what fits of `data` now; 0 when the transport cannot take more (wait for the
    /// writable edge: [`interest`](Self::interest) asks for it while you have bytes left).
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.connecting.is_some() || self.write_shut || data.is_empty() {
            return Ok(0);
        }
        let Some(tls) = self.tls.as_mut() else {
            loop {
                return match self.tcp.write(data) {
                    Ok(n) => Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
            }
        };
        let mut written = 0;
        let mut stalled = 0;
        loop {
            // rustls takes plaintext up to its buffer limit, then we push records out.
            let n = tls.writer().write(&data[written..])?;
            written += n;
            let blocked = !write_tls_records(tls, &mut self.tcp)?;
            // Out of room without `WouldBlock` only while handshaking (rustls holds plaintext
            // until the handshake is done; reading completes it, and the owner writes again).
            if written == data.len() || blocked || (n == 0 && tls.is_handshaking()) {
                return Ok(written);
            }
            if n == 0 {
                stalled += 1;
                if stalled > 1 {
                    return Ok(written);
                }
            }
        }
    }

    /// Push out TLS records rustls has queued, and shut the write side if that was asked for and
    /// everything is out.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        if self.connecting.is_some() || self.write_shut {
            return Ok(());
        }
        if let Some(tls) = self.tls.as_mut() {
            write_tls_records(tls, &mut self.tcp)?;
        }
        if self.shutdown_requested && !self.tls_wants_write() {
            self.write_shut = true;
            let _ = self.tcp.shutdown(Shutdown::Write);
        }
        Ok(())
    }

    /// rustls has records to write.
    pub(crate) fn tls_wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// Close our write side once what is queued is out (TLS: after a `close_notify`).
    pub(crate) fn shutdown_write(&mut self) -> io::Result<()> {
        if self.shutdown_requested {
            return Ok(());
        }
        self.shutdown_requested = true;
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
        }
        self.flush()
    }

    /// Our write side is shut.
    pub(crate) fn is_write_shut(&self) -> bool {
        self.write_shut
    }

    /// Close both directions now.
    pub(crate) fn close(&mut self) {
        self.eof = true;
        self.write_shut = true;
        let _ = self.tcp.shutdown(Shutdown::Both);
    }

    /// The TCP stream.
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.tcp
    }
}

/// Write queued TLS records until rustls has none or the socket would block. `Ok(false)` when it
/// would block with records left.
fn write_tls_records(tls: &mut rustls::Connection, tcp: &mut TcpStream) -> io::Result<bool> {
    while tls.wants_write() {
        match tls.write_tls(tcp) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn read_plain(tcp: &mut TcpStream, buf: &mut [u8]) -> io::Result<ReadOutcome> {
    loop {
        match tcp.read(buf) {
            Ok(0) => return Ok(ReadOutcome::Eof),
            Ok(n) => return Ok(ReadOutcome::Data(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(ReadOutcome::WouldBlock),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The peer reset or aborted the connection: for us, the same as EOF.
pub(crate) fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
