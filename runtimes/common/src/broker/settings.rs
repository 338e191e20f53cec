//! The runtime-free part of a hosted broker's builder: [`Settings`] (endpoint, broker config,
//! authenticator, authorizer, origin policy, synchronous `/app` handlers, shutdown grace,
//! connection limit), their setters ([`broker_settings_setters!`](crate::broker_settings_setters)),
//! and what `build` makes of them ([`Settings::into_parts`]). Shared by the async runtimes'
//! [`Builder`](super::Builder) and `duplex_mio::broker::Builder`, which add their runtime's
//! settings (TLS, HTTP callback, async handlers) around them.

use std::sync::Arc;
use std::time::Duration;

use duplex_core::broker::{
    AnyLogin, AppMessage, Authorizer, Broker, BrokerConfig, BrokerError, DefaultAuthorizer,
    HandlerContext,
};
use duplex_core::stomp::Authenticator;
use duplex_core::ws::handshake::{OriginPolicy, ServerConfig as HandshakeConfig};
use duplex_core::{Instant, SeededRng};

use crate::ws::stomp_subprotocols;

/// A synchronous `/app` handler, boxed.
pub type SyncHandler = Box<dyn FnMut(&mut HandlerContext, &AppMessage) + Send>;

/// Every runtime-free setting of a hosted broker; see the builders' methods for each.
#[doc(hidden)]
pub struct Settings {
    pub endpoint: String,
    pub config: BrokerConfig,
    pub authenticator: Box<dyn Authenticator>,
    pub authorizer: Option<Box<dyn Authorizer>>,
    pub origin: OriginPolicy,
    pub handlers: Vec<(String, SyncHandler)>,
    pub shutdown_grace: Duration,
    pub max_connections: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoint: "/ws".to_owned(),
            config: BrokerConfig::default(),
            authenticator: Box::new(AnyLogin::default()),
            authorizer: None,
            origin: OriginPolicy::Any,
            handlers: Vec::new(),
            shutdown_grace: Duration::from_secs(5),
            max_connections: 10_000,
        }
    }
}

/// What [`Settings::into_parts`] builds.
#[doc(hidden)]
pub struct Parts {
    /// The broker, every synchronous handler registered.
    pub broker: Broker,
    pub endpoint: String,
    /// The server handshake: the STOMP subprotocols and the origin policy.
    pub handshake: Arc<HandshakeConfig>,
    /// WebSocket limits sized to the broker's largest frame.
    pub ws: duplex_core::ws::Config,
    pub shutdown_grace: Duration,
    pub max_connections: usize,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("endpoint", &self.endpoint)
            .field("config", &self.config)
            .field("handlers", &self.handlers.len())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The broker (default authorizer over the user prefix unless one was set, handlers
    /// registered) and the accept options. Fails if a handler pattern is not under an app
    /// prefix.
    pub fn into_parts(self, now: Instant, rng: SeededRng) -> Result<Parts, BrokerError> {
        let authorizer = self
            .authorizer
            .unwrap_or_else(|| Box::new(DefaultAuthorizer::new(self.config.user_prefix.clone())));
        let limits = self.config.session.limits;
        let mut broker = Broker::new(
            now,
            self.config,
            self.authenticator,
            authorizer,
            Box::new(rng),
        );
        for (pattern, handler) in self.handlers {
            broker.register_handler(&pattern, handler)?;
        }
        // A STOMP frame travels in one WebSocket message: no message needs to be much bigger
        // than the largest frame the broker accepts.
        let max_message = 2 * limits.max_frame as u64;
        Ok(Parts {
            broker,
            endpoint: self.endpoint,
            handshake: Arc::new(HandshakeConfig {
                protocols: stomp_subprotocols(),
                origin: self.origin,
                ..HandshakeConfig::default()
            }),
            ws: duplex_core::ws::Config {
                max_frame_size: max_message,
                max_message_size: max_message,
                ..duplex_core::ws::Config::default()
            },
            shutdown_grace: self.shutdown_grace,
            max_connections: self.max_connections,
        })
    }
}

/// The setters of the runtime-free settings, for a builder with a `settings: Settings` field:
/// expand it inside the builder's `impl`.
#[doc(hidden)]
#[macro_export]
macro_rules! broker_settings_setters {
    () => {
        /// The WebSocket path of the STOMP endpoint. Default `/ws`. WebSocket upgrades to other
        /// paths are closed with 1008.
        pub fn endpoint(mut self, path: impl Into<String>) -> Self {
            self.settings.endpoint = path.into();
            self
        }

        /// Prefixes, limits, heart-beats, connect timeout, slow-consumer policies. Default
        /// [`BrokerConfig::default`](duplex_core::broker::BrokerConfig::default).
        pub fn config(mut self, config: $crate::duplex_core::broker::BrokerConfig) -> Self {
            self.settings.config = config;
            self
        }

        /// Checks every CONNECT. Default [`AnyLogin`](duplex_core::broker::AnyLogin): any
        /// login is the principal, anonymous sessions get unique `anon-N` names — for demos;
        /// use [`Users`](duplex_core::broker::Users) or your own in production.
        pub fn authenticator(
            mut self,
            authenticator: impl $crate::duplex_core::stomp::Authenticator + 'static,
        ) -> Self {
            self.settings.authenticator = ::std::boxed::Box::new(authenticator);
            self
        }

        /// Checks every SUBSCRIBE and SEND. Default
        /// [`DefaultAuthorizer`](duplex_core::broker::DefaultAuthorizer) over the configured
        /// user prefix (nobody sends to another user's `/user/{name}/…`).
        pub fn authorizer(
            mut self,
            authorizer: impl $crate::duplex_core::broker::Authorizer + 'static,
        ) -> Self {
            self.settings.authorizer =
                ::std::option::Option::Some(::std::boxed::Box::new(authorizer));
            self
        }

        /// Which browser origins may open the endpoint (RFC 6455 §10.2). Default
        /// [`OriginPolicy::Any`](duplex_core::ws::handshake::OriginPolicy::Any).
        pub fn origin(mut self, policy: $crate::duplex_core::ws::handshake::OriginPolicy) -> Self {
            self.settings.origin = policy;
            self
        }

        /// A synchronous handler for SENDs to destinations matching `pattern` (under an app
        /// prefix, `{name}` segments captured). It runs inside the broker, under its lock, so
        /// keep it short; its replies are routed before the SEND's RECEIPT. The first
        /// registered match wins.
        pub fn handler(
            mut self,
            pattern: impl Into<String>,
            handler: impl FnMut(
                    &mut $crate::duplex_core::broker::HandlerContext,
                    &$crate::duplex_core::broker::AppMessage,
                ) + Send
                + 'static,
        ) -> Self {
            self.settings
                .handlers
                .push((pattern.into(), ::std::boxed::Box::new(handler)));
            self
        }

        /// How long a graceful shutdown waits for close handshakes before dropping what is
        /// left. Default 5 s.
        pub fn shutdown_grace(mut self, grace: ::std::time::Duration) -> Self {
            self.settings.shutdown_grace = grace;
            self
        }

        /// Most connections served at once (HTTP and WebSocket); more are closed at accept and
        /// counted in `HostStats::refused_over_limit`. Default 10 000.
        pub fn max_connections(mut self, n: usize) -> Self {
            self.settings.max_connections = n;
            self
        }
    };
}
