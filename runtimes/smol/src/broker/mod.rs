//! Hosting the sans-IO [`Broker`] on smol: a STOMP-over-WebSocket endpoint with application
//! handlers — the Rust answer to Spring's `registry.addEndpoint("/ws")`,
//! `enableSimpleBroker("/topic", "/queue")`, `setApplicationDestinationPrefixes("/app")` and
//! `@MessageMapping` + `@SendTo` / `@SendToUser`.
//!
//! Every protocol decision (routing, receipts, limits, slow consumers, timeouts) is the core
//! broker's ([`duplex_core::broker`]); this module accepts sockets, runs the handshake, moves
//! bytes, fires timers and spawns async handlers. Connection tasks and async handlers run on
//! smol's global executor (`smol::spawn`; its thread count is `SMOL_THREADS`).
//!
//! ```no_run
//! use duplex_smol::broker::BrokerServer;
//! use duplex_core::broker::{AppMessage, HandlerContext};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = BrokerServer::builder()
//!     .endpoint("/ws")
//!     // A synchronous handler runs inside the broker; its replies go out before the RECEIPT.
//!     .handler("/app/chat/{room}", |ctx: &mut HandlerContext, m: &AppMessage| {
//!         let room = m.var("room").unwrap_or("lobby");
//!         ctx.publish(&format!("/topic/chat/{room}"), m.body().clone());
//!     })
//!     // An async handler runs on its own task and replies whenever it is ready.
//!     .async_handler("/app/lookup", |m, ctx| async move {
//!         let answer = format!("{} bytes", m.body().len());
//!         ctx.reply_to_user("/queue/answers", &[], answer);
//!     })
//!     // Plain HTTP on the same port: `None` answers 404.
//!     .http(|request, handle| match request.path.as_str() {
//!         "/metrics" => Some(duplex_core::ws::handshake::http_response(
//!             200, "OK", &[("Content-Type", "text/plain")], handle.metrics().as_bytes())),
//!         _ => None,
//!     })
//!     .build()?;
//! let handle = server.handle();
//! // …keep `handle` to publish, and call `handle.shutdown()` to stop serving.
//! let listener = smol::net::TcpListener::bind("127.0.0.1:8080").await?;
//! server.serve(listener).await?;
//! # Ok(()) }
//! ```

mod conn;
mod handle;
mod hub;

pub use handle::{AppContext, BrokerHandle};
pub use hub::HostStats;

use std::future::Future;
use std::io;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_net::TcpListener;
use bytes::Bytes;
use duplex_core::broker::{
    AnyLogin, AppMessage, Authorizer, Broker, BrokerConfig, BrokerError, DefaultAuthorizer,
    HandlerContext,
};
use duplex_core::stomp::ws::WS_SUBPROTOCOLS;
use duplex_core::stomp::Authenticator;
use duplex_core::ws::handshake::{OriginPolicy, RequestHead, ServerConfig as HandshakeConfig};
use futures_lite::future::or;
use futures_rustls::TlsAcceptor;
use smol::lock::Semaphore;

use crate::clock::{os_rng, Clock};
use crate::ws::AcceptOptions;
use hub::{HostCounters, Hub};

/// Answers plain HTTP requests on the endpoint's port: `Some(response)` (see
/// [`http_response`](duplex_core::ws::handshake::http_response)), or `None` for 404.
pub type HttpHandler = dyn Fn(&RequestHead, &BrokerHandle) -> Option<Bytes> + Send + Sync;

type SyncHandler = Box<dyn FnMut(&mut HandlerContext, &AppMessage) + Send>;
type AsyncHandler = Arc<
    dyn Fn(AppMessage, AppContext) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

/// Builds a [`BrokerServer`]. Every setting has a default; see each method.
pub struct Builder {
    endpoint: String,
    config: BrokerConfig,
    authenticator: Box<dyn Authenticator>,
    authorizer: Option<Box<dyn Authorizer>>,
    origin: OriginPolicy,
    tls: Option<TlsAcceptor>,
    handlers: Vec<(String, SyncHandler)>,
    async_handlers: Vec<(String, AsyncHandler)>,
    http: Option<Box<HttpHandler>>,
    shutdown_grace: Duration,
    max_connections: usize,
    max_async_in_flight: usize,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("endpoint", &self.endpoint)
            .field("config", &self.config)
            .field("tls", &self.tls.is_some())
            .field("handlers", &self.handlers.len())
            .field("async_handlers", &self.async_handlers.len())
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            endpoint: "/ws".to_owned(),
            config: BrokerConfig::default(),
            authenticator: Box::new(AnyLogin::default()),
            authorizer: None,
            origin: OriginPolicy::Any,
            tls: None,
            handlers: Vec::new(),
            async_handlers: Vec::new(),
            http: None,
            shutdown_grace: Duration::from_secs(5),
            max_connections: 10_000,
            max_async_in_flight: 1024,
        }
    }
}

