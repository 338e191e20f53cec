//! [`Builder`]: every setting of a hosted broker (endpoint, broker config, authenticator,
//! authorizer, origin policy, TLS, `/app` handlers, HTTP callback, shutdown grace, limits) and
//! [`build`](Builder::build), which puts the core [`Broker`] and the hosting glue together.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use duplex_core::broker::{AppMessage, BrokerError};
use duplex_core::ws::handshake::RequestHead;

use super::context::AppContext;
use super::handle::BrokerHandle;
use super::hub::Hub;
use super::server::{BrokerServer, Shared};
use super::settings::Settings;
use super::spawner::{async_spawner, AsyncHandler, InFlight};
use crate::runtime::{Clock, Host};
use crate::AcceptOptions;

/// Answers plain HTTP requests on the endpoint's port: `Some(response)` (see
/// [`http_response`](duplex_core::ws::handshake::http_response)), or `None` for 404.
pub type HttpHandler<R> = dyn Fn(&RequestHead, &BrokerHandle<R>) -> Option<Bytes> + Send + Sync;

/// Builds a [`BrokerServer`]. Every setting has a default; see each method.
pub struct Builder<R: Host> {
    settings: Settings,
    tls: Option<R::TlsAcceptor>,
    async_handlers: Vec<(String, AsyncHandler<R>)>,
    http: Option<Box<HttpHandler<R>>>,
    max_async_in_flight: usize,
}

impl<R: Host> std::fmt::Debug for Builder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("endpoint", &self.settings.endpoint)
            .field("config", &self.settings.config)
            .field("tls", &self.tls.is_some())
            .field("handlers", &self.settings.handlers.len())
            .field("async_handlers", &self.async_handlers.len())
            .finish_non_exhaustive()
    }
}

impl<R: Host> Default for Builder<R> {
    fn default() -> Self {
        Builder {
            settings: Settings::default(),
            tls: None,
            async_handlers: Vec::new(),
            http: None,
            max_async_in_flight: 1024,
        }
    }
}

impl<R: Host> Builder<R> {
    crate::broker_settings_setters!();

    /// Serve `wss://` (and `https://`) with this acceptor (see the runtime's `tls` module).
    pub fn tls(mut self, acceptor: R::TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
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

    /// Most async handler futures running at once. Default 1024.
    pub fn max_async_in_flight(mut self, n: usize) -> Self {
        self.max_async_in_flight = n;
        self
    }

    /// The server, ready to [`serve`](BrokerServer::serve). Fails if a handler pattern is not
    /// under an app prefix.
    pub fn build(self) -> Result<BrokerServer<R>, BrokerError> {
        let clock = R::Clock::start();
        let parts = self.settings.into_parts(clock.now(), R::rng())?;
        let hub = Hub::new(parts.broker, clock);
        let in_flight = InFlight::new(self.max_async_in_flight);
        for (pattern, handler) in self.async_handlers {
            let spawner = async_spawner(Arc::downgrade(&hub), in_flight.clone(), handler);
            hub.with(|b| b.register_handler(&pattern, spawner))?;
        }
        let accept = AcceptOptions {
            handshake: parts.handshake,
            config: parts.ws,
        };
        Ok(BrokerServer::new(Shared {
            handle: BrokerHandle::new(hub),
            endpoint: parts.endpoint,
            accept,
            tls: self.tls,
            http: self.http,
            shutdown_grace: parts.shutdown_grace,
            max_connections: parts.max_connections,
        }))
    }
}
