//! Workloads shared by the `ws_codec` criterion bench and the `codec-gbps` binary.
//!
//! Each workload moves a fixed number of payload bytes per call, so that throughput in bytes per
//! second compares directly with `memcpy` of the same bytes:
//!
//! - [`Decode`]: a server `Connection` receiving masked binary frames. One call copies the wire
//!   bytes into `input_buffer` (what a socket read does), then polls every event: the headers are
//!   decoded, the payload unmasked in place and handed out as `Bytes`, which are dropped.
//! - [`Encode`]: a client `Connection` sending binary frames with `send_binary` (header, copy,
//!   mask), then writing them out with `pending_transmit` + `advance_transmit`.
//! - [`Memcpy`]: `copy_from_slice` of the same bytes, the floor both are compared with.
//! - [`Mask`]: `apply_mask` alone over a payload-sized buffer.
//!
//! Small payloads are batched (several frames per call, about 64 KiB), so per-call overhead does
//! not drown the per-byte cost.
//!
//! The load side (the `loadgen`, `fanout` and `charts` binaries, the peer servers in `examples/`)
//! shares the modules below: a minimal WebSocket client wire layer, `/proc` readings, a latency
//! histogram and the result records.
#![deny(missing_docs)]

pub mod flags;
pub mod histogram;
pub mod peer;
pub mod procfs;
pub mod record;
pub mod wire;

use std::hint::black_box;

use duplex_core::ws::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use duplex_core::ws::mask::apply_mask;
use duplex_core::ws::{Config, Connection, Event};
use duplex_core::{Instant, SeededRng};

/// The payload sizes benchmarked: 20 B, 1 KiB, 16 KiB, 1 MiB.
pub const SIZES: [usize; 4] = [20, 1024, 16 * 1024, 1024 * 1024];

/// A readable name for a payload size.
pub fn size_name(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// Frames per call for a payload size: enough to make about 64 KiB, at least one.
pub fn frames_per_call(size: usize) -> usize {
    (64 * 1024 / size.max(1)).max(1)
}

/// A deterministic payload.
pub fn payload(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u8)
        .collect()
}

/// Encode one binary frame, masked with `key` when given.
pub fn binary_frame(data: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode: OpCode::Binary,
        mask: key,
        payload_len: data.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    let mut out = Vec::with_capacity(n + data.len());
    out.extend_from_slice(&head[..n]);
    out.extend_from_slice(data);
    if let Some(key) = key {
        apply_mask(&mut out[n..], key, 0);
    }
    out
}

/// A workload: `run` processes [`bytes_per_call`](Workload::bytes_per_call) payload bytes.
pub trait Workload {
    /// Payload bytes processed by one [`run`](Workload::run).
    fn bytes_per_call(&self) -> u64;
    /// Do the work once.
    fn run(&mut self);
}

/// Decode + unmask: a server receiving masked binary frames.
pub struct Decode {
    conn: Connection,
    wire: Vec<u8>,
    payload_bytes: u64,
    now: u64,
}

impl Decode {
    /// Frames of `size` payload bytes, [`frames_per_call`] of them per call.
    pub fn new(size: usize) -> Self {
        let data = payload(size);
        let n = frames_per_call(size);
        let mut wire = Vec::new();
        for i in 0..n {
            let key = (0x9e37_79b9u32.wrapping_mul(i as u32 + 1)).to_ne_bytes();
            wire.extend_from_slice(&binary_frame(&data, Some(key)));
        }
        let config = Config {
            max_frame_size: 1 << 30,
            max_message_size: 1 << 30,
            ..Config::default()
        };
        let mut decode = Decode {
            conn: Connection::server(Instant::ZERO, config),
            wire,
            payload_bytes: (size * n) as u64,
            now: 0,
        };
        decode.run(); // warm: grow the receive buffer once
        decode
    }

    /// The bytes one call feeds (headers and payloads).
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }
}

impl Workload for Decode {
    fn bytes_per_call(&self) -> u64 {
        self.payload_bytes
    }

    fn run(&mut self) {
        self.now += 1;
        let buf = self.conn.input_buffer(self.wire.len());
        buf.extend_from_slice(&self.wire);
        self.conn
            .handle_buffered_input(Instant::from_nanos(self.now));
        let mut got = 0;
        while let Some(event) = self.conn.poll_event() {
            match event {
                Event::Message(m) => got += black_box(m.payload().len()) as u64,
                other => panic!("unexpected event {other:?}"),
            }
        }
        assert_eq!(got, self.payload_bytes);
    }
}

/// Encode + mask: a client sending binary frames and writing them out.
pub struct Encode {
    conn: Connection,
    data: Vec<u8>,
    frames: usize,
}

impl Encode {
    /// Frames of `size` payload bytes, [`frames_per_call`] of them per call.
    pub fn new(size: usize) -> Self {
        let config = Config {
            outbound_high_water: usize::MAX,
            ..Config::default()
        };
        let rng = Box::new(SeededRng::new(1));
        let mut encode = Encode {
            conn: Connection::client(Instant::ZERO, config, rng),
            data: payload(size),
            frames: frames_per_call(size),
        };
        encode.run();
        encode
    }
}

impl Workload for Encode {
    fn bytes_per_call(&self) -> u64 {
        (self.data.len() * self.frames) as u64
    }

    fn run(&mut self) {
        for _ in 0..self.frames {
            self.conn.send_binary(&self.data).expect("open");
        }
        let out = self.conn.pending_transmit();
        let n = black_box(out).len();
        self.conn.advance_transmit(n);
    }
}

/// `copy_from_slice` of the same bytes a [`Decode`] call feeds: the floor.
pub struct Memcpy {
    src: Vec<u8>,
    dst: Vec<u8>,
    payload_bytes: u64,
}

impl Memcpy {
    /// Copy the wire bytes of [`Decode::new`]`(size)`, counted as that many payload bytes.
    pub fn new(size: usize) -> Self {
        let n = frames_per_call(size);
        let src = Decode::new(size).wire().to_vec();
        Memcpy {
            dst: vec![0; src.len()],
            src,
            payload_bytes: (size * n) as u64,
        }
    }
}

impl Workload for Memcpy {
    fn bytes_per_call(&self) -> u64 {
        self.payload_bytes
    }

    fn run(&mut self) {
        self.dst.copy_from_slice(black_box(&self.src));
        black_box(&mut self.dst);
    }
}

/// `apply_mask` alone, in place, over [`frames_per_call`] payloads of `size` bytes.
pub struct Mask {
    buf: Vec<u8>,
    size: usize,
    key: [u8; 4],
}

impl Mask {
    /// As many bytes as [`Decode::new`]`(size)` unmasks per call.
    pub fn new(size: usize) -> Self {
        Mask {
            buf: payload(size * frames_per_call(size)),
            size,
            key: [0x37, 0xfa, 0x21, 0x3d],
        }
    }
}

impl Workload for Mask {
    fn bytes_per_call(&self) -> u64 {
        self.buf.len() as u64
    }

    fn run(&mut self) {
        for chunk in self.buf.chunks_mut(self.size) {
            apply_mask(black_box(chunk), self.key, 0);
        }
    }
}
