//! The hosting layer's own counters: [`HostStats`] for the application, kept as atomics in
//! [`HostCounters`] (the broker counts the protocol side in
//! [`BrokerStats`](duplex_core::broker::BrokerStats)).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the hosting layer (the broker counts the protocol side in
/// [`BrokerStats`](duplex_core::broker::BrokerStats)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    /// TCP connections accepted.
    pub accepted: u64,
    /// Connections refused at accept because [`max_connections`](super::Builder::max_connections)
    /// were open.
    pub refused_over_limit: u64,
    /// TLS or WebSocket handshakes that failed or were refused (bad request, Origin, timeout).
    pub handshake_failures: u64,
    /// Plain HTTP requests answered.
    pub http_requests: u64,
    /// `/app` SENDs for an async handler dropped because
    /// [`max_async_in_flight`](super::Builder::max_async_in_flight) were running.
    pub async_handler_drops: u64,
    /// Times the timer task was woken because the earliest deadline moved earlier.
    pub timer_wakeups: u64,
}

#[derive(Debug, Default)]
pub(crate) struct HostCounters {
    pub(crate) accepted: AtomicU64,
    pub(crate) refused_over_limit: AtomicU64,
    pub(crate) handshake_failures: AtomicU64,
    pub(crate) http_requests: AtomicU64,
    pub(crate) async_handler_drops: AtomicU64,
    pub(crate) timer_wakeups: AtomicU64,
}

impl HostCounters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> HostStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HostStats {
            accepted: get(&self.accepted),
            refused_over_limit: get(&self.refused_over_limit),
            handshake_failures: get(&self.handshake_failures),
            http_requests: get(&self.http_requests),
            async_handler_drops: get(&self.async_handler_drops),
            timer_wakeups: get(&self.timer_wakeups),
        }
    }
}

impl HostStats {
    /// Append these counters to a Prometheus text exposition (after the broker's
    /// [`BrokerStats::prometheus`](duplex_core::broker::BrokerStats::prometheus)). Public so that
    /// hosts outside this crate (`duplex_mio::broker`) render the same names.
    pub fn prometheus(&self, out: &mut String) {
        use duplex_core::broker::prometheus_row as row;
        let rows: [(&str, &str, u64); 5] = [
            ("accepted_total", "TCP connections accepted.", self.accepted),
            (
                "refused_over_limit_total",
                "Connections refused at the connection limit.",
                self.refused_over_limit,
            ),
            (
                "handshake_failures_total",
                "TLS or WebSocket handshakes failed or refused.",
                self.handshake_failures,
            ),
            (
                "http_requests_total",
                "Plain HTTP requests answered.",
                self.http_requests,
            ),
            (
                "async_handler_drops_total",
                "App messages dropped: too many async handlers running.",
                self.async_handler_drops,
            ),
        ];
        for (name, help, value) in rows {
            row(out, name, "counter", help, value);
        }
    }
}
