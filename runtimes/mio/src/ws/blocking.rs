//! The blocking convenience layer: a [`Socket`] in a private `Poll`, with the method names of
//! `duplex_tokio::ws` (`connect`, `accept_with`, `next_event`, `recv`, `send`…), blocking.

use std::time::Duration;

use bytes::Bytes;
use duplex_core::ws::handshake::{HandshakeError, RequestHead};
use duplex_core::ws::{CloseCode, CloseInfo, Connection, Event, Message, Role};
use mio::{Registry, Token};

use super::options::{AcceptOptions, ConnectOptions};
use super::socket::{Socket, SocketEvent};
use crate::blocking::{deadline_after, Driver, Pollable};
use crate::Error;

impl Pollable for Socket {
    fn register(&mut self, registry: &Registry, token: Token) -> Result<(), Error> {
        Socket::register(self, registry, token)
    }
    fn handle_ready(
        &mut self,
        registry: &Registry,
        event: &mio::event::Event,
    ) -> Result<(), Error> {
        Socket::handle_ready(self, registry, event)
    }
    fn handle_timeout(&mut self) {
        Socket::handle_timeout(self)
    }
    fn next_deadline(&self) -> Option<std::time::Instant> {
        Socket::next_deadline(self)
    }
}

/// A blocking WebSocket connection: a [`Socket`] driven by its own `mio::Poll`.
#[derive(Debug)]
pub struct WebSocket {
    socket: Socket,
    driver: Driver,
}

/// Connect to a `ws://` or `wss://` URL with default options, blocking until the handshake is done.
pub fn connect(url: &str) -> Result<WebSocket, Error> {
    connect_with(url, ConnectOptions::default())
}

/// Connect to a `ws://` or `wss://` URL, blocking until the handshake is done.
pub fn connect_with(url: &str, options: ConnectOptions) -> Result<WebSocket, Error> {
    let mut ws = WebSocket::start(Socket::connect(url, options)?)?;
    loop {
        match ws.socket.poll_event()? {
            Some(SocketEvent::Open { .. }) => return Ok(ws),
            Some(_) => continue,
            None => ws.wait(None)?,
        }
    }
}

/// What arrived on an accepted stream.
#[derive(Debug)]
pub enum Incoming {
    /// A WebSocket upgrade, accepted.
    WebSocket(Box<WebSocket>, RequestHead),
    /// A plain HTTP request: answer it with [`HttpResponder::respond`].
    Http(RequestHead, Box<HttpResponder>),
}

/// Answers one plain HTTP request, then closes the stream.
#[derive(Debug)]
pub struct HttpResponder {
    ws: WebSocket,
}

impl HttpResponder {
    /// Write `response` (see [`http_response`](duplex_core::ws::handshake::http_response)) and close.
    pub fn respond(mut self, response: Bytes) -> Result<(), Error> {
        self.ws.socket.respond(response)?;
        self.ws.run_to_end()
    }

    /// Answer `426 Upgrade Required` and close.
    pub fn reject(mut self) -> Result<(), Error> {
        self.ws.socket.reject()?;
        self.ws.run_to_end()
    }
}

/// Accept a WebSocket connection on a stream your listener accepted, with default options; a
/// plain HTTP request gets `426`.
pub fn accept(tcp: std::net::TcpStream) -> Result<WebSocket, Error> {
    match accept_with(tcp, AcceptOptions::default())? {
        Incoming::WebSocket(ws, _) => Ok(*ws),
        Incoming::Http(_, responder) => {
            responder.reject()?;
            Err(Error::Handshake(HandshakeError::NotUpgrade))
        }
    }
}

/// Run TLS (with `options.tls`) and the server handshake on an accepted stream, blocking. Refused
/// requests are answered (400, 403, 408, 426, 431…) and end in `Err(Error::Handshake)`.
pub fn accept_with(tcp: std::net::TcpStream, options: AcceptOptions) -> Result<Incoming, Error> {
    tcp.set_nonblocking(true)?;
    let tcp = mio::net::TcpStream::from_std(tcp);
    let mut ws = WebSocket::start(Socket::accept(tcp, &options)?)?;
    loop {
        match ws.socket.poll_event()? {
            Some(SocketEvent::Open { request, .. }) => {
                let request = request.map(|r| *r).unwrap_or_default();
                return Ok(Incoming::WebSocket(Box::new(ws), request));
            }
            Some(SocketEvent::HttpRequest(request)) => {
                return Ok(Incoming::Http(*request, Box::new(HttpResponder { ws })))
            }
            Some(SocketEvent::Rejected { error, .. }) => {
                ws.run_to_end()?;
                return Err(error.into());
            }
            Some(SocketEvent::Ws(_)) => continue,
            None => ws.wait(None)?,
        }
    }
}

