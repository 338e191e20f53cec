//! The simulator's randomness: one `u64` seed, split into independent streams.
//!
//! Every random choice on the simulated path comes from a [`SimRng`], which wraps the core's
//! [`SeededRng`]. Each component (the network, each host, the schedule) gets its own stream,
//! derived from the run's seed and a fixed label, so that removing one scheduled operation (as
//! the shrinker does) disturbs the other streams as little as possible.

use duplex_core::{RandomSource, SeededRng};
use std::time::Duration;

/// A seeded generator with the helpers the simulator needs.
#[derive(Clone, Debug)]
pub struct SimRng(SeededRng);

impl SimRng {
    /// The stream for component `label` of the run with `seed`.
    pub fn stream(seed: u64, label: u64) -> Self {
        let mixed = seed ^ label.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        SimRng(SeededRng::new(mixed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            // Lemire's multiply-shift: unbiased enough for simulation, and branch-free.
            ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// Uniform in `lo..=hi` as a `usize`.
    pub fn range_usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range(lo as u64, hi as u64) as usize
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    /// Uniform in `lo..=hi`, at microsecond resolution.
    pub fn duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        let (lo, hi) = (lo.as_micros() as u64, hi.as_micros() as u64);
        Duration::from_micros(self.range(lo, hi))
    }

    /// Milliseconds in `lo..=hi`.
    pub fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.range(lo, hi))
    }

    /// A fresh core generator (for a machine that wants its own `Box<dyn RandomSource>`).
    pub fn fork(&mut self) -> SeededRng {
        SeededRng::new(self.next_u64())
    }

    /// One element of `items`, uniformly.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

impl RandomSource for SimRng {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_replay() {
        let mut a = SimRng::stream(7, 1);
        let mut b = SimRng::stream(7, 1);
        let mut c = SimRng::stream(7, 2);
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
        for _ in 0..1000 {
            assert!(a.range(3, 9) >= 3 && a.range(3, 9) <= 9);
            assert!(a.below(5) < 5);
        }
    }
}
