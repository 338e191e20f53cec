//! Maps the OS monotonic clock onto the core's [`Instant`](duplex_core::Instant).

use duplex_core::Instant;

/// The adapter's clock: core instants are nanoseconds since this clock's creation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    /// Now, as a core instant.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_duration(self.epoch.elapsed())
    }

    /// A core deadline as a tokio instant, for `sleep_until`.
    pub(crate) fn to_tokio(self, at: Instant) -> tokio::time::Instant {
        self.epoch + at.since_epoch()
    }
}

/// A random source seeded from the OS, for mask keys and handshake keys (RFC 6455 §10.3).
pub(crate) fn os_rng() -> duplex_core::SeededRng {
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect("the OS random source is available");
    duplex_core::SeededRng::new(u64::from_ne_bytes(seed))
}
