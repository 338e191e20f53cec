//! The echo load generator: N WebSocket connections each sending binary messages of one size to an
//! echo server and waiting for them to come back, in the shape of uWebSockets' `load_test` (as
//! fastwebsockets and tokio-websockets use it). One JSON line of results on stdout
//! ([`duplex_bench::record::Echo`]).
//!
//! ```sh
//! loadgen --addr 127.0.0.1:9001 --conns 100 --size 20 --pid SERVER_PID --server duplex-tokio
//! loadgen ... --rate 20000          # a fixed offered rate (messages/s over all connections)
//! loadgen ... --raw                 # a raw TCP echo: no handshake, masked frames come back
//! loadgen ... --tls --ca cert.pem    # wss: TLS (rustls, ring) trusting exactly cert.pem, SNI localhost
//! loadgen --idle 10000 --addr ... --pid SERVER_PID --server NAME   # RSS per idle connection
//! ```
//!
//! Flat out (the default), each connection keeps `--depth` messages in flight (1, as `load_test`
//! does): every echo that comes back is answered with a new message, and the echoes of one read
//! are answered with one write. With `--rate R` each connection sends on its own schedule (R/N
//! messages/s, staggered), whatever comes back; latency is measured from the moment a message was
//! written. Every echo is checked byte for byte.
//!
//! With `--tls` every connection runs a TLS handshake first (SNI `localhost`, the server must
//! present the certificate in `--ca`), then the same WebSocket exchange inside it. The load loops
//! are generic over the stream, so the plain path runs the code it ran before TLS was added.
//!
//! The client runs on one thread (a current-thread tokio runtime), to be pinned to its own core;
//! `client_cpu_util` near 1.0 in the output says the client, not the server, was the limit.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use duplex_bench::flags::{fail, Flags};
use duplex_bench::histogram::Histogram;
use duplex_bench::procfs::{rss_kib, CpuTime};
use duplex_bench::record::{Echo, Idle, Record};
use duplex_bench::wire::{self, FrameBuf, OP_BINARY};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const USAGE: &str = "usage: loadgen --addr HOST:PORT [--conns 100] [--size 20] [--depth 1] \
[--secs 3] [--warmup 1] [--rate MSGS_PER_SEC] [--pid SERVER_PID] [--server LABEL] [--round N] \
[--raw] [--path /] [--tls --ca CERT.pem] [--step NAME]\n       loadgen --idle CONNS --addr HOST:PORT --pid SERVER_PID [--server LABEL] [--raw] \
[--tls --ca CERT.pem]";

/// Phases of a run; connections only count echoes received while `Measure`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Connect,
    Warmup,
    Measure,
    Stop,
}

/// What every connection task shares (one thread: `Cell`s).
struct Shared {
    phase: Cell<Phase>,
    msgs: Cell<u64>,
    errors: Cell<u64>,
    ready: Cell<usize>,
    hist: RefCell<Histogram>,
}

/// The message every connection sends, and what its echo must look like.
struct Payload {
    /// One masked frame.
    frame: Vec<u8>,
    /// The payload as a server echoes it (unmasked).
    plain: Vec<u8>,
    /// The payload as a raw echo returns it (masked with `key`).
    masked: Vec<u8>,
    key: [u8; 4],
}

impl Payload {
    fn new(size: usize) -> Payload {
        let plain: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = Vec::with_capacity(size + 14);
        wire::encode_frame(&mut frame, OP_BINARY, &plain, key);
        let masked = frame[frame.len() - size..].to_vec();
        Payload {
            frame,
            plain,
            masked,
            key,
        }
    }

    fn matches(&self, f: &wire::Frame<'_>) -> bool {
        f.fin
            && f.opcode == OP_BINARY
            && match f.mask {
                None => f.payload == self.plain.as_slice(),
                Some(k) => k == self.key && f.payload == self.masked.as_slice(),
            }
    }
}

struct Setup {
    addr: String,
    path: String,
    raw: bool,
    /// `--tls`: the connector trusting `--ca`.
    tls: Option<TlsConnector>,
}

