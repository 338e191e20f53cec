//! Maps the OS monotonic clock onto the core's [`Instant`]: one epoch per process, so every
//! socket, session and broker in one loop share a timeline.
//!
//! Use these when you drive core machines yourself next to this crate's sockets (a
//! [`Broker`](duplex_core::broker::Broker) in your loop): [`now`] for their `now` arguments,
//! [`to_std`] to turn their `poll_timeout` into a deadline, [`poll_timeout`] to turn the earliest
//! deadline into the timeout of [`mio::Poll::poll`].

use std::sync::OnceLock;
use std::time::Duration;

use duplex_core::Instant;

fn epoch() -> std::time::Instant {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Now, as a core instant.
pub fn now() -> Instant {
    Instant::from_duration(epoch().elapsed())
}

/// A core deadline as an OS instant.
pub fn to_std(at: Instant) -> std::time::Instant {
    epoch() + at.since_epoch()
}

/// The timeout to give [`mio::Poll::poll`] so that it returns by `deadline`: `None` (wait for I/O
/// only) without a deadline, zero when it has passed.
pub fn poll_timeout(deadline: Option<std::time::Instant>) -> Option<Duration> {
    deadline.map(|at| at.saturating_duration_since(std::time::Instant::now()))
}

/// The earlier of two optional deadlines.
pub fn earliest(
    a: Option<std::time::Instant>,
    b: Option<std::time::Instant>,
) -> Option<std::time::Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A random source seeded from the OS, for mask keys and handshake keys (RFC 6455 §10.3).
pub(crate) fn os_rng() -> duplex_core::SeededRng {
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect("the OS random source is available");
    duplex_core::SeededRng::new(u64::from_ne_bytes(seed))
}
