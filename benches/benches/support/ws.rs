//! WebSocket decode through `Connection::handle_input` (the machine copies the bytes itself),
//! shared by `codec-gbps` and `workload` (included with `#[path]`). The `duplex_bench::Decode`
//! workload instead copies into `input_buffer` and calls `handle_buffered_input`, as a socket read
//! into the machine's buffer would.
#![allow(dead_code)]

use std::hint::black_box;

use duplex_bench::{binary_frame, frames_per_call, payload, Workload};
use duplex_core::ws::{Config, Connection, Event};
use duplex_core::Instant;

/// Decode + unmask via `handle_input`: a server receiving masked binary frames.
pub struct DecodeInput {
    conn: Connection,
    wire: Vec<u8>,
    payload_bytes: u64,
    now: u64,
}

impl DecodeInput {
    /// Frames of `size` payload bytes, [`frames_per_call`] of them per call (the same wire bytes
    /// as `duplex_bench::Decode::new(size)`).
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
        let mut decode = DecodeInput {
            conn: Connection::server(Instant::ZERO, config),
            wire,
            payload_bytes: (size * n) as u64,
            now: 0,
        };
        decode.run();
        decode
    }
}

impl Workload for DecodeInput {
    fn bytes_per_call(&self) -> u64 {
        self.payload_bytes
    }

    fn run(&mut self) {
        self.now += 1;
        self.conn
            .handle_input(Instant::from_nanos(self.now), black_box(&self.wire));
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