/// An open connection. Each variant is driven by its own instance of the generic load loops.
enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Setup {
    async fn open(&self, buf: &mut FrameBuf) -> io::Result<Conn> {
        let stream = wire::connect(&self.addr).await?;
        // close with RST rather than FIN: thousands of closes leave no TIME_WAIT behind
        stream.set_zero_linger()?;
        let mut conn = match &self.tls {
            None => Conn::Plain(stream),
            Some(tls) => Conn::Tls(Box::new(wire::tls_handshake(stream, tls).await?)),
        };
        if !self.raw {
            let req = wire::upgrade_request(&self.addr, &self.path, None);
            match &mut conn {
                Conn::Plain(s) => wire::handshake(s, &req, buf).await?,
                Conn::Tls(s) => wire::handshake(s, &req, buf).await?,
            }
        }
        Ok(conn)
    }
}

fn main() {
    let flags = Flags::parse(USAGE);
    let Some(addr) = flags.opt::<String>("addr") else {
        fail(USAGE, "--addr is required");
    };
    let tls = match (flags.switch("tls"), flags.opt::<String>("ca")) {
        (false, None) => None,
        (true, Some(ca)) => Some(wire::tls_connector(&ca).unwrap_or_else(|e| {
            eprintln!("loadgen: --ca: {e}");
            std::process::exit(1)
        })),
        _ => fail(USAGE, "--tls and --ca CERT.pem go together"),
    };
    let setup = Setup {
        addr,
        path: flags.string("path", "/"),
        raw: flags.switch("raw"),
        tls,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    let record = local.block_on(&rt, async {
        match flags.opt::<usize>("idle") {
            Some(conns) => idle(&flags, setup, conns).await,
            None => echo(&flags, setup).await,
        }
    });
    match record {
        Ok(r) => println!("{}", r.to_line()),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    }
}

async fn echo(flags: &Flags, setup: Setup) -> io::Result<Record> {
    let conns: usize = flags.get("conns", 100);
    let size: usize = flags.get("size", 20);
    let depth: usize = flags.get::<usize>("depth", 1).max(1);
    let secs: f64 = flags.get("secs", 3.0);
    let warmup: f64 = flags.get("warmup", 1.0);
    let rate: Option<f64> = flags.opt("rate");
    let pid: Option<u32> = flags.opt("pid");

    let shared = Rc::new(Shared {
        phase: Cell::new(Phase::Connect),
        msgs: Cell::new(0),
        errors: Cell::new(0),
        ready: Cell::new(0),
        hist: RefCell::new(Histogram::default()),
    });
    let payload = Rc::new(Payload::new(size));
    let setup = Rc::new(setup);
    let (go_tx, go_rx) = watch::channel(false);
    let gate = Rc::new(Semaphore::new(64));
    let t0 = Instant::now() + Duration::from_millis(50);
    for i in 0..conns {
        let (shared, payload, setup, gate) =
            (shared.clone(), payload.clone(), setup.clone(), gate.clone());
        let mut go = go_rx.clone();
        tokio::task::spawn_local(async move {
            let mut buf = FrameBuf::new(size.max(1024) * depth.min(4) + 64 * 1024);
            let stream = {
                let _permit = gate.acquire().await;
                setup.open(&mut buf).await
            };
            shared.ready.set(shared.ready.get() + 1);
            let Ok(stream) = stream else {
                shared.errors.set(shared.errors.get() + 1);
                return;
            };
            let _ = go.wait_for(|g| *g).await;
            // flat out, or paced: (first send, period)
            let pace = rate.map(|rate| {
                let period = Duration::from_secs_f64(conns as f64 / rate);
                (t0 + period.mul_f64(i as f64 / conns as f64), period)
            });
            let result = match stream {
                Conn::Plain(s) => drive(s, buf, &payload, depth, pace, &shared).await,
                Conn::Tls(s) => drive(s, buf, &payload, depth, pace, &shared).await,
            };
            if result.is_err() && shared.phase.get() != Phase::Stop {
                shared.errors.set(shared.errors.get() + 1);
            }
        });
    }
    while shared.ready.get() < conns {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if shared.errors.get() > 0 {
        return Err(io::Error::other(format!(
            "{} of {conns} connections failed to open",
            shared.errors.get()
        )));
    }
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

    let msgs = shared.msgs.get();
    let hist = shared.hist.borrow();
    let per_msg = |ns: u64| (msgs > 0).then(|| ns as f64 / msgs as f64);
    Ok(Record::Echo(Echo {
        server: flags.string("server", &setup.addr),
        tls: setup.tls.is_some(),
        step: flags.opt("step"),
        conns,
        size,
        depth,
        rate,
        round: flags.get("round", 1),
        secs: elapsed,
        msgs,
        msgs_per_sec: msgs as f64 / elapsed,
        p50_us: hist.quantile(0.50) as f64 / 1e3,
        p99_us: hist.quantile(0.99) as f64 / 1e3,
        server_cpu_ns_per_msg: server.and_then(|s| per_msg(s.stat_ns)),
        server_sched_ns_per_msg: server.and_then(|s| per_msg(s.sched_ns)),
        server_cpu_util: server.map(|s| s.stat_ns as f64 / 1e9 / elapsed),
        client_cpu_util: client.stat_ns as f64 / 1e9 / elapsed,
        errors: shared.errors.get(),
    }))
}

/// Account for one echo that came back at `now`, sent at `sent`.
fn count(
    shared: &Shared,
    payload: &Payload,
    f: &wire::Frame<'_>,
    sent: Option<Instant>,
    now: Instant,
) {
    if !payload.matches(f) || sent.is_none() {
        shared.errors.set(shared.errors.get() + 1);
        return;
    }
    if shared.phase.get() == Phase::Measure {
        shared.msgs.set(shared.msgs.get() + 1);
        let rtt = now.saturating_duration_since(sent.expect("checked"));
        shared.hist.borrow_mut().record(rtt.as_nanos() as u64);
    }
}

/// One connection's load: flat out, or paced from `pace` = (first send, period).
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    buf: FrameBuf,
    payload: &Payload,
    depth: usize,
    pace: Option<(Instant, Duration)>,
    shared: &Shared,
) -> io::Result<()> {
    match pace {
        None => flat_out(stream, buf, payload, depth, shared).await,
        Some((start, period)) => paced(stream, buf, payload, start, period, shared).await,
    }
}

/// Write `out` whole. `flush` is a no-op on TCP; a TLS stream may still hold the tail of `out`
/// after `write_all` when the socket would have blocked.
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, out: &[u8]) -> io::Result<()> {
    stream.write_all(out).await?;
    stream.flush().await
}

