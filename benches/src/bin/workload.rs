//! Fixed workloads for instruction counting (`scripts/callgrind` runs this under
//! `valgrind --tool=callgrind`): no timing, no randomness, the same instructions every run.
//!
//! ```sh
//! workload list                 # the workload names and operations per call
//! workload <name> <calls>       # run `calls` calls of one workload
//! ```
//!
//! Each call performs a fixed number of operations (frames); `scripts/callgrind` runs two call
//! counts and divides the difference, so set-up and warm-up cancel out.

use duplex_bench::{frames_per_call, Decode, Encode, Workload};

#[path = "../../benches/support/stomp.rs"]
mod stomp;
#[path = "../../benches/support/ws.rs"]
mod ws;

use stomp::{BuildSerialize, Kind, Parse, Serialize, BATCH};

/// One call of a workload.
type Call = Box<dyn FnMut()>;

/// A workload: name, operations per call, constructor.
type Entry = (&'static str, u64, fn() -> Call);

/// Every workload.
fn workloads() -> Vec<Entry> {
    fn ws<W: Workload + 'static>(w: W) -> Call {
        let mut w = w;
        Box::new(move || w.run())
    }
    let per = |size: usize| frames_per_call(size) as u64;
    vec![
        ("ws-decode-20B", per(20), || ws(ws::DecodeInput::new(20))),
        ("ws-decode-1KiB", per(1024), || {
            ws(ws::DecodeInput::new(1024))
        }),
        ("ws-decode-16KiB", per(16384), || {
            ws(ws::DecodeInput::new(16384))
        }),
        ("ws-decode-buffered-16KiB", per(16384), || {
            ws(Decode::new(16384))
        }),
        ("ws-encode-20B", per(20), || ws(Encode::new(20))),
        ("ws-encode-16KiB", per(16384), || ws(Encode::new(16384))),
        ("stomp-parse-MESSAGE", BATCH as u64, || {
            let mut w = Parse::new(Kind::Message);
            Box::new(move || w.run())
        }),
        ("stomp-parse-SEND", BATCH as u64, || {
            let mut w = Parse::new(Kind::Send);
            Box::new(move || w.run())
        }),
        ("stomp-serialize-MESSAGE", BATCH as u64, || {
            let mut w = Serialize::new(Kind::Message);
            Box::new(move || w.run())
        }),
        ("stomp-build-serialize-MESSAGE", BATCH as u64, || {
            let mut w = BuildSerialize::new(Kind::Message);
            Box::new(move || w.run())
        }),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = workloads();
    match args.as_slice() {
        [list] if list == "list" => {
            for (name, ops, _) in &all {
                println!("{name} {ops}");
            }
        }
        [name, calls] => {
            let calls: u64 = calls.parse().expect("calls is a number");
            let Some((_, _, make)) = all.iter().find(|(n, _, _)| n == name) else {
                eprintln!("unknown workload {name:?}; `workload list` names them");
                std::process::exit(2);
            };
            let mut run = make();
            for _ in 0..calls {
                run();
            }
        }
        _ => {
            eprintln!("usage: workload list | workload <name> <calls>");
            std::process::exit(2);
        }
    }
}
