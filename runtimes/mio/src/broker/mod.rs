//! Hosting the sans-IO [`Broker`] on a mio loop: a STOMP-over-WebSocket endpoint, the same shape
//! as `duplex_tokio::broker` (builder, endpoint, handlers, HTTP, TLS, handle, graceful shutdown).
//!
//! One thread runs the loop: one `Poll`, the listener and every connection in it. The broker sits
//! behind a lock that the loop takes per broker call (uncontended unless a handle is in use), so
//! a [`BrokerHandle`] acts on it directly and `publish` answers with the broker's result. Run it on your thread with [`BrokerServer::serve`] or on a new one with
//! [`BrokerServer::spawn`]; a [`BrokerHandle`] (any thread) publishes, reads the counters and
//! shuts down, then wakes the loop through a `mio::Waker`.
//!
//! ```no_run
//! use duplex_mio::broker::BrokerServer;
//! use duplex_mio::duplex_core::broker::{AppMessage, HandlerContext};
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = BrokerServer::builder()
//!     .endpoint("/ws")
//!     .handler("/app/chat/{room}", |ctx: &mut HandlerContext, m: &AppMessage| {
//!         let room = m.var("room").unwrap_or("lobby");
//!         ctx.publish(&format!("/topic/chat/{room}"), m.body().clone());
//!     })
//!     .build()?;
//! let handle = server.handle();
//! let listener = std::net::TcpListener::bind("127.0.0.1:8080")?;
//! let thread = server.spawn(listener)?;
//! handle.publish("/topic/news", &[], "hello")?;
//! handle.shutdown();
//! thread.join().unwrap()?;
//! # Ok(()) }
//! ```

mod host;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use duplex_core::broker::{Broker, BrokerError, BrokerStats, ConnId};
use duplex_core::ws::handshake::RequestHead;
use duplex_rt_common::broker::Settings;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::time::{now, os_rng, poll_timeout};
use crate::ws::AcceptOptions;
use crate::Error;
use host::Host;

pub use duplex_rt_common::broker::HostStats;

/// Answers plain HTTP requests on the endpoint's port: `Some(response)` (see
/// [`http_response`](duplex_core::ws::handshake::http_response)), or `None` for 404.
pub type HttpHandler = dyn Fn(&RequestHead, &BrokerHandle) -> Option<Bytes> + Send + Sync;

/// Builds a [`BrokerServer`]. Every setting has a default; see each method. The settings shared
/// with `duplex_tokio::broker::Builder` (endpoint to connection limit) come from
/// `duplex-rt-common`; TLS and the HTTP callback are this loop's.
#[derive(Default)]
pub struct Builder {
    settings: Settings,
    tls: Option<Arc<rustls::ServerConfig>>,
    http: Option<Box<HttpHandler>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("endpoint", &self.settings.endpoint)
            .field("config", &self.settings.config)
            .field("tls", &self.tls.is_some())
            .field("handlers", &self.settings.handlers.len())
            .finish_non_exhaustive()
    }
}

impl Builder {
    duplex_rt_common::broker_settings_setters!();

    /// Serve `wss://` (and `https://`) with this config (see [`crate::tls`]).
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Answer plain HTTP requests on the same port (a page, `/healthz`, `/metrics`), on the
    /// loop's thread. Without one, every plain request gets `426 Upgrade Required`.
    pub fn http(
        mut self,
        handler: impl Fn(&RequestHead, &BrokerHandle) -> Option<Bytes> + Send + Sync + 'static,
    ) -> Self {
        self.http = Some(Box::new(handler));
        self
    }

    /// The server, ready to [`serve`](BrokerServer::serve). Fails if a handler pattern is not
    /// under an app prefix (or the OS has no room for another `Poll`).
    pub fn build(self) -> Result<BrokerServer, Error> {
        let parts = self.settings.into_parts(now(), os_rng())?;
        let accept = AcceptOptions {
            handshake: parts.handshake,
            config: parts.ws,
            tls: self.tls,
        };
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(Shared {
            broker: Mutex::new(parts.broker),
            counters: Mutex::new(HostStats::default()),
            shutdown: AtomicBool::new(false),
            waker,
        });
        Ok(BrokerServer {
            poll,
            handle: BrokerHandle {
                shared: shared.clone(),
            },
            host: Host::new(shared, parts.endpoint, accept, self.http),
            shutdown_grace: parts.shutdown_grace,
            max_connections: parts.max_connections,
        })
    }
}

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// What the loop and every handle share: the broker itself behind a lock (the loop takes it
/// for each broker call, never across a `poll` or an application callback), the host's
/// counters, the shutdown flag and the loop's waker.
pub(crate) struct Shared {
    broker: Mutex<Broker>,
    counters: Mutex<HostStats>,
    shutdown: AtomicBool,
    waker: Waker,
}

impl Shared {
    /// The broker. A panicking application handler must not take the loop down with it.
    pub(crate) fn broker(&self) -> MutexGuard<'_, Broker> {
        self.broker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bump one host counter.
    pub(crate) fn count(&self, counter: impl FnOnce(&mut HostStats) -> &mut u64) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *counter(&mut counters) += 1;
    }
}