impl WebSocket {
    fn start(mut socket: Socket) -> Result<WebSocket, Error> {
        let driver = Driver::new(&mut socket)?;
        Ok(WebSocket { socket, driver })
    }

    /// Write what is queued, then block for readiness or the next deadline (or `until`).
    fn wait(&mut self, until: Option<std::time::Instant>) -> Result<(), Error> {
        self.socket.flush(self.driver.registry())?;
        if self.socket.is_finished() {
            return Ok(());
        }
        self.driver.wait(&mut self.socket, until)
    }

    /// Drive until the transport is closed (events are dropped).
    fn run_to_end(&mut self) -> Result<(), Error> {
        loop {
            while self.socket.poll_event()?.is_some() {}
            self.socket.flush(self.driver.registry())?;
            if self.socket.is_finished() {
                return Ok(());
            }
            self.driver.wait(&mut self.socket, None)?;
        }
    }

    /// The subprotocol the handshake selected, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.socket.protocol()
    }

    /// How the connection ended, once it has.
    pub fn close_info(&self) -> Option<&CloseInfo> {
        self.socket.close_info()
    }

    /// The core machine, for its getters.
    pub fn connection(&self) -> &Connection {
        self.socket
            .connection()
            .expect("a WebSocket exists once the handshake completed")
    }

    /// Direct access to the machine's application calls (fragments, pongs…); follow with
    /// [`flush`](Self::flush).
    pub fn connection_mut(&mut self) -> &mut Connection {
        self.socket
            .connection_mut()
            .expect("a WebSocket exists once the handshake completed")
    }

    /// The event-loop socket underneath.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The next event: a message, a chunk, a ping or pong, or `Closed`. Returns `Ok(None)` after
    /// `Closed` has been returned and the transport has been closed. Writes what the machine has
    /// queued (pongs, close replies) before waiting for input, and fires its timers.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        self.next_event_until(None)
    }

    /// [`next_event`](Self::next_event), giving up after `timeout` with an error for which
    /// [`Error::is_timeout`] holds (nothing is lost: call again).
    pub fn next_event_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, Error> {
        self.next_event_until(Some(deadline_after(timeout)))
    }

    fn next_event_until(
        &mut self,
        until: Option<std::time::Instant>,
    ) -> Result<Option<Event>, Error> {
        loop {
            match self.socket.poll_event()? {
                Some(SocketEvent::Ws(event)) => return Ok(Some(event)),
                Some(_) => continue,
                None => {}
            }
            if self.socket.is_finished() {
                return Ok(None);
            }
            self.wait(until)?;
        }
    }

    /// The next message; pings, pongs and chunks are skipped (pongs are sent automatically unless
    /// the config says otherwise). `Ok(None)` once the connection is closed: see
    /// [`close_info`](Self::close_info) for how.
    pub fn recv(&mut self) -> Result<Option<Message>, Error> {
        while let Some(event) = self.next_event()? {
            if let Event::Message(m) = event {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Queue a message without writing it; it goes out with the next `flush`, `send` or
    /// `next_event`. Lets a burst of messages share one write.
    pub fn feed(&mut self, message: &Message) -> Result<(), Error> {
        self.socket.send(message)
    }

    /// Queue a message and write everything queued.
    pub fn send(&mut self, message: &Message) -> Result<(), Error> {
        self.feed(message)?;
        self.flush()
    }

    /// Send a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.socket.send_text(text)?;
        self.flush()
    }

    /// Send a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.socket.send_binary(data)?;
        self.flush()
    }

    /// Send a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.socket.ping(payload)?;
        self.flush()
    }

    /// Start the closing handshake and wait for it to finish (or time out). Messages that arrive
    /// meanwhile are dropped; use [`Socket::close`] and `next_event` to see them.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<CloseInfo, Error> {
        if self.socket.is_open() {
            self.socket.close(code, reason)?;
        }
        while self.next_event()?.is_some() {}
        Ok(self
            .close_info()
            .cloned()
            .expect("the connection reports Closed before it finishes"))
    }

    /// Write everything the machine has queued, blocking until the socket took it.
    pub fn flush(&mut self) -> Result<(), Error> {
        loop {
            self.socket.flush(self.driver.registry())?;
            if !self.socket.wants_write() || self.socket.is_finished() {
                return Ok(());
            }
            self.driver.wait(&mut self.socket, None)?;
        }
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.socket.role()
    }
}
