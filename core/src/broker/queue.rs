//! Point-to-point queues (`/queue/**`): messages waiting for a consumer, the consumers in
//! subscription order and the round-robin cursor.

use super::SubKey;
use bytes::Bytes;
use std::collections::VecDeque;

/// A message owned by a queue: waiting, or in flight to one consumer until ACK.
#[derive(Clone, Debug)]
pub(crate) struct QueuedMessage {
    pub(crate) destination: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
    /// How often it was put back (NACK, consumer gone); > 0 means `redelivered:true`.
    pub(crate) redeliveries: u32,
    /// The consumer that last gave it back: tried last on redelivery.
    pub(crate) avoid: Option<SubKey>,
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    pub(crate) pending: VecDeque<QueuedMessage>,
    pub(crate) consumers: Vec<SubKey>,
    pub(crate) next: usize,
}

impl Queue {
    /// The consumers in the order to try for the next message: round-robin from the cursor,
    /// with `avoid` (the consumer that gave the message back) moved to the end.
    pub(crate) fn candidates(&self, avoid: Option<&SubKey>) -> Vec<SubKey> {
        let n = self.consumers.len();
        let mut order: Vec<SubKey> = (0..n)
            .map(|i| self.consumers[(self.next + i) % n].clone())
            .collect();
        if let Some(a) = avoid {
            if let Some(pos) = order.iter().position(|k| k == a) {
                let k = order.remove(pos);
                order.push(k);
            }
        }
        order
    }

    /// Move the cursor past `key` after it took a message.
    pub(crate) fn advance_past(&mut self, key: &SubKey) {
        if let Some(pos) = self.consumers.iter().position(|k| k == key) {
            self.next = (pos + 1) % self.consumers.len();
        }
    }

    pub(crate) fn remove_consumer(&mut self, key: &SubKey) {
        if let Some(pos) = self.consumers.iter().position(|k| k == key) {
            self.consumers.remove(pos);
            if pos < self.next {
                self.next -= 1;
            }
            if self.next >= self.consumers.len() {
                self.next = 0;
            }
        }
    }

    pub(crate) fn is_idle(&self) -> bool {
        #[cfg(feature = "fault-injection")]
        if self.consumers.is_empty() && injected_drop_redelivered(self) {
            return true; // the bug: frees the queue, and the redelivered message with it
        }
        self.pending.is_empty() && self.consumers.is_empty()
    }
}

/// Test-only deliberate bug (feature `fault-injection`, runtime switch
/// `DUPLEX_INJECT_BUG=drop-redelivered`): when the last consumer leaves and the queue's head is a
/// redelivery, the queue counts as idle and is freed — silently dropping its messages. The
/// simulator's sweep must find it (`runtimes/sim/tests/fault_injection.rs`).
#[cfg(feature = "fault-injection")]
fn injected_drop_redelivered(q: &Queue) -> bool {
    q.pending.front().is_some_and(|m| m.redeliveries > 0)
        && std::env::var_os("DUPLEX_INJECT_BUG").is_some_and(|v| v == "drop-redelivered")
}
