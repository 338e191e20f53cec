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