/// Reaches a [`BrokerServer`] from any thread: publish, reach users, read counters, shut down.
/// Every call takes the broker lock briefly, then wakes the loop to deliver what it produced.
/// Do not call it from a `/app` handler (it runs under that lock: reply through its
/// [`HandlerContext`](duplex_core::broker::HandlerContext)); from the HTTP callback it is fine.
#[derive(Clone)]
pub struct BrokerHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BrokerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerHandle").finish_non_exhaustive()
    }
}

impl BrokerHandle {
    /// Run `f` on the broker itself (for calls this handle does not wrap); the loop delivers
    /// its outputs once `f` returns. Do not block in `f`: the loop waits on this lock.
    pub fn with_broker<T>(&self, f: impl FnOnce(&mut Broker) -> T) -> T {
        let result = f(&mut self.shared.broker());
        let _ = self.shared.waker.wake();
        result
    }

    /// Publish to a topic, a queue or `/user/{name}/…` (see [`Broker::publish`]). `headers`
    /// are added to the MESSAGE.
    pub fn publish(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(), BrokerError> {
        self.with_broker(|b| b.publish(now(), destination, headers, body))
    }

    /// Send to every session of `user` subscribed to `/user{destination}`.
    pub fn send_to_user(
        &self,
        user: &str,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.with_broker(|b| b.send_to_user(now(), user, destination, headers, body))
    }

    /// Send to one connection's subscriptions to `/user{destination}` only.
    pub fn send_to_session(
        &self,
        conn: ConnId,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.with_broker(|b| b.send_to_session(now(), conn, destination, headers, body))
    }

    /// The broker's counters.
    pub fn stats(&self) -> BrokerStats {
        self.shared.broker().stats().clone()
    }

    /// The hosting layer's counters (`async_handler_drops` and `timer_wakeups` stay 0 here:
    /// no async handlers, no timer task).
    pub fn host_stats(&self) -> HostStats {
        self.shared
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Broker and host counters in the Prometheus text format, for a `/metrics` endpoint (the
    /// same names as `duplex_tokio::broker::BrokerHandle::metrics`).
    pub fn metrics(&self) -> String {
        let mut out = self.stats().prometheus();
        self.host_stats().prometheus(&mut out);
        out
    }

    /// Stop accepting, end every session gracefully (1001), and make `serve` return.
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::Release);
        let _ = self.shared.waker.wake();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutdown.load(Ordering::Acquire)
    }
}

/// A STOMP-over-WebSocket broker server on one mio loop. Build it with
/// [`BrokerServer::builder`], keep a [`handle`](Self::handle), then [`serve`](Self::serve) or
/// [`spawn`](Self::spawn).
pub struct BrokerServer {
    poll: Poll,
    handle: BrokerHandle,
    host: Host,
    shutdown_grace: Duration,
    max_connections: usize,
}

impl std::fmt::Debug for BrokerServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerServer").finish_non_exhaustive()
    }
}

impl BrokerServer {
    /// A builder with every default.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A handle to publish, read counters and shut down.
    pub fn handle(&self) -> BrokerHandle {
        self.handle.clone()
    }

    /// Run the loop on a new thread.
    pub fn spawn(
        self,
        listener: std::net::TcpListener,
    ) -> io::Result<std::thread::JoinHandle<io::Result<()>>> {
        std::thread::Builder::new()
            .name("duplex-mio-broker".into())
            .spawn(move || self.serve(listener))
    }

    /// Run the loop on this thread: accept on `listener`, serve every connection, until
    /// [`BrokerHandle::shutdown`]; then close every session gracefully (bounded by the shutdown
    /// grace) and return.
    pub fn serve(mut self, listener: std::net::TcpListener) -> io::Result<()> {
        listener.set_nonblocking(true)?;
        let mut listener = TcpListener::from_std(listener);
        self.poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let mut events = Events::with_capacity(1024);
        let mut next_token = 2usize;
        let mut give_up: Option<std::time::Instant> = None;
        let shared = self.handle.shared.clone();
        loop {
            if self.host.shutting_down
                && (self.host.len() == 0 || give_up.is_some_and(|t| t <= std::time::Instant::now()))
            {
                return Ok(());
            }
            let deadline = crate::time::earliest(self.host.next_deadline(), give_up);
            match self.poll.poll(&mut events, poll_timeout(deadline)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => loop {
                        match listener.accept() {
                            Ok((tcp, peer)) => {
                                if self.host.shutting_down {
                                    continue;
                                }
                                shared.count(|c| &mut c.accepted);
                                if self.host.len() >= self.max_connections {
                                    shared.count(|c| &mut c.refused_over_limit);
                                    tracing::warn!(%peer, "connection limit reached: refused");
                                    continue;
                                }
                                self.host
                                    .accept(self.poll.registry(), Token(next_token), tcp);
                                next_token += 1;
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(e) => {
                                tracing::warn!(error = %e, "accept failed");
                                break;
                            }
                        }
                    },
                    WAKER => {}
                    _ => {
                        self.host.handle_ready(self.poll.registry(), event);
                    }
                }
            }
            if self.handle.is_shutting_down() && !self.host.shutting_down {
                let _ = self.poll.registry().deregister(&mut listener);
                self.host.shutdown();
                give_up = Some(std::time::Instant::now() + self.shutdown_grace);
            }
            self.host.handle_timeout();
            self.host.process(self.poll.registry(), &self.handle);
        }
    }
}
