//! The connection's timers: one fixed set, one table (the quinn-proto way).

use crate::time::Instant;

/// Every deadline a WebSocket connection can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// We sent a close frame and wait for the peer's (RFC 6455 §7.1.1).
    Close,
    /// Nothing received for `ping_interval`: send a ping.
    KeepAlive,
    /// Nothing received for `idle_timeout`: fail the connection.
    Idle,
}

impl Timer {
    const ALL: [Timer; 3] = [Timer::Close, Timer::KeepAlive, Timer::Idle];
}

/// Deadlines by timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimerTable {
    deadlines: [Option<Instant>; 3],
}

impl TimerTable {
    /// Arm `timer` for `at`, replacing any earlier deadline.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    /// Disarm `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    /// Disarm every timer.
    pub fn stop_all(&mut self) {
        self.deadlines = [None; 3];
    }

    /// The earliest deadline, if any.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Disarm and return the timers due at `now`, earliest first.
    pub fn expire(&mut self, now: Instant) -> impl Iterator<Item = Timer> {
        let mut due: [Option<(Instant, Timer)>; 3] = [None; 3];
        for t in Timer::ALL {
            if let Some(at) = self.deadlines[t as usize] {
                if at <= now {
                    due[t as usize] = Some((at, t));
                    self.deadlines[t as usize] = None;
                }
            }
        }
        due.sort_by_key(|d| d.map(|(at, _)| at));
        due.into_iter().flatten().map(|(_, t)| t)
    }
}
