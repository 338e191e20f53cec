//! A STOMP client on any [`Dial`] runtime: the core's [`ClientSession`] over TCP or WebSocket.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use duplex_core::stomp::{
    AckMode, ClientConfig, ClientEvent, ClientSession, Frame, Message, ReceiptId, SubscriptionId,
    TransactionId,
};

use super::StompTransport;
use crate::runtime::{until, Clock, Dial};
use crate::ws::stomp_subprotocols;
use crate::{ConnectOptions, Error};

/// Why a STOMP operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StompError {
    /// The transport or WebSocket failed.
    #[error(transparent)]
    Transport(#[from] Error),
    /// The session refused the call.
    #[error(transparent)]
    Local(#[from] duplex_core::stomp::LocalError),
    /// The server sent ERROR.
    #[error("server ERROR: {}", .0.get("message").unwrap_or(""))]
    Server(Box<Frame>),
    /// The session closed (heart-beat timeout, protocol error, transport gone).
    #[error("session closed")]
    Closed,
}

/// How much a read takes from the transport at most.
const READ_CHUNK: usize = 16 * 1024;

/// A connected STOMP client.
///
/// Application calls (`subscribe`, `send`, `ack`…) queue frames and write them at once;
/// [`next_event`](Self::next_event) reads, fires heart-beat timers and returns what happened.
/// Every `async fn` is cancel-safe: a dropped call loses nothing that was queued or read.
pub struct StompClient<R: Dial> {
    session: ClientSession,
    transport: R::Transport,
    clock: R::Clock,
    inbox: BytesMut,
    /// Stream reads land here first (`futures-io` reads into initialised memory).
    scratch: Box<[u8]>,
    /// Events read while waiting for something else (a receipt), returned first.
    held: VecDeque<ClientEvent>,
    closed: bool,
}

impl<R: Dial> std::fmt::Debug for StompClient<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StompClient")
            .field("session", &self.session)
            .field("transport", &self.transport)
            .field("clock", &self.clock)
            .field("held", &self.held)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl<R: Dial> StompClient<R> {
    /// Connect over TCP to `addr` (`host:port`) and complete CONNECT/CONNECTED.
    pub async fn connect_tcp(addr: &str, config: ClientConfig) -> Result<Self, StompError> {
        Self::start(R::connect_tcp(addr).await?, config).await
    }

    /// Connect over WebSocket to `url`, offering the STOMP subprotocols, and complete
    /// CONNECT/CONNECTED.
    pub async fn connect_ws(url: &str, config: ClientConfig) -> Result<Self, StompError> {
        Self::connect_ws_with(url, ConnectOptions::default(), config).await
    }

    /// [`connect_ws`](Self::connect_ws) with WebSocket options (TLS roots for `wss://`, headers,
    /// limits). When `options.protocols` is empty, the STOMP subprotocols are offered.
    pub async fn connect_ws_with(
        url: &str,
        options: ConnectOptions,
        config: ClientConfig,
    ) -> Result<Self, StompError> {
        let mut options = options;
        if options.protocols.is_empty() {
            options.protocols = stomp_subprotocols();
        }
        let transport = R::connect_ws(url, options).await?;
        let mut config = config;
        if config.accept_versions.is_empty() {
            config.accept_versions =
                duplex_core::stomp::ws::accept_versions_for(transport.protocol()).to_vec();
        }
        Self::start(transport, config).await
    }

    async fn start(transport: R::Transport, config: ClientConfig) -> Result<Self, StompError> {
        let clock = R::Clock::start();
        let session = ClientSession::new(clock.now(), config)?;
        let mut client = StompClient {
            session,
            transport,
            clock,
            inbox: BytesMut::with_capacity(READ_CHUNK),
            scratch: vec![0u8; READ_CHUNK].into_boxed_slice(),
            held: VecDeque::new(),
            closed: false,
        };
        loop {
            match client.next_event().await? {
                Some(ClientEvent::Connected { .. }) => return Ok(client),
                Some(ClientEvent::Error(frame)) => return Err(StompError::Server(Box::new(frame))),
                Some(_) => continue,
                None => return Err(StompError::Closed),
            }
        }
    }

    /// The session machine, for getters (version, negotiated heart-beats…).
    pub fn session(&self) -> &ClientSession {
        &self.session
    }

    /// The next event. `Ok(None)` once the session has closed and the transport is shut.
    pub async fn next_event(&mut self) -> Result<Option<ClientEvent>, StompError> {
        loop {
            if let Some(event) = self.held.pop_front().or_else(|| self.session.poll_event()) {
                return Ok(Some(event));
            }
            self.flush().await?;
            if self.session.is_closed() {
                if !self.closed {
                    self.closed = true;
                    let _ = self.transport.close().await;
                }
                return Ok(None);
            }
            let deadline = self.session.poll_timeout();
            let read = until(
                self.clock,
                deadline,
                self.transport.read(&mut self.scratch, &mut self.inbox),
            )
            .await
            .transpose()?;
            let now = self.clock.now();
            match read {
                Some(0) => {
                    // The transport ended: tell the session it will hear nothing more.
                    self.session.handle_transport_closed(now);
                }
                Some(_) => {
                    let data = self.inbox.split();
                    self.session.handle_input(now, &data);
                }
                None => self.session.handle_timeout(now),
            }
        }
    }

    /// Wait for the RECEIPT with this id; other events that arrive meanwhile are kept for
    /// [`next_event`](Self::next_event).
    pub async fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), StompError> {
        let mut seen = VecDeque::new();
        let result = loop {
            match self.next_event().await {
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

    /// SUBSCRIBE.
    pub async fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
    ) -> Result<SubscriptionId, StompError> {
        let id = self.session.subscribe(destination, ack, headers)?;
        self.flush().await?;
        Ok(id)
    }

    /// UNSUBSCRIBE.
    pub async fn unsubscribe(&mut self, id: &SubscriptionId) -> Result<(), StompError> {
        self.session.unsubscribe(id)?;
        self.flush().await
    }

    /// SEND; with `receipt`, returns the id to [`wait_receipt`](Self::wait_receipt) for.
    pub async fn send(
        &mut self,
        destination: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> Result<Option<ReceiptId>, StompError> {
        let r = self.session.send(destination, body, headers, receipt)?;
        self.flush().await?;
        Ok(r)
    }

    /// ACK a message.
    pub async fn ack(
        &mut self,
        message: &Message,
        tx: Option<&TransactionId>,
    ) -> Result<(), StompError> {
        self.session.ack(message, tx)?;
        self.flush().await
    }

    /// NACK a message.
    pub async fn nack(
        &mut self,
        message: &Message,
        tx: Option<&TransactionId>,
    ) -> Result<(), StompError> {
        self.session.nack(message, tx)?;
        self.flush().await
    }

    /// BEGIN a transaction.
    pub async fn begin(&mut self) -> Result<TransactionId, StompError> {
        let tx = self.session.begin()?;
        self.flush().await?;
        Ok(tx)
    }

    /// COMMIT a transaction.
    pub async fn commit(&mut self, tx: &TransactionId) -> Result<(), StompError> {
        self.session.commit(tx)?;
        self.flush().await
    }

    /// ABORT a transaction.
    pub async fn abort(&mut self, tx: &TransactionId) -> Result<(), StompError> {
        self.session.abort(tx)?;
        self.flush().await
    }

    /// Graceful DISCONNECT: send it with a receipt, wait for the RECEIPT (or the session's
    /// disconnect timeout), then close the transport.
    pub async fn disconnect(mut self) -> Result<(), StompError> {
        self.session.disconnect()?;
        while self.next_event().await?.is_some() {}
        Ok(())
    }

    /// Write what the session has queued.
    pub async fn flush(&mut self) -> Result<(), StompError> {
        while let Some(bytes) = self.session.poll_transmit() {
            self.transport.write(bytes).await?;
        }
        Ok(())
    }
}
