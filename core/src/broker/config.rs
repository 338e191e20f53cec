//! Broker configuration: destination prefixes, limits and slow-consumer policies, each with a
//! documented default (spec-notes/broker.md says why).

use crate::stomp::ServerConfig;
use std::time::Duration;

/// Which kind of destination a message was routed through; slow-consumer policy is per class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DestinationClass {
    /// Publish-subscribe (`/topic/**`): every matching subscription gets a copy.
    Topic,
    /// Point-to-point (`/queue/**`): each message goes to exactly one subscription.
    Queue,
    /// A user destination (`/user/**`): every session of that user subscribed to it.
    User,
}

/// What to do when a session's outbound queue is over [`OutboundLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlowConsumerPolicy {
    /// Send ERROR ("slow consumer: …") and close the session. Its unacked queue messages go back
    /// to their queues.
    Disconnect,
    /// Do not give the new message to that session. Topic and user messages are dropped for it
    /// and counted ([`BrokerStats::slow_consumer_drops`](super::BrokerStats::slow_consumer_drops));
    /// a queue message is never lost this way: it goes to another consumer or stays queued until
    /// the session drains.
    DropNewest,
}

/// The policy per destination class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlowConsumerPolicies {
    /// For `/topic` deliveries. Default [`SlowConsumerPolicy::DropNewest`]: a ticker must not kill
    /// a dashboard that lags for a second.
    pub topic: SlowConsumerPolicy,
    /// For `/queue` deliveries. Default [`SlowConsumerPolicy::DropNewest`] (= hold back).
    pub queue: SlowConsumerPolicy,
    /// For `/user` deliveries. Default [`SlowConsumerPolicy::Disconnect`]: replies to one user are
    /// usually not to be silently lost; the client reconnects and resynchronises.
    pub user: SlowConsumerPolicy,
}

impl SlowConsumerPolicies {
    /// The policy for `class`.
    pub fn for_class(&self, class: DestinationClass) -> SlowConsumerPolicy {
        match class {
            DestinationClass::Topic => self.topic,
            DestinationClass::Queue => self.queue,
            DestinationClass::User => self.user,
        }
    }

    /// The same policy for every class.
    pub fn all(policy: SlowConsumerPolicy) -> Self {
        SlowConsumerPolicies {
            topic: policy,
            queue: policy,
            user: policy,
        }
    }
}

impl Default for SlowConsumerPolicies {
    fn default() -> Self {
        SlowConsumerPolicies {
            topic: SlowConsumerPolicy::DropNewest,
            queue: SlowConsumerPolicy::DropNewest,
            user: SlowConsumerPolicy::Disconnect,
        }
    }
}

/// Bounds on the bytes a session has queued that the transport has not taken yet
/// ([`Broker::take_transmit`](super::Broker::take_transmit)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboundLimits {
    /// Over this many untaken bytes the session is a slow consumer. Default 4 MiB (a few
    /// max-size frames: one big message never trips it on its own).
    pub max_bytes: usize,
    /// When the oldest untaken byte is older than this, the session is a slow consumer.
    /// Default 30 s.
    pub max_age: Duration,
}

impl Default for OutboundLimits {
    fn default() -> Self {
        OutboundLimits {
            max_bytes: 4 * 1024 * 1024,
            max_age: Duration::from_secs(30),
        }
    }
}

/// How a [`Broker`](super::Broker) routes and what it bounds.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// Prefixes of publish-subscribe destinations. Default `["/topic"]`.
    pub topic_prefixes: Vec<String>,
    /// Prefixes of point-to-point destinations. Default `["/queue"]`.
    pub queue_prefixes: Vec<String>,
    /// Prefixes of application destinations (SEND only, to handlers). Default `["/app"]`.
    pub app_prefixes: Vec<String>,
    /// Prefix of user destinations. Default `"/user"`.
    pub user_prefix: String,
    /// Segment separator for wildcards and path variables. Default `'/'`.
    pub path_separator: char,
    /// Each session's STOMP configuration.
    pub session: ServerConfig,
    /// Outbound queue bounds per session.
    pub outbound: OutboundLimits,
    /// What to do with a slow consumer, per destination class.
    pub slow_consumer: SlowConsumerPolicies,
    /// A queue message NACKed (or returned by a closing/unsubscribing consumer) more than this
    /// many times is dropped and counted. Default 5.
    pub redelivery_limit: u32,
    /// Most messages waiting in one queue; more are dropped and counted. Default 10 000.
    pub max_queue_depth: usize,
    /// Most unacknowledged messages per `client`/`client-individual` queue subscription (a
    /// prefetch count); a consumer at the limit is skipped. Default 1 000.
    pub max_unacked_per_subscription: usize,
    /// Most SEND/ACK/NACK frames buffered in one transaction; more → ERROR and close.
    /// Default 1 000.
    pub max_transaction_frames: usize,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            topic_prefixes: vec!["/topic".to_owned()],
            queue_prefixes: vec!["/queue".to_owned()],
            app_prefixes: vec!["/app".to_owned()],
            user_prefix: "/user".to_owned(),
            path_separator: '/',
            session: ServerConfig::default(),
            outbound: OutboundLimits::default(),
            slow_consumer: SlowConsumerPolicies::default(),
            redelivery_limit: 5,
            max_queue_depth: 10_000,
            max_unacked_per_subscription: 1_000,
            max_transaction_frames: 1_000,
        }
    }
}

/// Whether `destination` is `prefix` or starts with `prefix` followed by `separator` or `/`.
pub(crate) fn has_prefix(destination: &str, prefix: &str, separator: char) -> bool {
    match destination.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest.starts_with(separator) || rest.starts_with('/'),
        None => false,
    }
}
