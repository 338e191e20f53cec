//! STOMP codec rates: parse and serialize of small frames, in frames per second.
//!
//! Groups (each for a MESSAGE with 5 headers and a SEND with 2, both with 100 B bodies; throughput
//! in frames, criterion prints "elem/s"):
//! - `stomp_parse`: a `Decoder` fed a batch of 64 frames at once, every frame decoded and its
//!   `destination` read;
//! - `stomp_serialize`: `Frame::encode` of a ready frame;
//! - `stomp_build_serialize`: `Frame::new(..).header(..)` then `encode`, as a session sends.
//!
//! Run with `cargo bench -p duplex-bench --bench stomp_codec`; the workloads live in
//! `support/stomp.rs`, shared with the `stomp-rate` binary.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

#[path = "support/stomp.rs"]
mod stomp;

use stomp::{BuildSerialize, Kind, Parse, Serialize};

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("stomp_parse");
    for kind in Kind::ALL {
        let mut w = Parse::new(kind);
        group.throughput(Throughput::Elements(w.frames()));
        group.bench_function(BenchmarkId::from_parameter(kind.name()), |b| {
            b.iter(|| w.run())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("stomp_serialize");
    for kind in Kind::ALL {
        let mut w = Serialize::new(kind);
        group.throughput(Throughput::Elements(w.frames()));
        group.bench_function(BenchmarkId::from_parameter(kind.name()), |b| {
            b.iter(|| w.run())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("stomp_build_serialize");
    for kind in Kind::ALL {
        let mut w = BuildSerialize::new(kind);
        group.throughput(Throughput::Elements(w.frames()));
        group.bench_function(BenchmarkId::from_parameter(kind.name()), |b| {
            b.iter(|| w.run())
        });
    }
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
