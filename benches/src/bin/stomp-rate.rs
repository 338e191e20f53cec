//! STOMP codec rates in frames per second (one core), no criterion: about a second per workload.
//!
//! ```sh
//! cargo run --release -p duplex-bench --bin stomp-rate             # every workload
//! cargo run --release -p duplex-bench --bin stomp-rate -- --secs 3
//! cargo run --release -p duplex-bench --bin stomp-rate -- --best 5  # best of 5 runs each
//! ```
//!
//! Workloads (see `benches/benches/support/stomp.rs`): `parse` (decode a batch of frames fed at
//! once, reading `destination`), `serialize` (encode a ready frame), `build+serialize` (builder
//! calls, then encode), each for a MESSAGE with 5 headers and a SEND with 2, both 100 B bodies.

use std::time::{Duration, Instant};

#[path = "../../benches/support/stomp.rs"]
mod stomp;

use stomp::{BuildSerialize, Kind, Parse, Serialize};

/// Call `run` (which handles `per_call` frames) for about `secs`; frames per second.
fn rate(per_call: u64, secs: f64, mut run: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    while start.elapsed() < budget / 10 {
        run();
    }
    let start = Instant::now();
    let mut calls = 0u64;
    loop {
        for _ in 0..16 {
            run();
        }
        calls += 16;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return (calls * per_call) as f64 / elapsed.as_secs_f64();
        }
    }
}

fn main() {
    let mut secs = 1.0;
    let mut runs = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--secs takes a number")
            }
            "--best" => {
                runs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--best takes a count")
            }
            other => {
                eprintln!("usage: stomp-rate [--secs S] [--best N] (unknown argument {other:?})");
                std::process::exit(2);
            }
        }
    }
    println!(
        "{:<8} {:>7} {:>16} {:>16} {:>18}",
        "frame", "bytes", "parse", "serialize", "build+serialize"
    );
    for kind in Kind::ALL {
        let best = |f: &mut dyn FnMut() -> f64| (0..runs.max(1)).map(|_| f()).fold(0.0, f64::max);
        let p = best(&mut || {
            let mut w = Parse::new(kind);
            rate(w.frames(), secs, || w.run())
        });
        let s = best(&mut || {
            let mut w = Serialize::new(kind);
            rate(w.frames(), secs, || w.run())
        });
        let b = best(&mut || {
            let mut w = BuildSerialize::new(kind);
            rate(w.frames(), secs, || w.run())
        });
        println!(
            "{:<8} {:>7} {:>10.2} M/s {:>10.2} M/s {:>12.2} M/s",
            kind.name(),
            kind.wire().len(),
            p / 1e6,
            s / 1e6,
            b / 1e6
        );
    }
    println!(
        "(M/s = million frames per second on one core; parse reads `destination` of each frame; \
         best of {runs} run(s) of {secs} s each)"
    );
}
