//! Getting messages to sessions: topic fan-out, user destinations, queue dispatch with
//! round-robin, prefetch and redelivery, the outbound queue and slow-consumer policy.

use super::config::{DestinationClass, SlowConsumerPolicy};
use super::queue::QueuedMessage;
use super::{Broker, ConnId, InFlight, Kind, Output, Route, SubKey};
use crate::stomp::{AckMode, Frame, Version};
use crate::time::Instant;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt::Write as _;

/// The parts of one topic MESSAGE shared by every subscriber's copy, encoded once per escaping
/// rule (STOMP 1.0 writes headers raw, 1.1 and 1.2 escape them); `None` inside when the message
/// cannot be encoded that way.
#[derive(Default)]
struct SharedParts {
    raw: Option<Option<(Bytes, Bytes)>>,
    escaped: Option<Option<(Bytes, Bytes)>>,
}

impl SharedParts {
    /// The `destination` line and the tail (user headers, `content-length`, blank line, body,
    /// NUL) for `version`.
    fn get(
        &mut self,
        version: Version,
        destination: &str,
        headers: &[(String, String)],
        body: &Bytes,
    ) -> Option<(Bytes, Bytes)> {
        let slot = if version.escapes_headers() {
            &mut self.escaped
        } else {
            &mut self.raw
        };
        slot.get_or_insert_with(|| {
            let mut dest = BytesMut::new();
            Frame::encode_header_line(version, "destination", destination, &mut dest).ok()?;
            let mut tail = BytesMut::with_capacity(body.len() + 64);
            Frame::encode_message_tail(version, headers, body, &mut tail).ok()?;
            Some((dest.freeze(), tail.freeze()))
        })
        .clone()
    }
}

/// What became of one delivery attempt.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Queued to the session as MESSAGE with this sequence number.
    Sent { seq: u64, ack: AckMode },
    /// Not given: the session is slow and the policy is [`SlowConsumerPolicy::DropNewest`].
    Skipped,
    /// The subscription or session is gone (possibly just now, as a slow consumer).
    Gone,
    /// The message cannot be encoded for that session (e.g. CR/LF in a 1.0 header).
    Failed,
}

impl Broker {
    /// Move the session's pending bytes into the outbound queue; signal the driver once.
    /// Every change to a session goes through here, so its deadline is re-indexed here too.
    pub(crate) fn flush(&mut self, now: Instant, id: ConnId) {
        self.reindex_deadline(id);
        if let Some(bytes) = self
            .conns
            .get_mut(&id)
            .and_then(|c| c.session.poll_transmit())
        {
            self.push_outbound(now, id, bytes);
        }
    }

