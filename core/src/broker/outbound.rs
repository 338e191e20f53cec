//! A session's outbound queue: encoded bytes the transport has not taken yet, with the time each
//! chunk was queued, so the broker can tell a slow consumer by size and by age.

use super::config::OutboundLimits;
use crate::time::Instant;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Duration;

/// Why a session counts as a slow consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overrun {
    Bytes(usize),
    Age(Duration),
}

impl Overrun {
    pub(crate) fn message(self) -> String {
        match self {
            Overrun::Bytes(n) => format!("slow consumer: outbound queue over {n} bytes"),
            Overrun::Age(d) => format!("slow consumer: outbound bytes waiting over {d:?}"),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Outbound {
    chunks: VecDeque<(Instant, Bytes)>,
    bytes: usize,
}

impl Outbound {
    pub(crate) fn push(&mut self, now: Instant, bytes: Bytes) {
        if !bytes.is_empty() {
            self.bytes += bytes.len();
            self.chunks.push_back((now, bytes));
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes
    }

    /// Everything queued, as one buffer.
    pub(crate) fn take(&mut self) -> Option<Bytes> {
        self.bytes = 0;
        match self.chunks.len() {
            0 => None,
            1 => self.chunks.pop_front().map(|(_, b)| b),
            _ => {
                let total = self.chunks.iter().map(|(_, b)| b.len()).sum();
                let mut out = BytesMut::with_capacity(total);
                for (_, b) in self.chunks.drain(..) {
                    out.extend_from_slice(&b);
                }
                Some(out.freeze())
            }
        }
    }

    /// Over a limit at `now`? Checked before a new message is queued, so one message larger
    /// than `max_bytes` still goes to a session that keeps up.
    pub(crate) fn overrun(&self, now: Instant, limits: &OutboundLimits) -> Option<Overrun> {
        if self.bytes > limits.max_bytes {
            return Some(Overrun::Bytes(limits.max_bytes));
        }
        let (since, _) = self.chunks.front()?;
        (now - *since > limits.max_age).then_some(Overrun::Age(limits.max_age))
    }
}
