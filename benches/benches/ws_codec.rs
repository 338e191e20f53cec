//! WebSocket codec throughput against `memcpy` of the same bytes.
//!
//! Groups (each over 20 B, 1 KiB, 16 KiB and 1 MiB payloads, throughput in payload bytes):
//! - `decode_unmask`: a server `Connection` receiving masked binary frames (copy into
//!   `input_buffer`, decode, unmask in place, poll the events);
//! - `encode_mask`: a client `Connection` `send_binary` + `advance_transmit`;
//! - `memcpy`: `copy_from_slice` of the wire bytes `decode_unmask` feeds;
//! - `apply_mask`: the masking loop alone.
//!
//! Run with `cargo bench -p duplex-bench --bench ws_codec`; see `duplex_bench` for the workloads.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use duplex_bench::{size_name, Decode, Encode, Mask, Memcpy, Workload, SIZES};

fn bench_group<W: Workload>(c: &mut Criterion, name: &str, make: impl Fn(usize) -> W) {
    let mut group = c.benchmark_group(name);
    for size in SIZES {
        let mut workload = make(size);
        group.throughput(Throughput::Bytes(workload.bytes_per_call()));
        if size >= 1 << 20 {
            group.sample_size(20);
        }
        group.bench_function(BenchmarkId::from_parameter(size_name(size)), |b| {
            b.iter(|| workload.run())
        });
    }
    group.finish();
}

fn codec(c: &mut Criterion) {
    bench_group(c, "decode_unmask", Decode::new);
    bench_group(c, "encode_mask", Encode::new);
    bench_group(c, "memcpy", Memcpy::new);
    bench_group(c, "apply_mask", Mask::new);
}

criterion_group!(benches, codec);
criterion_main!(benches);
