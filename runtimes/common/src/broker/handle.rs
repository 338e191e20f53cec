//! [`BrokerHandle`]: what the application holds to publish, reach users, read counters and
//! shut down.

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use duplex_core::broker::{Broker, BrokerError, BrokerStats, ConnId};

use super::hub::Hub;
use super::stats::HostStats;
use crate::runtime::Runtime;

/// A cloneable handle on a running (or about to run) [`BrokerServer`](super::BrokerServer).
/// Every call takes the broker lock briefly and never waits for I/O.
pub struct BrokerHandle<R: Runtime> {
    pub(crate) hub: Arc<Hub<R>>,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> Clone for BrokerHandle<R> {
    fn clone(&self) -> Self {
        BrokerHandle::new(self.hub.clone())
    }
}

impl<R: Runtime> std::fmt::Debug for BrokerHandle<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerHandle").finish_non_exhaustive()
    }
}

impl<R: Runtime> BrokerHandle<R> {
    pub(crate) fn new(hub: Arc<Hub<R>>) -> Self {
        BrokerHandle {
            hub,
            runtime: PhantomData,
        }
    }

    /// Publish to a topic (`/topic/…`), a queue, or `/user/{name}/…`. `headers` are added to
    /// the MESSAGE.
    pub fn publish(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(), BrokerError> {
        let now = self.hub.now();
        self.hub
            .with(|b| b.publish(now, destination, headers, body))
    }

    /// Send to every session of `user` subscribed to `/user{destination}`
    /// (`send_to_user("alice", "/queue/ticks", …)` reaches Alice's `/user/queue/ticks`).
    pub fn send_to_user(
        &self,
        user: &str,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        let now = self.hub.now();
        self.hub
            .with(|b| b.send_to_user(now, user, destination, headers, body))
    }

    /// Send to one connection's subscriptions to `/user{destination}` only.
    pub fn send_to_session(
        &self,
        conn: ConnId,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        let now = self.hub.now();
        self.hub
            .with(|b| b.send_to_session(now, conn, destination, headers, body))
    }

    /// The broker's counters.
    pub fn stats(&self) -> BrokerStats {
        self.hub.with(|b| b.stats().clone())
    }

    /// The hosting layer's counters.
    pub fn host_stats(&self) -> HostStats {
        self.hub.host_stats()
    }

    /// Broker and host counters in the Prometheus text format, for a `/metrics` endpoint.
    pub fn metrics(&self) -> String {
        let mut out = self.stats().prometheus();
        self.host_stats().prometheus(&mut out);
        out
    }

    /// Run `f` on the broker itself (for calls this handle does not wrap); its outputs are
    /// delivered when `f` returns. Do not block in `f`: every connection waits on this lock.
    pub fn with_broker<T>(&self, f: impl FnOnce(&mut Broker) -> T) -> T {
        self.hub.with(f)
    }

    /// Start a graceful shutdown: stop accepting, end every STOMP session without ERROR (a
    /// RECEIPT already owed still goes out), close every WebSocket with 1001 "going away", and
    /// wait for the close handshakes, bounded by
    /// [`shutdown_grace`](super::Builder::shutdown_grace).
    /// [`serve`](super::BrokerServer::serve) returns when that is done.
    pub fn shutdown(&self) {
        self.hub.shutdown.trigger();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.hub.shutdown.is_triggered()
    }
}
