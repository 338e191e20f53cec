//! [`Builder`]: every setting of a hosted broker (endpoint, broker config, authenticator,
//! authorizer, origin policy, TLS, `/app` handlers, HTTP callback, shutdown grace, limits) and
//! [`build`](Builder::build), which puts the core [`Broker`] and the hosting glue together.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use duplex_core::broker::{
    AnyLogin, AppMessage, Authorizer, Broker, BrokerConfig, BrokerError, DefaultAuthorizer,
    HandlerContext,
};
use duplex_core::stomp::Authenticator;
use duplex_core::ws::handshake::{OriginPolicy, RequestHead, ServerConfig as HandshakeConfig};

use super::context::AppContext;
use super::handle::BrokerHandle;
use super::hub::Hub;
use super::server::{BrokerServer, Shared};
use super::spawner::{async_spawner, AsyncHandler, InFlight};
use crate::runtime::{Clock, Host};
use crate::ws::stomp_subprotocols;
use crate::AcceptOptions;

/// Answers plain HTTP requests on the endpoint's port: `Some(response)` (see
/// [`http_response`](duplex_core::ws::handshake::http_response)), or `None` for 404.
pub type HttpHandler<R> = dyn Fn(&RequestHead, &BrokerHandle<R>) -> Option<Bytes> + Send + Sync;

type SyncHandler = Box<dyn FnMut(&mut HandlerContext, &AppMessage) + Send>;

/// Builds a [`BrokerServer`]. Every setting has a default; see each method.
pub struct Builder<R: Host> {
    endpoint: String,
    config: BrokerConfig,
    authenticator: Box<dyn Authenticator>,
    authorizer: Option<Box<dyn Authorizer>>,
    origin: OriginPolicy,
    tls: Option<R::TlsAcceptor>,
    handlers: Vec<(String, SyncHandler)>,
    async_handlers: Vec<(String, AsyncHandler<R>)>,
    http: Option<Box<HttpHandler<R>>>,
    shutdown_grace: Duration,
    max_connections: usize,
    max_async_in_flight: usize,
}

impl<R: Host> std::fmt::Debug for Builder<R> {
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

impl<R: Host> Default for Builder<R> {
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

impl<R: Host> Builder<R> {
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

    /// Serve `wss://` (and `https://`) with this acceptor (see the runtime's `tls` module).
    pub fn tls(mut self, acceptor: R::TlsAcceptor) -> Self {
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
    /// is dropped and counted in [`HostStats::async_handler_drops`](super::HostStats).
    pub fn async_handler<F, Fut>(mut self, pattern: impl Into<String>, handler: F) -> Self
    where
        F: Fn(AppMessage, AppContext<R>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler: AsyncHandler<R> = Arc::new(move |m, ctx| Box::pin(handler(m, ctx)));
        self.async_handlers.push((pattern.into(), handler));
        self
    }

    /// Answer plain HTTP requests on the same port (a page, `/healthz`, `/metrics`). Without
    /// one, every plain request gets `426 Upgrade Required`.
    pub fn http(
        mut self,
        handler: impl Fn(&RequestHead, &BrokerHandle<R>) -> Option<Bytes> + Send + Sync + 'static,
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
    pub fn build(self) -> Result<BrokerServer<R>, BrokerError> {
        let clock = R::Clock::start();
        let authorizer = self
            .authorizer
            .unwrap_or_else(|| Box::new(DefaultAuthorizer::new(self.config.user_prefix.clone())));
        let limits = self.config.session.limits;
        let broker = Broker::new(
            clock.now(),
            self.config,
            self.authenticator,
            authorizer,
            Box::new(R::rng()),
        );
        let hub = Hub::new(broker, clock);
        for (pattern, handler) in self.handlers {
            hub.with(|b| b.register_handler(&pattern, handler))?;
        }
        let in_flight = InFlight::new(self.max_async_in_flight);
        for (pattern, handler) in self.async_handlers {
            let spawner = async_spawner(Arc::downgrade(&hub), in_flight.clone(), handler);
            hub.with(|b| b.register_handler(&pattern, spawner))?;
        }
        // A STOMP frame travels in one WebSocket message: no message needs to be much bigger
        // than the largest frame the broker accepts.
        let max_message = 2 * limits.max_frame as u64;
        let accept = AcceptOptions {
            handshake: Arc::new(HandshakeConfig {
                protocols: stomp_subprotocols(),
                origin: self.origin,
                ..HandshakeConfig::default()
            }),
            config: duplex_core::ws::Config {
                max_frame_size: max_message,
                max_message_size: max_message,
                ..duplex_core::ws::Config::default()
            },
        };
        Ok(BrokerServer::new(Shared {
            handle: BrokerHandle::new(hub),
            endpoint: self.endpoint,
            accept,
            tls: self.tls,
            http: self.http,
            shutdown_grace: self.shutdown_grace,
            max_connections: self.max_connections,
        }))
    }
}
