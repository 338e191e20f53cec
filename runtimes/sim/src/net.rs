//! The simulated network: byte-stream links between a client host and the server host, as the
//! application sees TCP. Sans-IO and seeded, like str0m's `netem`, but for streams: WebSocket and
//! STOMP ride on TCP, so the faults are byte-stream faults, never loss or reordering.
//!
//! - every write is cut into segments at random offsets, each delivered after a random latency,
//!   in order (a segment never overtakes an earlier one);
//! - a read takes whatever has arrived, coalesced up to a random size, or part of a segment;
//! - each direction holds at most `window` bytes (in flight plus unread: the socket buffers):
//!   a writer facing a full window must wait, which is how a stalled reader pushes back;
//! - faults: a stalled reader, a slow link, a reset (both ends see [`Delivery::Reset`], data in
//!   flight is lost), a half-close ([`Network::shutdown`] → the peer reads [`Delivery::Eof`]).
//!
//! The network never looks at a clock: [`Network::next_event`] says when it next has something,
//! and [`Network::poll`] hands it out at a `now` the caller chooses.

use crate::rng::SimRng;
use bytes::{Bytes, BytesMut};
use duplex_core::Instant;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// A connection between a client host and the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u64);

/// One end of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// The end that connected.
    Client,
    /// The end that accepted.
    Server,
}

impl End {
    /// The other end.
    pub fn peer(self) -> End {
        match self {
            End::Client => End::Server,
            End::Server => End::Client,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a read returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Bytes, in order.
    Data(Bytes),
    /// The peer shut down its writing side and everything it wrote has been read.
    Eof,
    /// The connection was reset: whatever was in flight is lost, nothing more will come, and
    /// writes are refused.
    Reset,
}

/// How the network behaves; drawn per seed.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Shortest one-way latency.
    pub latency_min: Duration,
    /// Longest one-way latency (before slow-link faults).
    pub latency_max: Duration,
    /// Writes are cut into segments of `1..=max_segment` bytes.
    pub max_segment: usize,
    /// A read returns at most `1..=max_read` bytes (drawn per read).
    pub max_read: usize,
    /// Bytes one direction holds, in flight plus unread.
    pub window: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            latency_min: Duration::from_micros(100),
            latency_max: Duration::from_millis(5),
            max_segment: 1460,
            max_read: 16 * 1024,
            window: 64 * 1024,
        }
    }
}

#[derive(Debug, Default)]
struct Pipe {
    /// Segments with their arrival time, in order.
    segments: VecDeque<(Instant, Bytes)>,
    bytes: usize,
    /// The writer shut down: EOF follows the last segment, at `fin_at` at the earliest.
    fin_at: Option<Instant>,
    eof_delivered: bool,
    last_at: Instant,
    /// The reader reads nothing before this.
    stalled_until: Instant,
    /// Until `slow_until`, segments take `slow_extra` longer and are small.
    slow_until: Instant,
    slow_extra: Duration,
}

impl Pipe {
    /// When this pipe next has something for its reader.
    fn next_event(&self) -> Option<Instant> {
        let at = match self.segments.front() {
            Some((at, _)) => *at,
            None if !self.eof_delivered => self.fin_at?,
            None => return None,
        };
        Some(at.max(self.stalled_until))
    }
}

#[derive(Debug)]
struct Link {
    /// Indexed by the reading end: `pipes[End::Server]` carries client → server bytes.
    pipes: [Pipe; 2],
    /// Reset: when each end learns of it (`None` once delivered or if never reset).
    reset_at: [Option<Instant>; 2],
    reset: bool,
}

impl Link {
    fn finished(&self) -> bool {
        let done = |e: End| {
            let p = &self.pipes[e.index()];
            self.reset_at[e.index()].is_none() && (self.reset || p.eof_delivered)
        };
        done(End::Client) && done(End::Server)
    }
}

/// Every link, and the randomness that shapes their traffic.
#[derive(Debug)]
pub struct Network {
    config: NetConfig,
    rng: SimRng,
    links: BTreeMap<LinkId, Link>,
    next_id: u64,
    /// Bytes delivered so far (for reports).
    pub delivered_bytes: u64,
}

