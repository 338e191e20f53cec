//! Sweep seeds of the chat scenario and report seeds per minute (used by `scripts/sim-sweep`).
//!
//! `cargo run --release -p duplex-sim --example sweep -- [--seeds A..B] [--clients N] [--no-twice]`
//! (`DUPLEX_SEED` / `DUPLEX_SEEDS` work too).

use duplex_sim::seeds::{parse_range, seeds_from_env, sweep, RunSettings};
use std::time::Instant as WallClock;

fn main() {
    let mut seeds = seeds_from_env(0..100);
    let mut settings = RunSettings::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seeds" => seeds = parse_range(&args.next().expect("--seeds A..B")).expect("A..B"),
            "--clients" => settings.clients = args.next().and_then(|n| n.parse().ok()),
            "--no-twice" => settings.check_determinism = false,
            other => panic!("unknown argument {other}"),
        }
    }
    let (first, last) = (seeds.start, seeds.end);
    // The wall clock measures the sweep from outside; nothing simulated reads it.
    let started = WallClock::now();
    let report = sweep(seeds, settings);
    let secs = started.elapsed().as_secs_f64();
    let runs = if settings.check_determinism { 2 } else { 1 };
    println!(
        "seeds {first}..{last}: {} run ({} failed), {:.1} s wall, {:.0} seeds/minute{}, \
         {} events, {} MESSAGEs checked, {:.0} s virtual",
        report.seeds,
        report.failures.len(),
        secs,
        report.seeds as f64 * 60.0 / secs,
        if runs == 2 { " (each run twice)" } else { "" },
        report.steps,
        report.messages,
        report.virtual_time.as_secs_f64()
    );
    for f in &report.failures {
        println!("FAILED: reproduce with DUPLEX_SEED={}", f.seed);
    }
    if !report.failures.is_empty() {
        std::process::exit(1);
    }
}