impl Builder {
    /// The WebSocket path of the STOMP endpoint. Default `/ws`. WebSocket upgrades to other
    /// paths are closed with 1008.
    pub fn endpoint(mut self, path: impl Into<String>) -> Self {
        self.endpoint = path.into();
        self
    }

    /// Prefixes, limits, heart-beats, connect timeout, slow-consumer policies. Default
    /// [`BrokerConfig::default`].
    pub fn config(mut self, config: BrokerConfig) -> Self {
        self.config = config;
        self
    }

    /// Checks every CONNECT. Default [`AnyLogin`]: any login is the principal, anonymous
    /// sessions get unique `anon-N` names — for demos; use
    /// [`Users`](duplex_core::broker::Users) or your own in production.
    pub fn authenticator(mut self, authenticator: impl Authenticator + 'static) -> Self {
        self.authenticator = Box::new(authenticator);
        self
    }

    /// Checks every SUBSCRIBE and SEND. Default [`DefaultAuthorizer`] over the configured user
    /// prefix (nobody sends to another user's `/user/{name}/…`).
    pub fn authorizer(mut self, authorizer: impl Authorizer + 'static) -> Self {
        self.authorizer = Some(Box::new(authorizer));
        self
    }

    /// Which browser origins may open the endpoint (RFC 6455 §10.2). Default
    /// [`OriginPolicy::Any`].
    pub fn origin(mut self, policy: OriginPolicy) -> Self {
        self.origin = policy;
        self
    }

    /// Serve `wss://` (and `https://`) with this acceptor (see [`crate::tls`]).
    pub fn tls(mut self, acceptor: TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// A synchronous handler for SENDs to destinations matching `pattern` (under an app
    /// prefix, `{name}` segments captured). It runs inside the broker, so keep it short; its
    /// replies are routed before the SEND's RECEIPT. The first registered match wins.
    pub fn handler(
        mut self,
        pattern: impl Into<String>,
        handler: impl FnMut(&mut HandlerContext, &AppMessage) + Send + 'static,
    ) -> Self {
        self.handlers.push((pattern.into(), Box::new(handler)));
        self
    }

    /// An async handler: for each matching SEND, `handler(message, context)` is called under
    /// the broker lock (keep the call itself cheap: do the work in the future) and the future
    /// runs on its own task. The RECEIPT means "handed off". At most
    /// [`max_async_in_flight`](Self::max_async_in_flight) run at once; beyond that a message
    /// is dropped and counted in [`HostStats::async_handler_drops`].
    pub fn async_handler<F, Fut>(mut self, pattern: impl Into<String>, handler: F) -> Self
    where
        F: Fn(AppMessage, AppContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler: AsyncHandler = Arc::new(move |m, ctx| Box::pin(handler(m, ctx)));
        self.async_handlers.push((pattern.into(), handler));
        self
    }

    /// Answer plain HTTP requests on the same port (a page, `/healthz`, `/metrics`). Without
    /// one, every plain request gets `426 Upgrade Required`.
    pub fn http(
        mut self,
        handler: impl Fn(&RequestHead, &BrokerHandle) -> Option<Bytes> + Send + Sync + 'static,
    ) -> Self {
        self.http = Some(Box::new(handler));
        self
    }

    /// How long a graceful shutdown waits for close handshakes before dropping what is left.
    /// Default 5 s.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Most connections served at once (HTTP and WebSocket); more are closed at accept and
    /// counted. Default 10 000.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Most async handler futures running at once. Default 1024.
    pub fn max_async_in_flight(mut self, n: usize) -> Self {
        self.max_async_in_flight = n;
        self
    }

    /// The server, ready to [`serve`](BrokerServer::serve). Fails if a handler pattern is not
    /// under an app prefix.
    pub fn build(self) -> Result<BrokerServer, BrokerError> {
        let clock = Clock::new();
        let authorizer = self
            .authorizer
            .unwrap_or_else(|| Box::new(DefaultAuthorizer::new(self.config.user_prefix.clone())));
        let limits = self.config.session.limits;
        let broker = Broker::new(
            clock.now(),
            self.config,
            self.authenticator,
            authorizer,
            Box::new(os_rng()),
        );
        let hub = Hub::new(broker, clock);
        let handle = BrokerHandle { hub: hub.clone() };
        for (pattern, handler) in self.handlers {
            hub.with(|b| b.register_handler(&pattern, handler))?;
        }
        let permits = Arc::new(Semaphore::new(self.max_async_in_flight));
        for (pattern, handler) in self.async_handlers {
            let spawner = async_spawner(Arc::downgrade(&hub), permits.clone(), handler);
            hub.with(|b| b.register_handler(&pattern, spawner))?;
        }
        // A STOMP frame travels in one WebSocket message: no message needs to be much bigger
        // than the largest frame the broker accepts.
        let max_message = 2 * limits.max_frame as u64;
        let accept = AcceptOptions {
            handshake: Arc::new(HandshakeConfig {
                protocols: WS_SUBPROTOCOLS.iter().map(|s| s.to_string()).collect(),
                origin: self.origin,
                ..HandshakeConfig::default()
            }),
            config: duplex_core::ws::Config {
                max_frame_size: max_message,
                max_message_size: max_message,
                ..duplex_core::ws::Config::default()
            },
        };
        Ok(BrokerServer {
            shared: Arc::new(Shared {
                handle,
                endpoint: self.endpoint,
                accept,
                tls: self.tls,
                http: self.http,
                shutdown_grace: self.shutdown_grace,
                max_connections: self.max_connections,
            }),
        })
    }
}

/// The core handler that hands each message to an async handler on a new task.
fn async_spawner(
    hub: Weak<Hub>,
    permits: Arc<Semaphore>,
    handler: AsyncHandler,
) -> impl FnMut(&mut HandlerContext, &AppMessage) + Send + 'static {
    move |_ctx, message| {
        let Some(hub) = hub.upgrade() else {
            return;
        };
        let Some(permit) = permits.try_acquire_arc() else {
            HostCounters::bump(&hub.counters.async_handler_drops);
            tracing::warn!(destination = %message.destination, "too many async handlers running: message dropped");
            return;
        };
        let ctx = AppContext::new(
            BrokerHandle { hub },
            message.conn,
            message.principal.clone(),
        );
        let future = handler(message.clone(), ctx);
        smol::spawn(async move {
            future.await;
            drop(permit);
        })
        .detach();
    }
}

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) handle: BrokerHandle,
    pub(crate) endpoint: String,
    pub(crate) accept: AcceptOptions,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) http: Option<Box<HttpHandler>>,
    pub(crate) shutdown_grace: Duration,
    pub(crate) max_connections: usize,
}

