//! The session timers: one fixed enum and one table (the shape of quinn-proto's
//! `connection/timer.rs`). STOMP 1.2 §"Heart-beating" and §"DISCONNECT".
//!
//! A session exposes the earliest deadline through `poll_timeout()`; `handle_timeout(now)` fires
//! only the timers whose deadline is `<= now`, so calling it early is a no-op.

use crate::time::Instant;

/// Every timer a STOMP session may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Time to send an EOL because nothing else was sent for the negotiated interval.
    HeartBeatSend = 0,
    /// The peer has been silent for longer than the tolerated interval.
    HeartBeatReceive = 1,
    /// Client: gave up waiting for the RECEIPT of DISCONNECT.
    DisconnectReceipt = 2,
    /// Client: no CONNECTED yet; server: no CONNECT yet.
    Connect = 3,
}

impl Timer {
    const VALUES: [Timer; 4] = [
        Timer::HeartBeatSend,
        Timer::HeartBeatReceive,
        Timer::DisconnectReceipt,
        Timer::Connect,
    ];
}

/// Deadlines, one slot per [`Timer`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimerTable {
    data: [Option<Instant>; 4],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, deadline: Instant) {
        self.data[timer as usize] = Some(deadline);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.data[timer as usize] = None;
    }

    pub(crate) fn stop_all(&mut self) {
        self.data = [None; 4];
    }

    #[cfg(test)]
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.data[timer as usize]
    }

    /// The earliest deadline of any running timer.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.data.iter().flatten().min().copied()
    }

    /// Stop and return the earliest timer whose deadline is `<= now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let timer = Timer::VALUES
            .into_iter()
            .filter(|t| self.data[*t as usize].is_some_and(|d| d <= now))
            .min_by_key(|t| self.data[*t as usize])?;
        self.stop(timer);
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_poll_fires_nothing_and_expired_fire_in_deadline_order() {
        let mut t = TimerTable::default();
        t.set(Timer::Connect, Instant::from_nanos(50));
        t.set(Timer::HeartBeatSend, Instant::from_nanos(30));
        assert_eq!(t.next_timeout(), Some(Instant::from_nanos(30)));
        assert_eq!(t.pop_expired(Instant::from_nanos(29)), None);
        assert_eq!(
            t.pop_expired(Instant::from_nanos(60)),
            Some(Timer::HeartBeatSend)
        );
        assert_eq!(t.pop_expired(Instant::from_nanos(60)), Some(Timer::Connect));
        assert_eq!(t.pop_expired(Instant::from_nanos(60)), None);
        assert_eq!(t.get(Timer::Connect), None);
        assert_eq!(t.next_timeout(), None);
    }
}
