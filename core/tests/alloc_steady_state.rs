//! "No allocation per frame once warm" (DESIGN.md, Allocation-light), proved with a counting
//! global allocator.
//!
//! Each test warms a `Connection` up with a hundred-odd frames, then turns counting on for this
//! thread only and runs 10 000 more: masked client→server frames into a server, unmasked
//! server→client frames into a client, in sizes of 20 B (text), 1 KiB and 16 KiB (binary), plus
//! pings. Every message is echoed back with `send` and the output drained with
//! `pending_transmit` + `advance_transmit`; every received `Bytes` is dropped before the next read,
//! as an application that is done with it would. The measured region must allocate nothing.
//!
//! When it does, the first counted allocation's backtrace is printed: it names the call.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::Mutex;

use duplex_core::ws::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use duplex_core::ws::mask::apply_mask;
use duplex_core::ws::{Config, Connection, Event, Message, State};
use duplex_core::{Instant, SeededRng};

// --- the counting allocator ---

struct Counting;

thread_local! {
    /// Count allocations made by this thread (the measured region is on).
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    /// Allocations (alloc, alloc_zeroed, realloc) counted on this thread.
    static COUNT: Cell<u64> = const { Cell::new(0) };
    /// We are inside the allocator's own bookkeeping (capturing a backtrace): do not recurse.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// The backtrace of the first allocation counted by the current measurement.
static FIRST: Mutex<Option<String>> = Mutex::new(None);

fn note_alloc(layout: Layout) {
    // `try_with`: during thread teardown the thread-locals may be gone; such allocations are not
    // in any measured region.
    let counting = ENABLED.try_with(Cell::get).unwrap_or(false);
    if !counting || IN_HOOK.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let n = COUNT.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if n == 1 {
        IN_HOOK.with(|h| h.set(true));
        let trace = format!(
            "first allocation: {} bytes (align {})\n{}",
            layout.size(),
            layout.align(),
            Backtrace::force_capture()
        );
        if let Ok(mut first) = FIRST.lock() {
            *first = Some(trace);
        }
        IN_HOOK.with(|h| h.set(false));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout);
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Run `f` with counting on; returns how many allocations it made and the first one's backtrace.
fn count_allocs(f: impl FnOnce()) -> (u64, Option<String>) {
    *FIRST.lock().unwrap() = None;
    COUNT.with(|c| c.set(0));
    ENABLED.with(|e| e.set(true));
    f();
    ENABLED.with(|e| e.set(false));
    let n = COUNT.with(Cell::get);
    (n, FIRST.lock().unwrap().take())
}

fn assert_no_allocs(what: &str, f: impl FnOnce()) {
    let (n, first) = count_allocs(f);
    assert!(
        n == 0,
        "{what}: {n} allocations in the measured region\n{}",
        first.unwrap_or_default()
    );
}

// --- the workload ---

const WARMUP: usize = 120;
const MEASURED: usize = 10_000;

/// One frame on the wire, encoded up front (outside the measured region).
fn frame(opcode: OpCode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    frame_fin(opcode, true, payload, mask)
}

fn frame_fin(opcode: OpCode, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask,
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    let mut out = head[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// The mix of frames a peer sends: 20 B text, 1 KiB and 16 KiB binary, and a ping, masked when
/// the peer is a client.
fn frames(masked: bool) -> Vec<Vec<u8>> {
    let key = |i: u8| masked.then_some([0x37 ^ i, 0xfa, 0x21 ^ i, 0x3d]);
    let text = "twenty bytes of text";
    assert_eq!(text.len(), 20);
    let kib: Vec<u8> = (0..1024u32).map(|i| i as u8).collect();
    let kib16: Vec<u8> = (0..16 * 1024u32).map(|i| (i * 7) as u8).collect();
    vec![
        frame(OpCode::Text, text.as_bytes(), key(1)),
        frame(OpCode::Binary, &kib, key(2)),
        frame(OpCode::Text, text.as_bytes(), key(3)),
        frame(OpCode::Binary, &kib16, key(4)),
        frame(OpCode::Ping, b"are you there", key(5)),
        frame(OpCode::Binary, &kib, key(6)),
    ]
}

/// A 3 KiB binary message in three 1 KiB fragments, then a text message in two fragments, with a
/// ping between fragments (RFC 6455 §5.4 allows control frames there).
fn fragmented_frames(masked: bool) -> Vec<Vec<u8>> {
    let key = |i: u8| masked.then_some([0x11, 0x22 ^ i, 0x33, 0x44 ^ i]);
    let kib = vec![0xa5u8; 1024];
    vec![
        frame_fin(OpCode::Binary, false, &kib, key(1)),
        frame_fin(OpCode::Continuation, false, &kib, key(2)),
        frame(OpCode::Ping, b"mid-message", key(3)),
        frame_fin(OpCode::Continuation, true, &kib, key(4)),
        frame_fin(OpCode::Text, false, "héllo, ".as_bytes(), key(5)),
        frame_fin(OpCode::Continuation, true, "wörld €".as_bytes(), key(6)),
    ]
}

/// How the output is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drain {
    /// `pending_transmit` + `advance_transmit` (documented to allocate nothing).
    Pending,
    /// `poll_transmit`, dropping the `Bytes` at once.
    Poll,
}

/// How the bytes reach the connection.
#[derive(Clone, Copy, Debug)]
enum Feed {
    /// `input_buffer(n)` then `handle_buffered_input`, one whole frame per read.
    Buffer,
    /// `handle_input` with one whole frame.
    Input,
    /// `input_buffer`, in reads of 1500 bytes that straddle frame boundaries, as a socket gives.
    BufferChunked,
}

/// A peer and our connection: feed `frames` round-robin, echo every message, drain the output.
struct Harness {
    conn: Connection,
    wire: Vec<u8>,
    frames: Vec<Vec<u8>>,
    next: usize,
    now: Instant,
    messages: u64,
    drain: Drain,
}

impl Harness {
    fn server() -> Self {
        Self::new(
            Connection::server(Instant::ZERO, Config::default()),
            frames(true),
        )
    }

    fn client() -> Self {
        let rng = Box::new(SeededRng::new(42));
        Self::new(
            Connection::client(Instant::ZERO, Config::default(), rng),
            frames(false),
        )
    }

    fn new(conn: Connection, frames: Vec<Vec<u8>>) -> Self {
        // The chunked feed reads from one long stream of every frame, several times over.
        let wire = frames.iter().flatten().copied().collect();
        Harness {
            conn,
            wire,
            frames,
            next: 0,
            now: Instant::ZERO,
            messages: 0,
            drain: Drain::Pending,
        }
    }

    /// Deliver `n` frames' worth of input, handling everything that results.
    fn run(&mut self, feed: Feed, n: usize) {
        match feed {
            Feed::Buffer | Feed::Input => {
                for _ in 0..n {
                    let i = self.next % self.frames.len();
                    self.next += 1;
                    self.now = Instant::from_nanos(self.now.as_nanos() + 1_000);
                    let bytes = &self.frames[i];
                    match feed {
                        Feed::Buffer => {
                            self.conn.input_buffer(bytes.len()).extend_from_slice(bytes);
                            self.conn.handle_buffered_input(self.now);
                        }
                        _ => self.conn.handle_input(self.now, bytes),
                    }
                    self.drain();
                }
            }
            Feed::BufferChunked => {
                // `n` frames of the repeating stream, cut into 1500-byte reads.
                let per_round = self.frames.len();
                let rounds = n.div_ceil(per_round);
                for _ in 0..rounds {
                    let mut at = 0;
                    while at < self.wire.len() {
                        let read = &self.wire[at..(at + 1500).min(self.wire.len())];
                        at += read.len();
                        self.now = Instant::from_nanos(self.now.as_nanos() + 1_000);
                        self.conn.input_buffer(read.len()).extend_from_slice(read);
                        self.conn.handle_buffered_input(self.now);
                        self.drain();
                    }
                }
            }
        }
    }

    fn drain(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            match event {
                Event::Message(message) => {
                    self.messages += 1;
                    self.conn.send(&message).expect("echo");
                    drop(message);
                }
                Event::Ping(_) | Event::Pong(_) => {}
                other => panic!("unexpected event {other:?}"),
            }
            self.flush();
        }
        self.flush();
    }

    fn flush(&mut self) {
        match self.drain {
            Drain::Pending => {
                let n = self.conn.pending_transmit().len();
                self.conn.advance_transmit(n);
            }
            Drain::Poll => drop(self.conn.poll_transmit()),
        }
        assert_eq!(self.conn.outbound_len(), 0);
    }
}

fn steady_state(mut harness: Harness, feed: Feed, what: &str) {
    harness.run(feed, WARMUP);
    let before = harness.messages;
    assert_no_allocs(what, || harness.run(feed, MEASURED));
    assert!(harness.messages - before >= (MEASURED as u64) / 3);
    assert_eq!(harness.conn.state(), State::Open);
}

#[test]
fn server_input_buffer() {
    steady_state(Harness::server(), Feed::Buffer, "server, input_buffer");
}

#[test]
fn server_handle_input() {
    steady_state(Harness::server(), Feed::Input, "server, handle_input");
}

#[test]
fn server_input_buffer_1500_byte_reads() {
    steady_state(
        Harness::server(),
        Feed::BufferChunked,
        "server, input_buffer in 1500-byte reads",
    );
}

#[test]
fn client_input_buffer() {
    steady_state(Harness::client(), Feed::Buffer, "client, input_buffer");
}

#[test]
fn client_handle_input() {
    steady_state(Harness::client(), Feed::Input, "client, handle_input");
}

#[test]
fn client_input_buffer_1500_byte_reads() {
    steady_state(
        Harness::client(),
        Feed::BufferChunked,
        "client, input_buffer in 1500-byte reads",
    );
}

#[test]
fn server_fragmented_messages() {
    let harness = Harness::new(
        Connection::server(Instant::ZERO, Config::default()),
        fragmented_frames(true),
    );
    steady_state(harness, Feed::Buffer, "server, fragmented messages");
}

#[test]
fn client_fragmented_messages() {
    let rng = Box::new(SeededRng::new(9));
    let harness = Harness::new(
        Connection::client(Instant::ZERO, Config::default(), rng),
        fragmented_frames(false),
    );
    steady_state(harness, Feed::BufferChunked, "client, fragmented messages");
}

#[test]
fn server_poll_transmit() {
    let mut harness = Harness::server();
    harness.drain = Drain::Poll;
    steady_state(harness, Feed::Buffer, "server, poll_transmit");
}

#[test]
fn client_poll_transmit() {
    let mut harness = Harness::client();
    harness.drain = Drain::Poll;
    steady_state(harness, Feed::Input, "client, poll_transmit");
}

/// The counter itself works: a `Vec` is seen, and a `Message` clone is not an allocation.
#[test]
fn the_counter_counts() {
    let (n, first) = count_allocs(|| drop(std::hint::black_box(vec![1u8; 10])));
    assert_eq!(n, 1);
    assert!(first.is_some_and(|t| t.contains("10 bytes")));
    let msg = Message::Binary(bytes::Bytes::from_static(b"x"));
    assert_no_allocs("Message clone", || drop(std::hint::black_box(msg.clone())));
}