/// A STOMP-over-WebSocket broker server on smol. Build it with [`BrokerServer::builder`],
/// keep a [`handle`](Self::handle) to publish and to shut down, then [`serve`](Self::serve).
pub struct BrokerServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BrokerServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerServer")
            .field("endpoint", &self.shared.endpoint)
            .finish_non_exhaustive()
    }
}

impl BrokerServer {
    /// A builder with every default.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A handle to publish, reach users, read counters and shut down.
    pub fn handle(&self) -> BrokerHandle {
        self.shared.handle.clone()
    }

    /// Accept connections on `listener` until [`BrokerHandle::shutdown`]; then close every
    /// session gracefully (bounded by the shutdown grace) and return. Connections are served on
    /// smol's global executor, so any executor (or `smol::block_on`) may drive this future;
    /// accept errors (out of file descriptors…) are logged and retried.
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        let shared = self.shared;
        let hub = shared.handle.hub.clone();
        let timers = smol::spawn(hub.clone().run_timers());
        let mut tasks: Vec<smol::Task<()>> = Vec::new();
        loop {
            tasks.retain(|t| !t.is_finished());
            let accepted = or(
                async {
                    hub.shutdown.wait().await;
                    None
                },
                async { Some(listener.accept().await) },
            )
            .await;
            let Some(accepted) = accepted else {
                break;
            };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    async_io::Timer::after(Duration::from_millis(50)).await;
                    continue;
                }
            };
            HostCounters::bump(&hub.counters.accepted);
            if tasks.len() >= shared.max_connections {
                HostCounters::bump(&hub.counters.refused_over_limit);
                tracing::warn!(%peer, "connection limit reached: refused");
                continue;
            }
            let _ = tcp.set_nodelay(true);
            let shared = shared.clone();
            tasks.push(smol::spawn(async move {
                match shared.tls.clone() {
                    Some(acceptor) => {
                        let limit = shared.accept.handshake.limits.timeout;
                        match conn::within(limit, acceptor.accept(tcp)).await {
                            Some(Ok(stream)) => conn::serve(stream, shared).await,
                            _ => {
                                let hub = &shared.handle.hub;
                                HostCounters::bump(&hub.counters.handshake_failures);
                                tracing::debug!(%peer, "TLS handshake failed");
                            }
                        }
                    }
                    None => conn::serve(tcp, shared).await,
                }
            }));
        }
        drop(listener);
        tasks.retain(|t| !t.is_finished());
        tracing::info!(connections = tasks.len(), "shutting down");
        // Every task closes its own session (see `conn::goodbye`); past the grace, drop them
        // (dropping a smol task cancels it).
        let grace = shared.shutdown_grace + Duration::from_millis(500);
        let finished = conn::within(grace, async {
            while let Some(task) = tasks.pop() {
                task.await;
            }
        })
        .await;
        if finished.is_none() {
            tracing::warn!(
                left = tasks.len(),
                "shutdown grace over: dropping connections"
            );
        }
        drop(tasks);
        drop(timers);
        Ok(())
    }
}
