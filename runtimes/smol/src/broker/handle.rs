//! [`BrokerHandle`]: what the application holds to publish, reach users, read counters and
//! shut down; [`AppContext`]: what an async `/app` handler replies through.

use std::sync::Arc;

use bytes::Bytes;
use duplex_core::broker::{Broker, BrokerError, BrokerStats, ConnId};

use super::hub::{HostStats, Hub};

/// A cloneable handle on a running (or about to run) [`BrokerServer`](super::BrokerServer).
/// Every call takes the broker lock briefly and never waits for I/O.
#[derive(Clone)]
pub struct BrokerHandle {
    pub(crate) hub: Arc<Hub>,
}

impl std::fmt::Debug for BrokerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerHandle").finish_non_exhaustive()
    }
}

impl BrokerHandle {
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
        let h = self.host_stats();
        use duplex_core::broker::prometheus_row as row;
        row(
            &mut out,
            "accepted_total",
            "counter",
            "TCP connections accepted.",
            h.accepted,
        );
        row(
            &mut out,
            "refused_over_limit_total",
            "counter",
            "Connections refused at the connection limit.",
            h.refused_over_limit,
        );
        row(
            &mut out,
            "handshake_failures_total",
            "counter",
            "TLS or WebSocket handshakes failed or refused.",
            h.handshake_failures,
        );
        row(
            &mut out,
            "http_requests_total",
            "counter",
            "Plain HTTP requests answered.",
            h.http_requests,
        );
        row(
            &mut out,
            "async_handler_drops_total",
            "counter",
            "App messages dropped: too many async handlers running.",
            h.async_handler_drops,
        );
        out
    }

    /// Run `f` on the broker itself (for calls this handle does not wrap); its outputs are
    /// delivered when `f` returns. Do not block in `f`: every connection waits on this lock.
    pub fn with_broker<R>(&self, f: impl FnOnce(&mut Broker) -> R) -> R {
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

/// Handed to an async `/app` handler with the message: replies go through the broker like
/// those of a synchronous handler, but whenever the handler gets to them (after the SEND's
/// RECEIPT, which means "handed off").
#[derive(Clone, Debug)]
pub struct AppContext {
    handle: BrokerHandle,
    conn: ConnId,
    principal: String,
}

impl AppContext {
    pub(crate) fn new(handle: BrokerHandle, conn: ConnId, principal: String) -> Self {
        AppContext {
            handle,
            conn,
            principal,
        }
    }

    /// The sender's principal.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// Publish to a topic or queue (Spring's `@SendTo`).
    pub fn publish(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(), BrokerError> {
        self.handle.publish(destination, headers, body)
    }

    /// Send to every session of the sender's user subscribed to `/user{destination}`
    /// (Spring's `@SendToUser`).
    pub fn reply_to_user(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.handle
            .send_to_user(&self.principal, destination, headers, body)
    }

    /// Send to the sending session only (Spring's `@SendToUser(broadcast = false)`).
    pub fn reply_to_session(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.handle
            .send_to_session(self.conn, destination, headers, body)
    }

    /// The server's handle, to reach anyone else.
    pub fn handle(&self) -> &BrokerHandle {
        &self.handle
    }
}
