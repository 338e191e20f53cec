//! Codec throughput in GB/s, next to `memcpy` of the same bytes; no criterion, one run of about a
//! second per workload.
//!
//! ```sh
//! cargo run --release -p duplex-bench --bin codec-gbps            # 16 KiB payloads
//! cargo run --release -p duplex-bench --bin codec-gbps -- --all   # 20 B, 1 KiB, 16 KiB, 1 MiB
//! cargo run --release -p duplex-bench --bin codec-gbps -- --all --best 5   # best of 5 runs
//! ```
//!
//! Columns: `decode` is `Connection::handle_input` (the machine copies the wire bytes into its
//! buffer, unmasking payloads during the copy) then polling every event; `decode(buf)` copies the
//! wire bytes into `input_buffer` first (as a socket read into the machine's buffer would), then
//! the decoder unmasks in place as it polls; `encode` is `send_binary` (header, copy, mask) then
//! `advance_transmit`; `memcpy` copies the same wire bytes. Ratios are against `memcpy`.
//!
//! Options: `--all` (every size), `--size N` (one payload size in bytes), `--secs S` (time per
//! workload, default 1), `--best N` (run each workload N times and keep the best: the machine is
//! shared and noisy), `--only decode|decode-buf|encode|mask|memcpy` (one workload, e.g. under
//! `perf`).

use std::time::{Duration, Instant};

use duplex_bench::{size_name, Decode, Encode, Mask, Memcpy, Workload, SIZES};

#[path = "../../benches/support/ws.rs"]
mod ws;

use ws::DecodeInput;

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

/// The best of `n` [`measure`] runs of a fresh workload.
fn best<W: Workload>(n: usize, secs: f64, make: impl Fn() -> W) -> f64 {
    (0..n.max(1))
        .map(|_| measure(&mut make(), secs))
        .fold(0.0, f64::max)
}

fn main() {
    let mut all = false;
    let mut secs = 1.0;
    let mut runs = 1;
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
            "--best" => {
                runs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--best takes a count")
            }
            "--size" => size = args.next().and_then(|s| s.parse().ok()),
            other => {
                eprintln!(
                    "usage: codec-gbps [--all] [--size N] [--secs S] [--best N] \
                     [--only decode|decode-buf|encode|mask|memcpy] \
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
                "decode" => best(runs, secs, || DecodeInput::new(size)),
                "decode-buf" => best(runs, secs, || Decode::new(size)),
                "encode" => best(runs, secs, || Encode::new(size)),
                "mask" => best(runs, secs, || Mask::new(size)),
                "memcpy" => best(runs, secs, || Memcpy::new(size)),
                other => {
                    eprintln!(
                        "--only takes decode, decode-buf, encode, mask or memcpy, not {other:?}"
                    );
                    std::process::exit(2);
                }
            };
            println!("{which} {}: {gbps:.2} GB/s", size_name(size));
        }
        return;
    }
    println!(
        "{:<8} {:>11} {:>11} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8}",
        "payload",
        "decode",
        "decode(buf)",
        "encode",
        "apply_mask",
        "memcpy",
        "dec/cpy",
        "buf/cpy",
        "enc/cpy"
    );
    for size in sizes {
        let memcpy = best(runs, secs, || Memcpy::new(size));
        let decode = best(runs, secs, || DecodeInput::new(size));
        let decode_buf = best(runs, secs, || Decode::new(size));
        let encode = best(runs, secs, || Encode::new(size));
        let mask = best(runs, secs, || Mask::new(size));
        let pct = |x: f64| format!("{:.0}%", 100.0 * x / memcpy);
        println!(
            "{:<8} {:>6.2} GB/s {:>6.2} GB/s {:>6.2} GB/s {:>6.2} GB/s {:>6.2} GB/s {:>8} {:>8} {:>8}",
            size_name(size),
            decode,
            decode_buf,
            encode,
            mask,
            memcpy,
            pct(decode),
            pct(decode_buf),
            pct(encode)
        );
    }
    println!(
        "(GB/s = 10^9 payload bytes per second; decode = handle_input, which copies the wire bytes \
         in; decode(buf) = copy into input_buffer + handle_buffered_input; memcpy copies the same \
         wire bytes; best of {runs} run(s) of {secs} s each)"
    );
}
