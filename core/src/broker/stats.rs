//! Broker counters.

/// What the broker has done since it started. Every dropped message is counted once in
/// [`dropped`](Self::dropped) and once in the counter that says why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerStats {
    /// Connections open now ([`Broker::open`](super::Broker::open) minus
    /// [`Broker::handle_closed`](super::Broker::handle_closed)).
    pub connections: u64,
    /// Connections opened since start.
    pub connections_total: u64,
    /// SEND frames acted on (after COMMIT for transactional ones), plus `publish`/`send_to_user`
    /// calls.
    pub messages_in: u64,
    /// MESSAGE frames queued to sessions.
    pub messages_out: u64,
    /// Messages dropped for any reason.
    pub dropped: u64,
    /// Topic/user messages not given to a slow consumer ([`SlowConsumerPolicy::DropNewest`](super::SlowConsumerPolicy::DropNewest)).
    pub slow_consumer_drops: u64,
    /// Sessions closed as slow consumers ([`SlowConsumerPolicy::Disconnect`](super::SlowConsumerPolicy::Disconnect)).
    pub slow_consumer_disconnects: u64,
    /// Queue messages put back for redelivery (NACK, consumer closed or unsubscribed).
    pub redeliveries: u64,
    /// Queue messages dropped after [`BrokerConfig::redelivery_limit`](super::BrokerConfig::redelivery_limit).
    pub redelivery_exhausted: u64,
    /// Queue messages dropped because the queue was at [`BrokerConfig::max_queue_depth`](super::BrokerConfig::max_queue_depth).
    pub queue_overflow: u64,
    /// Messages published by the application to a destination that is neither topic, queue nor
    /// user (`publish` returns an error too), or that failed to encode for a session.
    pub unroutable: u64,
    /// `/app` SENDs that no registered handler matched, handed out as
    /// [`Output::AppMessage`](super::Output::AppMessage).
    pub app_messages_out: u64,
    /// Bytes queued to sessions that their transports have not taken yet, all sessions
    /// together (a gauge). Each session's share is bounded by
    /// [`OutboundLimits`](super::OutboundLimits) plus one message and an ERROR, as long as the
    /// driver takes bytes only when it can write them.
    pub outbound_bytes: u64,
    /// The largest backlog any one session has had since start, in bytes.
    pub outbound_peak: u64,
}

impl BrokerStats {
    /// The counters in the Prometheus text format (version 0.0.4), names prefixed `duplex_`.
    /// Runtime adapters append their own host counters.
    pub fn prometheus(&self) -> String {
        let rows: [(&str, &str, &str, u64); 14] = [
            (
                "connections",
                "gauge",
                "Open STOMP connections.",
                self.connections,
            ),
            (
                "connections_total",
                "counter",
                "STOMP connections opened.",
                self.connections_total,
            ),
            (
                "messages_in_total",
                "counter",
                "Messages received and acted on.",
                self.messages_in,
            ),
            (
                "messages_out_total",
                "counter",
                "MESSAGE frames queued to sessions.",
                self.messages_out,
            ),
            (
                "dropped_total",
                "counter",
                "Messages dropped for any reason.",
                self.dropped,
            ),
            (
                "slow_consumer_drops_total",
                "counter",
                "Messages not given to slow consumers.",
                self.slow_consumer_drops,
            ),
            (
                "slow_consumer_disconnects_total",
                "counter",
                "Sessions closed as slow consumers.",
                self.slow_consumer_disconnects,
            ),
            (
                "redeliveries_total",
                "counter",
                "Queue messages put back for redelivery.",
                self.redeliveries,
            ),
            (
                "redelivery_exhausted_total",
                "counter",
                "Queue messages dropped after the redelivery limit.",
                self.redelivery_exhausted,
            ),
            (
                "queue_overflow_total",
                "counter",
                "Queue messages dropped at the queue depth limit.",
                self.queue_overflow,
            ),
            (
                "unroutable_total",
                "counter",
                "Messages with no route.",
                self.unroutable,
            ),
            (
                "app_messages_out_total",
                "counter",
                "Application SENDs no handler matched.",
                self.app_messages_out,
            ),
            (
                "outbound_bytes",
                "gauge",
                "Bytes queued to sessions, not yet written.",
                self.outbound_bytes,
            ),
            (
                "outbound_peak_bytes",
                "gauge",
                "Largest backlog of one session since start.",
                self.outbound_peak,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            prometheus_row(&mut out, name, kind, help, value);
        }
        out
    }
}

/// Append one metric (`duplex_{name}`) in the Prometheus text format.
pub fn prometheus_row(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "# HELP duplex_{name} {help}\n# TYPE duplex_{name} {kind}\nduplex_{name} {value}\n"
    );
}
