//! [`BrokerServer`]: the accept loop. Each accepted connection gets a task of its own
//! ([`conn::serve`]); on shutdown the loop stops accepting, lets every task close its session,
//! and past the grace drops what is left.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future::or;

use super::builder::{Builder, HttpHandler};
use super::conn;
use super::handle::BrokerHandle;
use super::stats::HostCounters;
use crate::runtime::{within, Host};
use crate::AcceptOptions;

/// What every connection task shares.
pub(crate) struct Shared<R: Host> {
    pub(crate) handle: BrokerHandle<R>,
    pub(crate) endpoint: String,
    pub(crate) accept: AcceptOptions,
    pub(crate) tls: Option<R::TlsAcceptor>,
    pub(crate) http: Option<Box<HttpHandler<R>>>,
    pub(crate) shutdown_grace: Duration,
    pub(crate) max_connections: usize,
}

/// A STOMP-over-WebSocket broker server. Build it with [`BrokerServer::builder`], keep a
/// [`handle`](Self::handle) to publish and to shut down, then [`serve`](Self::serve).
pub struct BrokerServer<R: Host> {
    shared: Arc<Shared<R>>,
}

impl<R: Host> std::fmt::Debug for BrokerServer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerServer")
            .field("endpoint", &self.shared.endpoint)
            .finish_non_exhaustive()
    }
}

impl<R: Host> BrokerServer<R> {
    pub(crate) fn new(shared: Shared<R>) -> Self {
        BrokerServer {
            shared: Arc::new(shared),
        }
    }

    /// A builder with every default.
    pub fn builder() -> Builder<R> {
        Builder::default()
    }

    /// A handle to publish, reach users, read counters and shut down.
    pub fn handle(&self) -> BrokerHandle<R> {
        self.shared.handle.clone()
    }

    /// Accept connections on `listener` until [`BrokerHandle::shutdown`]; then close every
    /// session gracefully (bounded by the shutdown grace) and return. Connections are served on
    /// tasks of the runtime (see its crate for where they run); accept errors (out of file
    /// descriptors…) are logged and retried.
    pub async fn serve(self, listener: R::Listener) -> io::Result<()> {
        let shared = self.shared;
        let hub = shared.handle.hub.clone();
        let timers = R::spawn(hub.clone().run_timers());
        let mut tasks: Vec<R::Task> = Vec::new();
        loop {
            tasks.retain(|t| !R::is_finished(t));
            // Shutdown first, then the listener (tokio's `biased` select).
            let accepted = or(
                async {
                    hub.shutdown.wait().await;
                    None
                },
                async { Some(R::accept(&listener).await) },
            )
            .await;
            let Some(accepted) = accepted else {
                break;
            };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    R::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            HostCounters::bump(&hub.counters.accepted);
            if tasks.len() >= shared.max_connections {
                HostCounters::bump(&hub.counters.refused_over_limit);
                tracing::warn!(%peer, "connection limit reached: refused");
                continue;
            }
            let shared = shared.clone();
            tasks.push(R::spawn(async move {
                match &shared.tls {
                    Some(acceptor) => {
                        let limit = shared.accept.handshake.limits.timeout;
                        match within::<R, _>(limit, R::tls_accept(acceptor, tcp)).await {
                            Some(Ok(stream)) => conn::serve(stream, &shared).await,
                            _ => {
                                let hub = &shared.handle.hub;
                                HostCounters::bump(&hub.counters.handshake_failures);
                                tracing::debug!(%peer, "TLS handshake failed");
                            }
                        }
                    }
                    None => conn::serve(R::plain(tcp), &shared).await,
                }
            }));
        }
        drop(listener);
        tasks.retain(|t| !R::is_finished(t));
        tracing::info!(connections = tasks.len(), "shutting down");
        // Every task closes its own session (see `conn::goodbye`); past the grace, drop them.
        let grace = shared.shutdown_grace + Duration::from_millis(500);
        let finished = within::<R, _>(grace, async {
            while let Some(task) = tasks.last_mut() {
                R::join(task).await;
                tasks.pop();
            }
        })
        .await;
        if finished.is_none() {
            tracing::warn!(
                left = tasks.len(),
                "shutdown grace over: dropping connections"
            );
            for task in tasks {
                R::abort(task).await;
            }
        }
        R::abort(timers).await;
        Ok(())
    }
}
