//! Allocations per STOMP frame, counted with a counting global allocator (DESIGN.md,
//! "Allocation-light"; issue #7: "zero allocations per message").
//!
//! Each test warms up, then counts this thread's allocations over a thousand-odd frames:
//! - decoding small frames (headers read, frames dropped before the next read): **0** per frame;
//! - encoding a ready frame, or a decoded frame as it is (forwarding): **0** per frame;
//! - building a frame with `Frame::new(..).header(..)` and encoding it: **1** per frame, the one
//!   `String` every header of the frame is written into (the body is a shared `Bytes`);
//! - decoding a head that holds escape sequences (a 1.2 value with `\c`): unescaping copies the
//!   headers out, one `String` per name and value plus the text they are pushed into: **2k + 1**
//!   for k headers (here 3 headers: 7). Heads without a `\` take the zero-copy path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use duplex_core::stomp::{Command, Decoded, Decoder, Frame, Limits, Version};

struct Counting;

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    if ENABLED.try_with(Cell::get).unwrap_or(false) {
        COUNT.with(|c| c.set(c.get() + 1));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by this thread while `f` runs.
fn count(f: impl FnOnce()) -> u64 {
    COUNT.with(|c| c.set(0));
    ENABLED.with(|e| e.set(true));
    f();
    ENABLED.with(|e| e.set(false));
    COUNT.with(Cell::get)
}

const ROUNDS: usize = 100;
const BATCH: usize = 16;

fn message() -> Frame {
    Frame::new(Command::Message)
        .header("subscription", "sub-0")
        .header("message-id", "007-1234")
        .header("destination", "/topic/prices.eur")
        .header("ack", "ack-1234")
        .header("content-type", "application/json")
        .with_body(vec![b'x'; 100])
}

fn send() -> Frame {
    Frame::new(Command::Send)
        .header("destination", "/queue/orders")
        .header("content-type", "text/plain")
        .with_body(vec![b'y'; 100])
}

fn wire(frames: &[Frame]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for f in frames {
        f.encode(Version::V1_2, &mut out).unwrap();
        out.extend_from_slice(b"\n"); // a heart-beat EOL between frames
    }
    out.to_vec()
}

/// Feed `input` every round, decode everything, read a few headers, drop the frames. Returns
/// allocations per frame over the measured rounds.
fn decode_allocs(input: &[u8], frames_per_round: usize) -> f64 {
    let mut d = Decoder::new(Version::V1_2, Limits::default());
    let round = |d: &mut Decoder| {
        d.feed(input);
        let mut n = 0;
        while let Some(item) = d.decode().unwrap() {
            if let Decoded::Frame(f) = item {
                assert!(f.get("destination").is_some());
                assert_eq!(f.body.len(), 100);
                assert!(f.headers.iter().count() >= 3);
                n += 1;
            }
        }
        assert_eq!(n, frames_per_round);
    };
    for _ in 0..10 {
        round(&mut d);
    }
    let allocs = count(|| {
        for _ in 0..ROUNDS {
            round(&mut d);
        }
    });
    allocs as f64 / (ROUNDS * frames_per_round) as f64
}

#[test]
fn decoding_small_frames_allocates_nothing() {
    let frames: Vec<Frame> = (0..BATCH)
        .map(|i| if i % 2 == 0 { message() } else { send() })
        .collect();
    assert_eq!(decode_allocs(&wire(&frames), BATCH), 0.0);
    // CR LF line ends take the same path.
    let crlf = String::from_utf8(wire(&frames))
        .unwrap()
        .replace('\n', "\r\n");
    assert_eq!(decode_allocs(crlf.as_bytes(), BATCH), 0.0);
}

#[test]
fn decoding_an_escaped_head_copies_it_out() {
    let f = Frame::new(Command::Send)
        .header("destination", "/queue/a:b") // written as /queue/a\cb
        .header("content-type", "text/plain")
        .with_body(vec![b'y'; 100]);
    // 3 headers with content-length: 3 names + 3 values + the owned text.
    assert_eq!(decode_allocs(&wire(&[f]), 1), 7.0);
}

#[test]
fn encoding_ready_and_decoded_frames_allocates_nothing() {
    let ready = [message(), send()];
    let mut d = Decoder::new(Version::V1_2, Limits::default());
    d.feed(&wire(&ready));
    let mut decoded = Vec::new();
    while let Some(item) = d.decode().unwrap() {
        if let Decoded::Frame(f) = item {
            decoded.push(f);
        }
    }
    assert_eq!(decoded.len(), 2);
    let mut out = BytesMut::with_capacity(4096);
    for frames in [&ready[..], &decoded[..]] {
        let allocs = count(|| {
            for _ in 0..ROUNDS * BATCH {
                for f in frames {
                    f.encode(Version::V1_2, &mut out).unwrap();
                }
                out.clear();
            }
        });
        assert_eq!(allocs, 0);
    }
    // Forwarding a decoded frame writes the same bytes as encoding the frame it came from.
    for (a, b) in ready.iter().zip(&decoded) {
        let (mut x, mut y) = (BytesMut::new(), BytesMut::new());
        a.encode(Version::V1_2, &mut x).unwrap();
        b.encode(Version::V1_2, &mut y).unwrap();
        assert_eq!(x, y);
    }
}

#[test]
fn building_and_encoding_a_frame_allocates_once() {
    let body = Bytes::from(vec![b'x'; 100]);
    drop(body.clone()); // the first clone of a `Bytes` made from a `Vec` makes it shared, once
    let mut out = BytesMut::with_capacity(4096);
    let allocs = count(|| {
        for i in 0..ROUNDS * BATCH {
            let f = Frame::new(Command::Message)
                .header("subscription", "sub-0")
                .header("message-id", if i % 2 == 0 { "1" } else { "2" })
                .header("destination", "/topic/prices.eur")
                .header("ack", "ack-1234")
                .header("content-type", "application/json")
                .with_body(body.clone());
            f.encode(Version::V1_2, &mut out).unwrap();
            out.clear();
        }
    });
    assert_eq!(allocs as usize, ROUNDS * BATCH);
}
