//! A blocking STOMP client: a [`StompSocket`] driven by its own `mio::Poll`, with the method
//! names of `duplex_tokio::stomp::StompClient`.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use duplex_core::stomp::{
    AckMode, ClientConfig, ClientEvent, ClientSession, Message, ReceiptId, SubscriptionId,
    TransactionId,
};
use mio::{Registry, Token};

use super::{StompError, StompSocket};
use crate::blocking::{deadline_after, Driver, Pollable};
use crate::Error;

impl Pollable for StompSocket {
    fn register(&mut self, registry: &Registry, token: Token) -> Result<(), Error> {
        StompSocket::register(self, registry, token).map_err(into_transport)
    }
    fn handle_ready(
        &mut self,
        registry: &Registry,
        event: &mio::event::Event,
    ) -> Result<(), Error> {
        StompSocket::handle_ready(self, registry, event).map_err(into_transport)
    }
    fn handle_timeout(&mut self) {
        StompSocket::handle_timeout(self)
    }
    fn next_deadline(&self) -> Option<std::time::Instant> {
        StompSocket::next_deadline(self)
    }
}

fn into_transport(e: StompError) -> Error {
    match e {
        StompError::Transport(e) => e,
        other => Error::Io(std::io::Error::other(other.to_string())),
    }
}

/// A connected STOMP client, blocking.
///
/// Application calls (`subscribe`, `send`, `ack`…) queue frames and write them at once;
/// [`next_event`](Self::next_event) reads, fires heart-beat timers and returns what happened;
/// [`next_event_timeout`](Self::next_event_timeout) gives up after a while.
#[derive(Debug)]
pub struct StompClient {
    socket: StompSocket,
    driver: Driver,
    /// Events read while waiting for something else (a receipt), returned first.
    held: VecDeque<ClientEvent>,
}

impl StompClient {
    /// Connect over TCP to `addr` (`host:port`) and complete CONNECT/CONNECTED.
    pub fn connect_tcp(addr: &str, config: ClientConfig) -> Result<StompClient, StompError> {
        Self::start(StompSocket::connect_tcp(addr, config)?)
    }

    /// Connect over WebSocket to `url`, offering the STOMP subprotocols, and complete
    /// CONNECT/CONNECTED.
    pub fn connect_ws(url: &str, config: ClientConfig) -> Result<StompClient, StompError> {
        Self::start(StompSocket::connect_ws(url, config)?)
    }

    /// [`connect_ws`](Self::connect_ws) with your WebSocket options (TLS roots for `wss://`…).
    pub fn connect_ws_with(
        url: &str,
        options: crate::ws::ConnectOptions,
        config: ClientConfig,
    ) -> Result<StompClient, StompError> {
        Self::start(StompSocket::connect_ws_with(url, options, config)?)
    }

    fn start(mut socket: StompSocket) -> Result<StompClient, StompError> {
        let driver = Driver::new(&mut socket)?;
        let mut client = StompClient {
            socket,
            driver,
            held: VecDeque::new(),
        };
        loop {
            match client.next_event()? {
                Some(ClientEvent::Connected { .. }) => return Ok(client),
                Some(ClientEvent::Error(frame)) => return Err(StompError::Server(Box::new(frame))),
                Some(_) => continue,
                None => return Err(StompError::Closed),
            }
        }
    }

    /// The session machine, for getters (version, negotiated heart-beats…).
    pub fn session(&self) -> &ClientSession {
        self.socket
            .session()
            .expect("a StompClient exists once the session started")
    }

    /// The event-loop socket underneath.
    pub fn socket(&self) -> &StompSocket {
        &self.socket
    }

    /// The next event. `Ok(None)` once the session has closed and the transport is shut.
    pub fn next_event(&mut self) -> Result<Option<ClientEvent>, StompError> {
        self.next_event_until(None)
    }

    /// [`next_event`](Self::next_event), giving up after `timeout` with an error for which
    /// [`StompError::is_timeout`] holds (nothing is lost: call again).
    pub fn next_event_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<ClientEvent>, StompError> {
        self.next_event_until(Some(deadline_after(timeout)))
    }

