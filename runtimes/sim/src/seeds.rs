//! Seeds: `DUPLEX_SEED=N` replays one, `DUPLEX_SEEDS=A..B` sweeps a range, and every failure
//! prints `reproduce with DUPLEX_SEED=N`. With `check_determinism`, each seed runs twice and the
//! two trace hashes must match.

use crate::scenario::{run_chat, schedule, Options, Report};
use crate::world::SimError;
use std::ops::Range;
use std::time::Duration;

/// Which seeds to run, from the environment: `DUPLEX_SEED=N` (one), `DUPLEX_SEEDS=A..B`
/// (a half-open range), else `default`.
pub fn seeds_from_env(default: Range<u64>) -> Range<u64> {
    if let Some(seed) = std::env::var("DUPLEX_SEED")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        return seed..seed + 1;
    }
    std::env::var("DUPLEX_SEEDS")
        .ok()
        .and_then(|s| parse_range(&s))
        .unwrap_or(default)
}

/// `"A..B"` (half-open) or `"A..=B"`.
pub fn parse_range(s: &str) -> Option<Range<u64>> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once("..=") {
        return Some(a.trim().parse().ok()?..b.trim().parse::<u64>().ok()? + 1);
    }
    let (a, b) = s.split_once("..")?;
    Some(a.trim().parse().ok()?..b.trim().parse().ok()?)
}

/// How to run a seed.
#[derive(Clone, Copy, Debug)]
pub struct RunSettings {
    /// Override the seed's client count.
    pub clients: Option<usize>,
    /// Run each seed twice and compare trace hashes.
    pub check_determinism: bool,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            clients: None,
            check_determinism: true,
        }
    }
}

/// Run the chat scenario for one seed (twice when checking determinism).
pub fn run_seed(seed: u64, settings: RunSettings) -> Result<Report, SimError> {
    let options = Options::draw(seed, settings.clients);
    let ops = schedule(seed, &options);
    let first = run_chat(seed, &options, &ops)?;
    if settings.check_determinism {
        let second = run_chat(seed, &options, &ops)?;
        if first != second {
            return Err(SimError {
                seed,
                at: duplex_core::Instant::ZERO,
                message: format!(
                    "nondeterminism: two runs of the same seed differ ({:?} vs {:?})",
                    first.stats, second.stats
                ),
                trace_tail: String::new(),
            });
        }
    }
    Ok(first)
}

/// What a sweep did.
#[derive(Clone, Debug, Default)]
pub struct SweepReport {
    /// Seeds run.
    pub seeds: u64,
    /// The first failures (at most 10).
    pub failures: Vec<SimError>,
    /// Simulated events handled.
    pub steps: u64,
    /// MESSAGE frames checked.
    pub messages: u64,
    /// Virtual time simulated.
    pub virtual_time: Duration,
}

/// Run every seed in `seeds`; print `reproduce with DUPLEX_SEED=N` for each failure.
pub fn sweep(seeds: Range<u64>, settings: RunSettings) -> SweepReport {
    let mut report = SweepReport::default();
    for seed in seeds {
        report.seeds += 1;
        match run_seed(seed, settings) {
            Ok(r) => {
                report.steps += r.stats.steps;
                report.messages += r.messages;
                report.virtual_time += r.stats.virtual_time;
            }
            Err(e) => {
                eprintln!("{e}");
                if report.failures.len() < 10 {
                    report.failures.push(e);
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("3..7"), Some(3..7));
        assert_eq!(parse_range(" 3..=7 "), Some(3..8));
        assert_eq!(parse_range("x..7"), None);
    }
}
