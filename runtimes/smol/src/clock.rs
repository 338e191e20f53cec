//! Maps the OS monotonic clock onto the core's [`Instant`](duplex_core::Instant), and core
//! deadlines onto `async-io` timers.

use duplex_core::Instant;

/// The adapter's clock: core instants are nanoseconds since this clock's creation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    epoch: std::time::Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            epoch: std::time::Instant::now(),
        }
    }

    /// Now, as a core instant.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_duration(self.epoch.elapsed())
    }

    /// A timer that fires at the core deadline `at`, or never.
    pub(crate) fn timer(self, at: Option<Instant>) -> async_io::Timer {
        match at {
            Some(at) => async_io::Timer::at(self.epoch + at.since_epoch()),
            None => async_io::Timer::never(),
        }
    }
}

/// A random source seeded from the OS, for mask keys and handshake keys (RFC 6455 §10.3).
pub(crate) fn os_rng() -> duplex_core::SeededRng {
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect("the OS random source is available");
    duplex_core::SeededRng::new(u64::from_ne_bytes(seed))
}