    fn next_event_until(
        &mut self,
        until: Option<std::time::Instant>,
    ) -> Result<Option<ClientEvent>, StompError> {
        loop {
            if let Some(event) = self.held.pop_front() {
                return Ok(Some(event));
            }
            if let Some(event) = self.socket.poll_event()? {
                return Ok(Some(event));
            }
            self.socket.flush(self.driver.registry())?;
            if self.socket.is_finished() {
                return Ok(None);
            }
            self.driver.wait(&mut self.socket, until)?;
        }
    }

    /// Wait for the RECEIPT with this id; other events that arrive meanwhile are kept for
    /// [`next_event`](Self::next_event).
    pub fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), StompError> {
        let mut seen = VecDeque::new();
        let result = loop {
            match self.next_event() {
                Ok(Some(ClientEvent::Receipt(r))) if &r == receipt => break Ok(()),
                Ok(Some(ClientEvent::Error(frame))) => {
                    break Err(StompError::Server(Box::new(frame)))
                }
                Ok(Some(other)) => seen.push_back(other),
                Ok(None) => break Err(StompError::Closed),
                Err(e) => break Err(e),
            }
        };
        seen.extend(self.held.drain(..));
        self.held = seen;
        result
    }

    fn session_mut(&mut self) -> Result<&mut ClientSession, StompError> {
        self.socket.session_mut()
    }

    /// SUBSCRIBE.
    pub fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
    ) -> Result<SubscriptionId, StompError> {
        let id = self.session_mut()?.subscribe(destination, ack, headers)?;
        self.flush()?;
        Ok(id)
    }

    /// UNSUBSCRIBE.
    pub fn unsubscribe(&mut self, id: &SubscriptionId) -> Result<(), StompError> {
        self.session_mut()?.unsubscribe(id)?;
        self.flush()
    }

    /// SEND; with `receipt`, returns the id to [`wait_receipt`](Self::wait_receipt) for.
    pub fn send(
        &mut self,
        destination: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> Result<Option<ReceiptId>, StompError> {
        let r = self
            .session_mut()?
            .send(destination, body, headers, receipt)?;
        self.flush()?;
        Ok(r)
    }

    /// ACK a message.
    pub fn ack(&mut self, message: &Message, tx: Option<&TransactionId>) -> Result<(), StompError> {
        self.session_mut()?.ack(message, tx)?;
        self.flush()
    }

    /// NACK a message.
    pub fn nack(
        &mut self,
        message: &Message,
        tx: Option<&TransactionId>,
    ) -> Result<(), StompError> {
        self.session_mut()?.nack(message, tx)?;
        self.flush()
    }

    /// BEGIN a transaction.
    pub fn begin(&mut self) -> Result<TransactionId, StompError> {
        let tx = self.session_mut()?.begin()?;
        self.flush()?;
        Ok(tx)
    }

    /// COMMIT a transaction.
    pub fn commit(&mut self, tx: &TransactionId) -> Result<(), StompError> {
        self.session_mut()?.commit(tx)?;
        self.flush()
    }

    /// ABORT a transaction.
    pub fn abort(&mut self, tx: &TransactionId) -> Result<(), StompError> {
        self.session_mut()?.abort(tx)?;
        self.flush()
    }

    /// Graceful DISCONNECT: send it with a receipt, wait for the RECEIPT (or the session's
    /// disconnect timeout), then close the transport.
    pub fn disconnect(mut self) -> Result<(), StompError> {
        self.session_mut()?.disconnect()?;
        while self.next_event()?.is_some() {}
        Ok(())
    }

    /// Write what the session has queued, blocking until the socket took it.
    pub fn flush(&mut self) -> Result<(), StompError> {
        loop {
            self.socket.flush(self.driver.registry())?;
            if !self.socket.wants_write() || self.socket.is_finished() {
                return Ok(());
            }
            self.driver.wait(&mut self.socket, None)?;
        }
    }
}
