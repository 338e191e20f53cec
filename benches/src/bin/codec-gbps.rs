//! Codec throughput in GB/s, next to `memcpy` of the same bytes; no criterion, one run of about a
//! second per workload.
//!
//! ```sh
//! cargo run --release -p duplex-bench --bin codec-gbps            # 16 KiB payloads
//! cargo run --release -p duplex-bench --bin codec-gbps -- --all   # 20 B, 1 KiB, 16 KiB, 1 MiB
//! ```
//!
//! Options: `--all` (every size), `--size N` (one payload size in bytes), `--secs S` (time per
//! workload, default 1), `--only decode|encode|mask|memcpy` (one workload, e.g. under `perf`).

use std::time::{Duration, Instant};

use duplex_bench::{size_name, Decode, Encode, Mask, Memcpy, Workload, SIZES};

/// Run `w` for about `secs`, returning GB/s (10^9 bytes per second) of payload.
fn measure(w: &mut impl Workload, secs: f64) -> f64 {
    let budget = Duration::from_secs_f64(secs);
    // Warm up for a tenth of the budget, then count whole calls.
    let start = Instant::now();
    while start.elapsed() < budget / 10 {
        w.run();
    }
    let start = Instant::now();
    let mut calls = 0u64;
    loop {
        for _ in 0..8 {
            w.run();
        }
        calls += 8;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return (calls * w.bytes_per_call()) as f64 / elapsed.as_secs_f64() / 1e9;
        }
    }
}

fn main() {
    let mut all = false;
    let mut secs = 1.0;
    let mut only: Option<String> = None;
    let mut size: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--all" => all = true,
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--secs takes a number")
            }
            "--only" => only = args.next(),
            "--size" => size = args.next().and_then(|s| s.parse().ok()),
            other => {
                eprintln!(
                    "usage: codec-gbps [--all] [--size N] [--secs S] [--only decode|encode|mask|memcpy] \
                     (unknown argument {other:?})"
                );
                std::process::exit(2);
            }
        }
    }
    let sizes: Vec<usize> = match (size, all) {
        (Some(n), _) => vec![n],
        (None, true) => SIZES.to_vec(),
        (None, false) => vec![16 * 1024],
    };
    if let Some(which) = only {
        for size in sizes {
            let gbps = match which.as_str() {
                "decode" => measure(&mut Decode::new(size), secs),
                "encode" => measure(&mut Encode::new(size), secs),
                "mask" => measure(&mut Mask::new(size), secs),
                "memcpy" => measure(&mut Memcpy::new(size), secs),
                other => {
                    eprintln!("--only takes decode, encode, mask or memcpy, not {other:?}");
                    std::process::exit(2);
                }
            };
            println!("{which} {}: {gbps:.2} GB/s", size_name(size));
        }
        return;
    }
    println!(
        "{:<8} {:>16} {:>14} {:>12} {:>12} {:>16} {:>12}",
        "payload",
        "decode+unmask",
        "encode+mask",
        "apply_mask",
        "memcpy",
        "decode/memcpy",
        "mask/memcpy"
    );
    for size in sizes {
        let memcpy = measure(&mut Memcpy::new(size), secs);
        let decode = measure(&mut Decode::new(size), secs);
        let encode = measure(&mut Encode::new(size), secs);
        let mask = measure(&mut Mask::new(size), secs);
        println!(
            "{:<8} {:>11.2} GB/s {:>9.2} GB/s {:>7.2} GB/s {:>7.2} GB/s {:>15.0}% {:>11.0}%",
            size_name(size),
            decode,
            encode,
            mask,
            memcpy,
            100.0 * decode / memcpy,
            100.0 * mask / memcpy
        );
    }
    println!(
        "(GB/s = 10^9 payload bytes per second; decode includes copying the wire bytes into \
         input_buffer, as a socket read would; memcpy copies those same wire bytes)"
    );
}
