//! STOMP fan-out over WebSockets: one publisher, N subscribers on one topic, 100-byte messages.
//! Measures messages delivered per second (all subscribers together) and publish-to-delivery
//! latency, against any STOMP-over-WebSocket broker: the `duplex` server or RabbitMQ Web-STOMP.
//! One JSON line on stdout ([`duplex_bench::record::Fanout`]).
//!
//! ```sh
//! fanout --url ws://127.0.0.1:8080/ws --subs 1000 --pid BROKER_PID --server duplex
//! fanout --url ws://127.0.0.1:15674/ws --subs 1000 --login guest --passcode guest --server rabbitmq-web-stomp
//! ```
//!
//! Every subscriber connects (subprotocols `v12.stomp, v11.stomp, v10.stomp`), sends CONNECT
//! (`host:/`, login/passcode, no heart-beats), SUBSCRIBEs to `--dest` with a receipt and waits for
//! it. Then the publisher SENDs flat out, but never more than `--window` messages ahead of the
//! average subscriber, so queues stay bounded and latency means something. Each body carries its
//! sequence number and send time.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use duplex_bench::flags::{fail, Flags};
use duplex_bench::histogram::Histogram;
use duplex_bench::procfs::CpuTime;
use duplex_bench::record::{Fanout, Record};
use duplex_bench::wire::{self, find, FrameBuf, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, Semaphore};

const USAGE: &str =
    "usage: fanout --url ws://HOST:PORT/PATH [--subs 100] [--size 100] [--window 32] \
[--secs 4] [--warmup 1] [--dest /topic/bench] [--login guest] [--passcode guest] [--vhost /] \
[--pid BROKER_PID] [--server LABEL]";

const PROTOCOLS: &str = "v12.stomp, v11.stomp, v10.stomp";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Connect,
    Warmup,
    Measure,
    Stop,
}

struct Shared {
    epoch: Instant,
    phase: Cell<Phase>,
    ready: Cell<usize>,
    failed: Cell<usize>,
    /// Deliveries over the whole run, and in the measured window.
    delivered_all: Cell<u64>,
    delivered: Cell<u64>,
    published_all: Cell<u64>,
    published: Cell<u64>,
    hist: RefCell<Histogram>,
    progress: Notify,
    first_error: RefCell<Option<String>>,
}

impl Shared {
    fn fail(&self, why: String) {
        self.failed.set(self.failed.get() + 1);
        self.first_error.borrow_mut().get_or_insert(why);
    }
}

struct Target {
    addr: String,
    path: String,
    connect_frame: Vec<u8>,
    dest: String,
}