/// `depth` messages in flight; each echo is answered with a new message, one write per read.
async fn flat_out<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut buf: FrameBuf,
    payload: &Payload,
    depth: usize,
    shared: &Shared,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(payload.frame.len() * depth);
    let mut sent = VecDeque::with_capacity(depth);
    let now = Instant::now();
    for _ in 0..depth {
        out.extend_from_slice(&payload.frame);
        sent.push_back(now);
    }
    send(&mut stream, &out).await?;
    loop {
        if buf.read_from(&mut stream).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let now = Instant::now();
        let stop = shared.phase.get() == Phase::Stop;
        out.clear();
        while let Some(f) = buf.next_frame() {
            count(shared, payload, &f, sent.pop_front(), now);
            if !stop {
                out.extend_from_slice(&payload.frame);
                sent.push_back(now);
            }
        }
        if stop {
            return Ok(());
        }
        if !out.is_empty() {
            send(&mut stream, &out).await?;
        }
    }
}

/// Send on a fixed schedule (`start + k * period`), whatever comes back. Messages that fell due
/// together (timer granularity is 1 ms) go out in one write.
async fn paced<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut buf: FrameBuf,
    payload: &Payload,
    start: Instant,
    period: Duration,
    shared: &Shared,
) -> io::Result<()> {
    /// Past this many unanswered messages the connection stops sending: the server is saturated.
    const MAX_IN_FLIGHT: usize = 1024;
    let mut out = Vec::new();
    let mut sent: VecDeque<Instant> = VecDeque::new();
    let mut scheduled: u64 = 0;
    loop {
        let next = start + period.mul_f64(scheduled as f64);
        tokio::select! {
            read = buf.read_from(&mut stream) => {
                if read? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                let now = Instant::now();
                while let Some(f) = buf.next_frame() {
                    count(shared, payload, &f, sent.pop_front(), now);
                }
                if shared.phase.get() == Phase::Stop {
                    return Ok(());
                }
            }
            _ = tokio::time::sleep_until(next.into()) => {
                let now = Instant::now();
                let due = (now.saturating_duration_since(start).as_secs_f64() / period.as_secs_f64())
                    .floor() as u64
                    + 1;
                out.clear();
                while scheduled < due {
                    scheduled += 1;
                    if sent.len() < MAX_IN_FLIGHT {
                        out.extend_from_slice(&payload.frame);
                        sent.push_back(now);
                    }
                }
                if !out.is_empty() {
                    send(&mut stream, &out).await?;
                }
            }
        }
    }
}