    /// Append `bytes` to `id`'s outbound queue, count them, and signal the driver once.
    fn push_outbound(&mut self, now: Instant, id: ConnId, bytes: Bytes) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        self.stats.outbound_bytes += bytes.len() as u64;
        c.outbound.push(now, bytes);
        self.stats.outbound_peak = self.stats.outbound_peak.max(c.outbound.len() as u64);
        if !c.transmit_signalled {
            c.transmit_signalled = true;
            self.outputs.push_back(Output::Transmit(id));
        }
    }

    /// The subscription's ack mode if `key` may be given a message now. Otherwise what became
    /// of the attempt: the subscription or session is gone, or the session's outbound queue is
    /// over its limits and the slow-consumer policy of `class` skips it or closes it.
    fn admit(
        &mut self,
        now: Instant,
        key: &SubKey,
        class: DestinationClass,
    ) -> Result<AckMode, Delivery> {
        let limits = self.config.outbound;
        let Some(c) = self.conns.get_mut(&key.conn) else {
            return Err(Delivery::Gone);
        };
        let Some(ack) = c.subs.get(&key.id).filter(|_| !c.detached).map(|s| s.ack) else {
            return Err(Delivery::Gone);
        };
        let Some(overrun) = c.outbound.overrun(now, &limits) else {
            return Ok(ack);
        };
        Err(match self.config.slow_consumer.for_class(class) {
            SlowConsumerPolicy::DropNewest => Delivery::Skipped,
            SlowConsumerPolicy::Disconnect => {
                tracing::debug!(conn = %key.conn, ?overrun, "closing slow consumer");
                self.stats.slow_consumer_disconnects += 1;
                self.refuse(now, key.conn, &overrun.message(), None);
                Delivery::Gone
            }
        })
    }

    /// Route a message from the application or a handler. False when unroutable.
    pub(crate) fn route(
        &mut self,
        now: Instant,
        destination: &str,
        headers: Vec<(String, String)>,
        body: Bytes,
    ) -> bool {
        match self.classify(destination) {
            Kind::Topic => self.publish_topic(now, destination, &headers, &body),
            Kind::Queue => self.enqueue(destination, headers, body),
            Kind::User => match self.split_user_destination(destination) {
                Some((user, rest)) => {
                    let (user, rest) = (user.to_owned(), rest.to_owned());
                    self.publish_user(now, &user, None, &rest, &headers, &body);
                }
                None => {
                    self.count_unroutable();
                    return false;
                }
            },
            Kind::App | Kind::Unknown => {
                self.count_unroutable();
                return false;
            }
        }
        self.stats.messages_in += 1;
        true
    }

    pub(crate) fn count_unroutable(&mut self) {
        self.stats.unroutable += 1;
        self.stats.dropped += 1;
    }

    /// Every subscription whose pattern matches, in a fixed order.
    pub(crate) fn publish_topic(
        &mut self,
        now: Instant,
        destination: &str,
        headers: &[(String, String)],
        body: &Bytes,
    ) {
        let mut keys: Vec<SubKey> = self
            .topics_exact
            .get(destination)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        keys.extend(
            self.topics_wild
                .iter()
                .filter(|(_, p)| p.matches(destination))
                .map(|(k, _)| k.clone()),
        );
        keys.sort();
        let mut shared = SharedParts::default();
        for key in keys {
            let delivery =
                match self.deliver_shared(now, &key, destination, headers, body, &mut shared) {
                    Some(delivery) => delivery,
                    None => self.deliver(
                        now,
                        &key,
                        destination,
                        headers,
                        body,
                        DestinationClass::Topic,
                        false,
                    ),
                };
            self.count_fan_out_miss(&delivery);
        }
    }

    /// [`deliver`](Self::deliver) for topic fan-out, with the parts of the MESSAGE every copy
    /// shares (the `destination` line; the user headers, `content-length`, body and NUL) encoded
    /// once per escaping rule into `shared`; each copy writes only `subscription`, `message-id`
    /// and `ack` around them. The bytes are those `ServerSession::send_message` would write.
    /// `None` when this session must take the general path: not connected, or it has a timer
    /// (a heart-beat to re-arm, which only the session can do), or a header cannot be encoded
    /// for its version (the general path then reports the failure).
    fn deliver_shared(
        &mut self,
        now: Instant,
        key: &SubKey,
        destination: &str,
        headers: &[(String, String)],
        body: &Bytes,
        shared: &mut SharedParts,
    ) -> Option<Delivery> {
        let c = self.conns.get(&key.conn)?;
        if !c.session.is_connected() || c.session.poll_timeout().is_some() {
            return None;
        }
        let version = c.session.version();
        let (dest_line, tail) = shared.get(version, destination, headers, body)?;
        let ack = match self.admit(now, key, DestinationClass::Topic) {
            Ok(ack) => ack,
            Err(missed) => return Some(missed),
        };
        let seq = self.next_seq;
        let with_ack = version == Version::V1_2 && ack != AckMode::Auto;
        let id_len = self.id_prefix.len() + 21;
        let mut out = BytesMut::with_capacity(
            8 + 14
                + key.id.as_str().len() * 2
                + 12
                + id_len
                + if with_ack { 5 + id_len } else { 0 }
                + dest_line.len()
                + tail.len(),
        );
        out.put_slice(b"MESSAGE\n");
        Frame::encode_header_line(version, "subscription", key.id.as_str(), &mut out).ok()?;
        // The message id is hex, '-' and digits: nothing to escape or refuse in any version.
        out.put_slice(b"message-id:");
        let id_start = out.len();
        let _ = write!(out, "{}-{seq}", self.id_prefix);
        let id_end = out.len();
        out.put_u8(b'\n');
        out.put_slice(&dest_line);
        if with_ack {
            out.put_slice(b"ack:");
            out.extend_from_within(id_start..id_end);
            out.put_u8(b'\n');
        }
        out.put_slice(&tail);
        self.next_seq += 1;
        // Whatever the session queued before goes first, as `send_message` would append.
        self.flush(now, key.conn);
        self.push_outbound(now, key.conn, out.freeze());
        self.stats.messages_out += 1;
        Some(Delivery::Sent { seq, ack })
    }

    /// Every session of `user` with a user subscription matching `destination` (user-relative);
    /// with `only`, just that connection's subscriptions.
    pub(crate) fn publish_user(
        &mut self,
        now: Instant,
        user: &str,
        only: Option<ConnId>,
        destination: &str,
        headers: &[(String, String)],
        body: &Bytes,
    ) {
        let keys: Vec<SubKey> = match self.users.get(user) {
            Some(subs) => subs
                .iter()
                .filter(|(k, p)| only.map_or(true, |c| k.conn == c) && p.matches(destination))
                .map(|(k, _)| k.clone())
                .collect(),
            None => return,
        };
        let shown = format!("{}{}", self.config.user_prefix, destination);
        for key in keys {
            let delivery = self.deliver(
                now,
                &key,
                &shown,
                headers,
                body,
                DestinationClass::User,
                false,
            );
            self.count_fan_out_miss(&delivery);
        }
    }

    /// [`publish_user`](Self::publish_user) to the subscriptions of `conn` under its principal.
    pub(crate) fn publish_session(
        &mut self,
        now: Instant,
        conn: ConnId,
        destination: &str,
        headers: &[(String, String)],
        body: &Bytes,
    ) {
        if let Some(user) = self.conns.get(&conn).and_then(|c| c.principal.clone()) {
            self.publish_user(now, &user, Some(conn), destination, headers, body);
        }
    }

    fn count_fan_out_miss(&mut self, delivery: &Delivery) {
        match delivery {
            Delivery::Skipped => {
                self.stats.slow_consumer_drops += 1;
                self.stats.dropped += 1;
            }
            Delivery::Failed => self.count_unroutable(),
            Delivery::Sent { .. } | Delivery::Gone => {}
        }
    }

    /// Append to a queue (bounded by `max_queue_depth`) and mark it for dispatch.
    pub(crate) fn enqueue(
        &mut self,
        destination: &str,
        headers: Vec<(String, String)>,
        body: Bytes,
    ) {
        let depth = self.config.max_queue_depth;
        let q = self.queues.entry(destination.to_owned()).or_default();
        if q.pending.len() >= depth {
            self.stats.queue_overflow += 1;
            self.stats.dropped += 1;
            return;
        }
        q.pending.push_back(QueuedMessage {
            destination: destination.to_owned(),
            headers,
            body,
            redeliveries: 0,
            avoid: None,
        });
        self.dirty.insert(destination.to_owned());
    }

    /// Put a message given back by `from` at the head of its queue, or drop it past the
    /// redelivery limit.
    pub(crate) fn requeue(&mut self, mut message: QueuedMessage, from: Option<SubKey>) {
        message.redeliveries += 1;
        if message.redeliveries > self.config.redelivery_limit {
            self.stats.redelivery_exhausted += 1;
            self.stats.dropped += 1;
            return;
        }
        self.stats.redeliveries += 1;
        message.avoid = from;
        let dest = message.destination.clone();
        self.queues
            .entry(dest.clone())
            .or_default()
            .pending
            .push_front(message);
        self.dirty.insert(dest);
    }

    /// Dispatch every queue that may be able to deliver, until none can.
    pub(crate) fn run_dispatch(&mut self, now: Instant) {
        while let Some(dest) = self.dirty.pop_first() {
            self.dispatch(now, &dest);
        }
    }

    fn dispatch(&mut self, now: Instant, dest: &str) {
        loop {
            let Some(q) = self.queues.get_mut(dest) else {
                return;
            };
            if q.is_idle() {
                self.queues.remove(dest);
                return;
            }
            if q.consumers.is_empty() {
                return;
            }
            let Some(message) = q.pending.pop_front() else {
                return;
            };
            let candidates = q.candidates(message.avoid.as_ref());
            let mut placed = false;
            for key in candidates {
                if !self.has_prefetch_room(&key) {
                    continue;
                }
                let delivery = self.deliver(
                    now,
                    &key,
                    &message.destination,
                    &message.headers,
                    &message.body,
                    DestinationClass::Queue,
                    message.redeliveries > 0,
                );
                match delivery {
                    Delivery::Sent { seq, ack } => {
                        if let Some(q) = self.queues.get_mut(dest) {
                            q.advance_past(&key);
                        }
                        if ack != AckMode::Auto {
                            self.track(&key, seq, message.clone());
                        }
                        placed = true;
                        break;
                    }
                    Delivery::Failed => {
                        self.count_unroutable();
                        placed = true;
                        break;
                    }
                    Delivery::Skipped | Delivery::Gone => {}
                }
            }
            if !placed {
                // Every consumer is slow or at its prefetch limit: hold the message.
                self.queues
                    .entry(dest.to_owned())
                    .or_default()
                    .pending
                    .push_front(message);
                return;
            }
        }
    }

    fn has_prefetch_room(&self, key: &SubKey) -> bool {
        let max = self.config.max_unacked_per_subscription;
        self.conns
            .get(&key.conn)
            .and_then(|c| c.subs.get(&key.id))
            .is_some_and(|s| s.ack == AckMode::Auto || s.unacked < max)
    }

    fn track(&mut self, key: &SubKey, seq: u64, message: QueuedMessage) {
        if let Some(c) = self.conns.get_mut(&key.conn) {
            if let Some(s) = c.subs.get_mut(&key.id) {
                s.unacked += 1;
            }
            c.in_flight_ids
                .insert(message_id(&self.id_prefix, seq), seq);
            c.in_flight.insert(
                seq,
                InFlight {
                    sub: key.id.clone(),
                    message,
                },
            );
        }
    }

    /// One MESSAGE to one subscription, unless the session is a slow consumer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn deliver(
        &mut self,
        now: Instant,
        key: &SubKey,
        destination: &str,
        headers: &[(String, String)],
        body: &Bytes,
        class: DestinationClass,
        redelivered: bool,
    ) -> Delivery {
        let ack = match self.admit(now, key, class) {
            Ok(ack) => ack,
            Err(missed) => return missed,
        };
        let Some(c) = self.conns.get_mut(&key.conn) else {
            return Delivery::Gone;
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let message_id = message_id(&self.id_prefix, seq);
        let mut extra: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        if redelivered {
            extra.push(("redelivered", "true"));
        }
        let sent = c.session.send_message(
            &key.id,
            destination,
            &message_id,
            None,
            &extra,
            body.clone(),
        );
        if let Err(error) = sent {
            tracing::debug!(conn = %key.conn, %error, "MESSAGE not sent");
            return Delivery::Failed;
        }
        self.stats.messages_out += 1;
        self.flush(now, key.conn);
        Delivery::Sent { seq, ack }
    }

    /// Stop routing to and from `id`: drop its subscriptions and transactions, give its unacked
    /// queue messages back. With `close`, tell the driver to close the transport.
    pub(crate) fn detach(&mut self, id: ConnId, close: bool) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.detached {
            return;
        }
        c.detached = true;
        c.transactions.clear();
        let subs: Vec<_> = c.subs.keys().cloned().collect();
        for sub in subs {
            self.remove_subscription(id, &sub);
        }
        if close {
            self.outputs.push_back(Output::Close(id));
        }
    }

    /// Unindex one subscription and give its unacked messages back, in delivery order.
    pub(crate) fn remove_subscription(&mut self, id: ConnId, sub: &crate::stomp::SubscriptionId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(s) = c.subs.remove(sub) else {
            return;
        };
        let seqs: Vec<u64> = c
            .in_flight
            .iter()
            .filter(|(_, f)| &f.sub == sub)
            .map(|(seq, _)| *seq)
            .collect();
        let mut returned = Vec::with_capacity(seqs.len());
        for seq in seqs {
            if let Some(f) = c.in_flight.remove(&seq) {
                returned.push(f.message);
            }
            c.in_flight_ids.remove(&message_id(&self.id_prefix, seq));
        }
        let key = SubKey {
            conn: id,
            id: sub.clone(),
        };
        match s.route {
            Route::Topic(p) => {
                if p.is_literal() {
                    self.unindex_exact_topic(&key, &p);
                } else {
                    self.topics_wild.remove(&key);
                }
            }
            Route::Queue(q) => {
                if let Some(queue) = self.queues.get_mut(&q) {
                    queue.remove_consumer(&key);
                }
                self.dirty.insert(q);
            }
            Route::User => {
                let principal = self.conns.get(&id).and_then(|c| c.principal.clone());
                if let Some(p) = principal {
                    if let Some(m) = self.users.get_mut(&p) {
                        m.remove(&key);
                        if m.is_empty() {
                            self.users.remove(&p);
                        }
                    }
                }
            }
        }
        // Reverse, so pushing each to the front keeps the original order.
        for message in returned.into_iter().rev() {
            self.requeue(message, Some(key.clone()));
        }
    }

    fn unindex_exact_topic(&mut self, key: &SubKey, pattern: &super::Pattern) {
        let dest = pattern.as_str();
        if let Some(set) = self.topics_exact.get_mut(dest) {
            set.remove(key);
            if set.is_empty() {
                self.topics_exact.remove(dest);
            }
        }
    }
}

/// `message-id` values: a per-broker random prefix and a sequence number, unique per
/// delivery (a redelivered message gets a new one, as RabbitMQ does).
pub(crate) fn message_id(prefix: &str, seq: u64) -> String {
    format!("{prefix}-{seq}")
}