impl Network {
    /// An empty network.
    pub fn new(config: NetConfig, rng: SimRng) -> Self {
        Network {
            config,
            rng,
            links: BTreeMap::new(),
            next_id: 1,
            delivered_bytes: 0,
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// One latency draw.
    fn latency(&mut self) -> Duration {
        self.rng
            .duration(self.config.latency_min, self.config.latency_max)
    }

    /// Open a link. The server learns of it when its first bytes (or EOF, or reset) arrive.
    pub fn connect(&mut self) -> LinkId {
        let id = LinkId(self.next_id);
        self.next_id += 1;
        self.links.insert(
            id,
            Link {
                pipes: Default::default(),
                reset_at: [None; 2],
                reset: false,
            },
        );
        id
    }

    /// A connection refused (nobody listening): the client end reads a reset after one latency.
    pub fn refuse(&mut self, now: Instant, link: LinkId) {
        let at = now + self.latency();
        if let Some(l) = self.links.get_mut(&link) {
            l.reset = true;
            l.reset_at = [Some(at), None];
            l.pipes = Default::default();
            l.pipes[End::Server.index()].eof_delivered = true;
        }
    }

    /// Whether the link exists and was not reset.
    pub fn is_open(&self, link: LinkId) -> bool {
        self.links.get(&link).is_some_and(|l| !l.reset)
    }

    /// Bytes `from` may write now without exceeding the window.
    pub fn writable(&self, link: LinkId, from: End) -> usize {
        match self.links.get(&link) {
            Some(l) if !l.reset && l.pipes[from.peer().index()].fin_at.is_none() => {
                self.config.window - l.pipes[from.peer().index()].bytes
            }
            _ => 0,
        }
    }

    /// Bytes in flight or unread towards `to`.
    pub fn buffered(&self, link: LinkId, to: End) -> usize {
        self.links
            .get(&link)
            .map_or(0, |l| l.pipes[to.index()].bytes)
    }

    /// Write as much of `data` as the window takes; returns how much was taken.
    pub fn write(&mut self, now: Instant, link: LinkId, from: End, data: &[u8]) -> usize {
        let n = data.len().min(self.writable(link, from));
        let mut rest = &data[..n];
        while !rest.is_empty() {
            let slow = {
                let p = &self.links[&link].pipes[from.peer().index()];
                (now < p.slow_until).then_some(p.slow_extra)
            };
            let max = if slow.is_some() {
                self.config.max_segment.min(64)
            } else {
                self.config.max_segment
            };
            // Half the segments are full size, the rest anywhere in 1..=max.
            let len = if self.rng.chance(500) {
                max
            } else {
                self.rng.range_usize(1, max)
            }
            .min(rest.len());
            let mut latency = self.latency();
            if let Some(extra) = slow {
                latency += extra;
            }
            let pipe = &mut self.links.get_mut(&link).expect("writable").pipes[from.peer().index()];
            let at = (now + latency).max(pipe.last_at);
            pipe.last_at = at;
            pipe.segments
                .push_back((at, Bytes::copy_from_slice(&rest[..len])));
            pipe.bytes += len;
            rest = &rest[len..];
        }
        n
    }

    /// `from` shuts down its writing side: the peer reads EOF after what was written.
    pub fn shutdown(&mut self, now: Instant, link: LinkId, from: End) {
        let latency = self.latency();
        if let Some(l) = self.links.get_mut(&link).filter(|l| !l.reset) {
            let pipe = &mut l.pipes[from.peer().index()];
            if pipe.fin_at.is_none() {
                let at = (now + latency).max(pipe.last_at);
                pipe.fin_at = Some(at);
                pipe.last_at = at;
            }
        }
    }

    /// Reset the link: data in flight is dropped; each end in `notify` reads
    /// [`Delivery::Reset`] after one latency (an end that aborted knows already).
    pub fn reset(&mut self, now: Instant, link: LinkId, notify: [bool; 2]) {
        let at = [now + self.latency(), now + self.latency()];
        if let Some(l) = self.links.get_mut(&link).filter(|l| !l.reset) {
            l.reset = true;
            for end in [End::Client, End::Server] {
                let i = end.index();
                l.pipes[i].segments.clear();
                l.pipes[i].bytes = 0;
                l.pipes[i].eof_delivered = true;
                l.reset_at[i] = notify[i].then_some(at[i]);
            }
        }
        self.links.retain(|_, l| !l.finished());
    }

    /// The reader at `to` reads nothing before `until` (a stalled reader, a paused host).
    pub fn stall(&mut self, link: LinkId, to: End, until: Instant) {
        if let Some(l) = self.links.get_mut(&link) {
            let p = &mut l.pipes[to.index()];
            p.stalled_until = p.stalled_until.max(until);
        }
    }

    /// Until `until`, bytes towards `to` take `extra` longer and travel in small segments.
    pub fn slow(&mut self, link: LinkId, to: End, until: Instant, extra: Duration) {
        if let Some(l) = self.links.get_mut(&link) {
            let p = &mut l.pipes[to.index()];
            p.slow_until = until;
            p.slow_extra = extra;
        }
    }

    /// Every link, in id order.
    pub fn links(&self) -> impl Iterator<Item = LinkId> + '_ {
        self.links.keys().copied()
    }

    /// When [`poll`](Self::poll) next has something.
    pub fn next_event(&self) -> Option<Instant> {
        self.links
            .values()
            .flat_map(|l| {
                let resets = l.reset_at.iter().flatten().copied();
                let pipes = l.pipes.iter().filter_map(Pipe::next_event);
                resets.chain(pipes)
            })
            .min()
    }

    /// The earliest delivery due at `now`, if any: the link, the end that reads it, and what it
    /// reads. Ties go to the lowest link id, then the client end.
    pub fn poll(&mut self, now: Instant) -> Option<(LinkId, End, Delivery)> {
        let mut best: Option<(Instant, LinkId, End)> = None;
        for (id, l) in &self.links {
            for end in [End::Client, End::Server] {
                let at = match l.reset_at[end.index()] {
                    Some(at) => Some(at),
                    None => l.pipes[end.index()].next_event(),
                };
                if let Some(at) = at.filter(|at| *at <= now) {
                    if best.map_or(true, |(b, _, _)| at < b) {
                        best = Some((at, *id, end));
                    }
                }
            }
        }
        let (_, id, end) = best?;
        let read = self.rng.range_usize(1, self.config.max_read);
        let l = self.links.get_mut(&id).expect("found above");
        let delivery = if l.reset_at[end.index()].take().is_some() {
            Delivery::Reset
        } else {
            let pipe = &mut l.pipes[end.index()];
            if pipe.segments.is_empty() {
                pipe.eof_delivered = true;
                Delivery::Eof
            } else {
                let mut out = BytesMut::new();
                while out.len() < read {
                    let Some((at, seg)) = pipe.segments.front_mut() else {
                        break;
                    };
                    if *at > now {
                        break;
                    }
                    let want = read - out.len();
                    if seg.len() <= want {
                        out.extend_from_slice(seg);
                        pipe.segments.pop_front();
                    } else {
                        out.extend_from_slice(&seg.split_to(want));
                    }
                }
                pipe.bytes -= out.len();
                self.delivered_bytes += out.len() as u64;
                Delivery::Data(out.freeze())
            }
        };
        if l.finished() {
            self.links.remove(&id);
        }
        Some((id, end, delivery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(net: &mut Network, link: LinkId, to: End) -> (Vec<u8>, usize, bool) {
        let (mut got, mut reads, mut eof) = (Vec::new(), 0, false);
        while let Some(at) = net.next_event() {
            while let Some((l, e, d)) = net.poll(at) {
                assert_eq!((l, e), (link, to));
                match d {
                    Delivery::Data(b) => {
                        got.extend_from_slice(&b);
                        reads += 1;
                    }
                    Delivery::Eof => eof = true,
                    Delivery::Reset => panic!("no reset here"),
                }
            }
        }
        (got, reads, eof)
    }

    #[test]
    fn bytes_arrive_in_order_cut_at_random_then_eof() {
        let config = NetConfig {
            max_segment: 7,
            max_read: 11,
            ..NetConfig::default()
        };
        let mut net = Network::new(config, SimRng::stream(1, 1));
        let link = net.connect();
        let data: Vec<u8> = (0..=255).collect();
        let t = Instant::from_nanos(1_000);
        assert_eq!(net.write(t, link, End::Client, &data), data.len());
        net.shutdown(t, link, End::Client);
        let (got, reads, eof) = drain(&mut net, link, End::Server);
        assert_eq!(got, data);
        assert!(reads > 256 / 11, "cut into many reads: {reads}");
        assert!(eof);
    }

    #[test]
    fn the_window_bounds_what_a_writer_may_queue() {
        let config = NetConfig {
            window: 100,
            ..NetConfig::default()
        };
        let mut net = Network::new(config, SimRng::stream(2, 1));
        let link = net.connect();
        let t = Instant::from_nanos(1);
        assert_eq!(net.write(t, link, End::Server, &[0; 150]), 100);
        assert_eq!(net.writable(link, End::Server), 0);
        net.stall(link, End::Client, Instant::from_nanos(u64::MAX));
        assert!(net.poll(Instant::from_nanos(u64::MAX - 1)).is_none());
    }

    #[test]
    fn reset_drops_data_in_flight_and_tells_both_ends() {
        let mut net = Network::new(NetConfig::default(), SimRng::stream(3, 1));
        let link = net.connect();
        let t = Instant::from_nanos(1);
        net.write(t, link, End::Client, b"lost");
        net.reset(t, link, [true, true]);
        let mut seen = Vec::new();
        while let Some(at) = net.next_event() {
            while let Some((_, end, d)) = net.poll(at) {
                seen.push((end, d));
            }
        }
        seen.sort_by_key(|(e, _)| *e);
        assert_eq!(
            seen,
            vec![
                (End::Client, Delivery::Reset),
                (End::Server, Delivery::Reset)
            ]
        );
        assert!(!net.is_open(link));
        assert_eq!(net.write(t, link, End::Client, b"x"), 0);
    }
}
