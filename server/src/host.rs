//! What the app and the page need from a broker host, written once for every runtime.
//!
//! `duplex_tokio::broker`, `duplex_smol::broker` and `duplex_mio::broker` have the same API
//! shape (builder, handle) but no common types. [`Host`] is the part of a `BrokerHandle` the
//! shared code calls; [`impl_host!`] implements it for one runtime's handle, and
//! [`configure_builder!`] applies the settings of a [`Config`](crate::config::Config) to one
//! runtime's builder. What differs per runtime (TLS acceptor, listener, timers, signals) lives
//! in the `rt_*` modules.

use bytes::Bytes;

use crate::config::Config;

/// A runtime's `BrokerHandle`, as the app (ticker) and the page (`/metrics`) use it.
pub trait Host: Clone + Send + Sync + 'static {
    /// Send to every session of `user` subscribed to `/user{destination}`.
    fn send_to_user(&self, user: &str, destination: &str, headers: &[(&str, &str)], body: Bytes);

    /// Broker and host counters in the Prometheus text format.
    fn metrics(&self) -> String;
}

/// `impl Host for $handle` by forwarding to its inherent methods of the same names.
macro_rules! impl_host {
    ($handle:ty) => {
        impl $crate::host::Host for $handle {
            fn send_to_user(
                &self,
                user: &str,
                destination: &str,
                headers: &[(&str, &str)],
                body: ::bytes::Bytes,
            ) {
                <$handle>::send_to_user(self, user, destination, headers, body)
            }

            fn metrics(&self) -> String {
                <$handle>::metrics(self)
            }
        }
    };
}

/// `configure_builder!(BrokerServer::builder(), &config, filters)`: the endpoint, broker
/// settings, limits, origin policy, authenticator, page and `/app` handlers of `config`, on any
/// runtime's `broker::Builder` (the builders share method names, not a type). TLS is left to
/// the caller.
macro_rules! configure_builder {
    ($builder:expr, $config:expr, $filters:expr) => {{
        let config: &$crate::config::Config = $config;
        let mut builder = $builder
            .endpoint(config.endpoint.clone())
            .config(config.broker())
            .max_connections(config.max_connections)
            .shutdown_grace(::std::time::Duration::from_millis(config.shutdown_grace_ms))
            .http($crate::http::respond);
        if let Some(policy) = $crate::host::origin_policy(config) {
            builder = builder.origin(policy);
        }
        builder = match $crate::host::users(config) {
            None => builder.authenticator(::duplex_core::broker::AnyLogin::default()),
            Some(users) => builder.authenticator(users),
        };
        for (pattern, handler) in $crate::app::handlers($filters) {
            builder = builder.handler(pattern, handler);
        }
        builder
    }};
}

/// The origin allow-list, if `allowed_origins` names any.
pub fn origin_policy(config: &Config) -> Option<duplex_core::ws::handshake::OriginPolicy> {
    (!config.allowed_origins.is_empty()).then(|| {
        duplex_core::ws::handshake::OriginPolicy::AllowList(config.allowed_origins.clone())
    })
}

/// The configured users, or `None` for demo mode (any login).
pub fn users(config: &Config) -> Option<duplex_core::broker::Users> {
    if config.auth.users.is_empty() {
        return None;
    }
    let users = config
        .auth
        .users
        .iter()
        .fold(duplex_core::broker::Users::new(), |u, (login, pass)| {
            u.add(login, pass)
        })
        .allow_anonymous(config.auth.allow_anonymous);
    Some(users)
}

/// The line the tests and scripts wait for: `duplex listening on http://ADDR/ …`.
pub fn log_listening(config: &Config, addr: std::net::SocketAddr) {
    let scheme = if config.tls.cert.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(
        "duplex listening on {scheme}://{addr}/ (STOMP endpoint {}, runtime {})",
        config.endpoint,
        config.runtime.name()
    );
}