/// Open `conns` connections, then read the server's RSS: before, with every connection idle after
/// its handshake, and idle again after one 20-byte echo on each.
async fn idle(flags: &Flags, setup: Setup, conns: usize) -> io::Result<Record> {
    let Some(pid) = flags.opt::<u32>("pid") else {
        fail(USAGE, "--idle needs --pid");
    };
    let settle = Duration::from_secs_f64(flags.get("settle", 1.0));
    let rss_before = rss_kib(pid)?;
    let payload = Rc::new(Payload::new(20));
    let setup = Rc::new(setup);
    let gate = Rc::new(Semaphore::new(64));
    let opened = Rc::new(Cell::new(0usize));
    let echoed = Rc::new(Cell::new(0usize));
    let failed = Rc::new(Cell::new(0usize));
    // 0: hold after the handshake; 1: echo once, then hold; 2: close
    let (step_tx, step_rx) = watch::channel(0u8);
    for _ in 0..conns {
        let (setup, payload, gate) = (setup.clone(), payload.clone(), gate.clone());
        let (opened, echoed, failed) = (opened.clone(), echoed.clone(), failed.clone());
        let mut step = step_rx.clone();
        tokio::task::spawn_local(async move {
            let mut buf = FrameBuf::new(256);
            let stream = {
                let _permit = gate.acquire().await;
                setup.open(&mut buf).await
            };
            let Ok(mut stream) = stream else {
                failed.set(failed.get() + 1);
                return;
            };
            opened.set(opened.get() + 1);
            let _ = step.wait_for(|s| *s >= 1).await;
            let ok = match &mut stream {
                Conn::Plain(s) => echo_once(s, &mut buf, &payload).await,
                Conn::Tls(s) => echo_once(s, &mut buf, &payload).await,
            };
            match ok {
                Ok(true) => echoed.set(echoed.get() + 1),
                _ => failed.set(failed.get() + 1),
            }
            let _ = step.wait_for(|s| *s >= 2).await;
        });
    }
    let wait_all = |done: Rc<Cell<usize>>, failed: Rc<Cell<usize>>| async move {
        let deadline = Instant::now() + Duration::from_secs(120);
        while done.get() + failed.get() < conns && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    wait_all(opened.clone(), failed.clone()).await;
    if failed.get() > 0 {
        return Err(io::Error::other(format!(
            "{} of {conns} connections failed to open (ulimit -n?)",
            failed.get()
        )));
    }
    tokio::time::sleep(settle).await;
    let rss_open = rss_kib(pid)?;
    let _ = step_tx.send(1);
    wait_all(echoed.clone(), failed.clone()).await;
    if failed.get() > 0 {
        return Err(io::Error::other(format!("{} echoes failed", failed.get())));
    }
    tokio::time::sleep(settle).await;
    let rss_used = rss_kib(pid)?;
    let _ = step_tx.send(2);
    tokio::task::yield_now().await;
    let per = |kib: u64| (kib.saturating_sub(rss_before) * 1024) as f64 / conns as f64;
    Ok(Record::Idle(Idle {
        server: flags.string("server", &setup.addr),
        tls: setup.tls.is_some(),
        conns,
        rss_before_kib: rss_before,
        rss_open_kib: rss_open,
        rss_used_kib: rss_used,
        bytes_per_conn_open: per(rss_open),
        bytes_per_conn_used: per(rss_used),
    }))
}

/// One message and its echo; whether the echo matched.
async fn echo_once<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut FrameBuf,
    payload: &Payload,
) -> io::Result<bool> {
    send(stream, &payload.frame).await?;
    loop {
        if let Some(f) = buf.next_frame() {
            return Ok(payload.matches(&f));
        }
        if buf.read_from(stream).await? == 0 {
            return Ok(false);
        }
    }
}