fn main() {
    let flags = Flags::parse(USAGE);
    let url = flags
        .opt::<String>("url")
        .unwrap_or_else(|| fail(USAGE, "--url is required"));
    let Some(rest) = url.strip_prefix("ws://") else {
        fail(USAGE, "--url must be ws://HOST:PORT/PATH");
    };
    let (addr, path) = match rest.find('/') {
        Some(i) => (rest[..i].to_owned(), rest[i..].to_owned()),
        None => (rest.to_owned(), String::from("/")),
    };
    let connect_frame = format!(
        "CONNECT\naccept-version:1.2,1.1,1.0\nhost:{}\nlogin:{}\npasscode:{}\nheart-beat:0,0\n\n\0",
        flags.string("vhost", "/"),
        flags.string("login", "guest"),
        flags.string("passcode", "guest"),
    )
    .into_bytes();
    let target = Rc::new(Target {
        addr,
        path,
        connect_frame,
        dest: flags.string("dest", "/topic/bench"),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    match local.block_on(&rt, run(&flags, target)) {
        Ok(r) => println!("{}", r.to_line()),
        Err(e) => {
            eprintln!("fanout: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(flags: &Flags, target: Rc<Target>) -> io::Result<Record> {
    let subs: usize = flags.get("subs", 100);
    let size: usize = flags.get::<usize>("size", 100).max(48);
    let window: usize = flags.get::<usize>("window", 32).max(1);
    let secs: f64 = flags.get("secs", 4.0);
    let warmup: f64 = flags.get("warmup", 1.0);
    let pid: Option<u32> = flags.opt("pid");
    let shared = Rc::new(Shared {
        epoch: Instant::now(),
        phase: Cell::new(Phase::Connect),
        ready: Cell::new(0),
        failed: Cell::new(0),
        delivered_all: Cell::new(0),
        delivered: Cell::new(0),
        published_all: Cell::new(0),
        published: Cell::new(0),
        hist: RefCell::new(Histogram::default()),
        progress: Notify::new(),
        first_error: RefCell::new(None),
    });
    let gate = Rc::new(Semaphore::new(64));
    for i in 0..subs {
        let (shared, target, gate) = (shared.clone(), target.clone(), gate.clone());
        tokio::task::spawn_local(async move {
            if let Err(e) = subscriber(i, &target, &gate, &shared).await {
                if shared.phase.get() != Phase::Stop {
                    shared.fail(format!("subscriber {i}: {e}"));
                }
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while shared.ready.get() + shared.failed.get() < subs && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if shared.failed.get() > 0 || shared.ready.get() < subs {
        return Err(io::Error::other(format!(
            "{} of {subs} subscribers failed: {}",
            subs - shared.ready.get(),
            shared.first_error.borrow().clone().unwrap_or_default()
        )));
    }
    let (go_tx, go_rx) = watch::channel(false);
    let publisher = {
        let (shared, target) = (shared.clone(), target.clone());
        tokio::task::spawn_local(async move {
            let r = publisher(&target, subs, size, window, go_rx, &shared).await;
            if let Err(e) = &r {
                shared.fail(format!("publisher: {e}"));
            }
        })
    };
    shared.phase.set(Phase::Warmup);
    let _ = go_tx.send(true);
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;

    let server_before = pid.map(CpuTime::read).transpose()?;
    let client_before = CpuTime::read(0)?;
    let start = Instant::now();
    shared.phase.set(Phase::Measure);
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    shared.phase.set(Phase::Stop);
    let elapsed = start.elapsed().as_secs_f64();
    let client = CpuTime::read(0)?.since(client_before);
    let server = match (pid, server_before) {
        (Some(pid), Some(before)) => Some(CpuTime::read(pid)?.since(before)),
        _ => None,
    };
    // let what was published arrive
    let want = shared.published_all.get() * subs as u64;
    let grace = Instant::now() + Duration::from_secs(2);
    while shared.delivered_all.get() < want && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    publisher.abort();
    if let Some(e) = shared.first_error.borrow().clone() {
        return Err(io::Error::other(e));
    }
    let delivered = shared.delivered.get();
    let hist = shared.hist.borrow();
    Ok(Record::Fanout(Fanout {
        server: flags.string("server", &target.addr),
        subs,
        size,
        window,
        secs: elapsed,
        published: shared.published.get(),
        delivered,
        delivered_per_sec: delivered as f64 / elapsed,
        p50_us: hist.quantile(0.50) as f64 / 1e3,
        p99_us: hist.quantile(0.99) as f64 / 1e3,
        missing: want.saturating_sub(shared.delivered_all.get()),
        server_cpu_ns_per_delivery: server
            .filter(|_| delivered > 0)
            .map(|s| s.stat_ns as f64 / delivered as f64),
        client_cpu_util: client.stat_ns as f64 / 1e9 / elapsed,
    }))
}

/// A WebSocket to the broker with a STOMP session on it (CONNECTED received).
async fn open_session(target: &Target, buf: &mut FrameBuf, key: [u8; 4]) -> io::Result<TcpStream> {
    let mut stream = wire::connect(&target.addr).await?;
    stream.set_zero_linger()?;
    let req = wire::upgrade_request(&target.addr, &target.path, Some(PROTOCOLS));
    wire::handshake(&mut stream, &req, buf).await?;
    let mut out = Vec::new();
    wire::encode_frame(&mut out, OP_TEXT, &target.connect_frame, key);
    stream.write_all(&out).await?;
    expect_frame(&mut stream, buf, b"CONNECTED").await?;
    Ok(stream)
}

/// Read until one STOMP frame arrives; it must start with `command`.
async fn expect_frame(
    stream: &mut TcpStream,
    buf: &mut FrameBuf,
    command: &[u8],
) -> io::Result<()> {
    loop {
        while let Some(f) = buf.next_frame() {
            match f.opcode {
                OP_TEXT | OP_BINARY => {
                    let body = f.payload.strip_prefix(b"\n").unwrap_or(f.payload);
                    if body.is_empty() {
                        continue; // a heart-beat
                    }
                    if body.starts_with(command) {
                        return Ok(());
                    }
                    let end = body.len().min(200);
                    return Err(io::Error::other(format!(
                        "expected {}, got {:?}",
                        String::from_utf8_lossy(command),
                        String::from_utf8_lossy(&body[..end])
                    )));
                }
                OP_CLOSE => return Err(closed(f.payload)),
                _ => {}
            }
        }
        if buf.read_from(stream).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

async fn subscriber(
    i: usize,
    target: &Target,
    gate: &Semaphore,
    shared: &Shared,
) -> io::Result<()> {
    let key = (i as u32).wrapping_mul(0x9e37_79b9).to_be_bytes();
    let mut buf = FrameBuf::new(16 * 1024);
    let mut stream = {
        let _permit = gate.acquire().await;
        let mut stream = open_session(target, &mut buf, key).await?;
        let sub = format!(
            "SUBSCRIBE\nid:0\ndestination:{}\nack:auto\nreceipt:sub-{i}\n\n\0",
            target.dest
        );
        let mut out = Vec::new();
        wire::encode_frame(&mut out, OP_TEXT, sub.as_bytes(), key);
        stream.write_all(&out).await?;
        expect_frame(&mut stream, &mut buf, b"RECEIPT").await?;
        stream
    };
    shared.ready.set(shared.ready.get() + 1);
    let mut stomp = StompSplitter::default();
    let mut pong = Vec::new();
    loop {
        if buf.read_from(&mut stream).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let now = shared.epoch.elapsed().as_nanos() as u64;
        let measuring = shared.phase.get() == Phase::Measure;
        let mut got = 0u64;
        pong.clear();
        while let Some(f) = buf.next_frame() {
            match f.opcode {
                OP_TEXT | OP_BINARY | 0x0 => stomp.feed(f.payload, |frame| {
                    if let Some(sent) = message_time(frame) {
                        got += 1;
                        if measuring {
                            shared.hist.borrow_mut().record(now.saturating_sub(sent));
                        }
                    }
                }),
                OP_PING => wire::encode_frame(&mut pong, OP_PONG, f.payload, key),
                OP_CLOSE => return Err(closed(f.payload)),
                _ => {}
            }
        }
        if got > 0 {
            shared.delivered_all.set(shared.delivered_all.get() + got);
            if measuring {
                shared.delivered.set(shared.delivered.get() + got);
            }
            shared.progress.notify_one();
        }
        if !pong.is_empty() {
            stream.write_all(&pong).await?;
        }
    }
}

/// The error for a close frame from the broker, with its code and reason.
fn closed(payload: &[u8]) -> io::Error {
    let code = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default());
    io::Error::other(format!("closed by the broker: code {code:?} {reason:?}"))
}

/// The send time carried in a MESSAGE frame's body (`SEQ TIME` in decimal), if it is one.
fn message_time(frame: &[u8]) -> Option<u64> {
    let frame = frame
        .strip_prefix(b"\r\n")
        .or(frame.strip_prefix(b"\n"))
        .unwrap_or(frame);
    if !frame.starts_with(b"MESSAGE") {
        return None;
    }
    let body = &frame[find(frame, b"\n\n")? + 2..];
    let time = body.get(21..41)?;
    std::str::from_utf8(time).ok()?.parse().ok()
}

/// Splits a byte stream (WebSocket payloads) into STOMP frames at their NUL terminators. The
/// bodies sent here contain no NUL, so `content-length` need not be honoured.
#[derive(Default)]
struct StompSplitter {
    pending: Vec<u8>,
}

impl StompSplitter {
    fn feed(&mut self, data: &[u8], mut each: impl FnMut(&[u8])) {
        if self.pending.is_empty() {
            let mut rest = data;
            while let Some(nul) = rest.iter().position(|&b| b == 0) {
                each(&rest[..nul]);
                rest = &rest[nul + 1..];
            }
            self.pending.extend_from_slice(rest);
            return;
        }
        self.pending.extend_from_slice(data);
        let mut start = 0;
        while let Some(nul) = self.pending[start..].iter().position(|&b| b == 0) {
            each(&self.pending[start..start + nul]);
            start += nul + 1;
        }
        self.pending.drain(..start);
    }
}

async fn publisher(
    target: &Target,
    subs: usize,
    size: usize,
    window: usize,
    mut go: watch::Receiver<bool>,
    shared: &Shared,
) -> io::Result<()> {
    let key = [0x5a, 0xa5, 0x3c, 0xc3];
    let mut buf = FrameBuf::new(4096);
    let mut stream = open_session(target, &mut buf, key).await?;
    let _ = go.wait_for(|g| *g).await;
    let head = format!(
        "SEND\ndestination:{}\ncontent-length:{size}\n\n",
        target.dest
    );
    let mut frame = Vec::with_capacity(head.len() + size + 1);
    let mut out = Vec::new();
    let mut seq: u64 = 0;
    loop {
        let phase = shared.phase.get();
        if phase == Phase::Stop {
            return Ok(());
        }
        // messages ahead of the average subscriber
        let ahead = seq.saturating_sub(shared.delivered_all.get() / subs as u64);
        let room = (window as u64).saturating_sub(ahead).min(16);
        if room == 0 {
            // wait for deliveries (bounded: a broker that drops must not stall the run)
            let _ =
                tokio::time::timeout(Duration::from_millis(20), shared.progress.notified()).await;
            continue;
        }
        out.clear();
        let now = shared.epoch.elapsed().as_nanos() as u64;
        for _ in 0..room {
            frame.clear();
            frame.extend_from_slice(head.as_bytes());
            let stamp = format!("{seq:020} {now:020} ");
            frame.extend_from_slice(stamp.as_bytes());
            frame.resize(head.len() + size, b'x');
            frame.push(0);
            wire::encode_frame(&mut out, OP_TEXT, &frame, key);
            seq += 1;
        }
        stream.write_all(&out).await?;
        shared.published_all.set(seq);
        if phase == Phase::Measure {
            shared.published.set(shared.published.get() + room);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitter_handles_split_and_joined_frames() {
        let mut s = StompSplitter::default();
        let mut got = Vec::new();
        s.feed(b"MESSAGE\n\nab\0MESS", |f| got.push(f.to_vec()));
        s.feed(b"AGE\n\ncd\0", |f| got.push(f.to_vec()));
        assert_eq!(
            got,
            vec![b"MESSAGE\n\nab".to_vec(), b"MESSAGE\n\ncd".to_vec()]
        );
    }

    #[test]
    fn message_time_reads_the_stamp() {
        let body = format!("{:020} {:020} xxxx", 7, 123456);
        let frame = format!("MESSAGE\ndestination:/topic/a\n\n{body}");
        assert_eq!(message_time(frame.as_bytes()), Some(123456));
        assert_eq!(message_time(b"RECEIPT\nreceipt-id:1\n\n"), None);
    }
}
