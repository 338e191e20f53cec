//! The event trace: what the simulation observed, in order, and a hash of all of it.
//!
//! Every run feeds each observation to a [`TraceHash`]; running a seed twice and comparing the
//! two hashes is the determinism check (TigerBeetle's VOPR and madsim do the same). The same
//! observations drive the invariant checkers, and the last few are printed when a run fails.

use crate::net::LinkId;
use duplex_core::Instant;
use std::collections::VecDeque;

/// A 64-bit FNV-1a-style hash: stable across runs, builds and platforms (unlike `DefaultHasher`,
/// whose algorithm may change).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHash(u64);

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(0xcbf2_9ce4_8422_2325)
    }
}

impl TraceHash {
    /// Mix in bytes (FNV-1a over 8-byte words, then the tail and the length).
    pub fn bytes(&mut self, data: &[u8]) {
        let mut words = data.chunks_exact(8);
        for w in &mut words {
            self.0 ^= u64::from_le_bytes(w.try_into().expect("8 bytes"));
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        }
        for b in words.remainder() {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 ^= data.len() as u64;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }

    /// Mix in a number.
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// The hash so far.
    pub fn value(self) -> u64 {
        self.0
    }
}

/// Which host something happened on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostId {
    /// The server (its broker, its handshakes and connections).
    Server,
    /// Client host `n`.
    Client(usize),
}

/// One observation. Client-side ones are recorded by [`ClientCx`](crate::ClientCx) as the
/// application acts and as events arrive; server-side ones by the server host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Obs {
    /// The client's STOMP session got CONNECTED on `link`.
    Connected {
        /// The client.
        client: usize,
        /// Its link.
        link: LinkId,
    },
    /// The application sent a SEND.
    Send {
        /// The client.
        client: usize,
        /// Its link.
        link: LinkId,
        /// The destination.
        destination: String,
        /// The body.
        body: bytes::Bytes,
        /// The receipt asked for.
        receipt: Option<String>,
    },
    /// The application subscribed.
    Subscribe {
        /// The client.
        client: usize,
        /// Its link.
        link: LinkId,
        /// The subscription id.
        sub: String,
        /// The destination.
        destination: String,
        /// The receipt asked for.
        receipt: Option<String>,
    },
    /// The application ACKed (`positive`) or NACKed a message.
    Ack {
        /// The client.
        client: usize,
        /// Its link.
        link: LinkId,
        /// The MESSAGE's body (how the checkers name messages).
        body: bytes::Bytes,
        /// ACK or NACK.
        positive: bool,
        /// The receipt asked for.
        receipt: Option<String>,
    },
    /// A MESSAGE arrived.
    Message {
        /// The client.
        client: usize,
        /// Its link.
        link: LinkId,
        /// The subscription.
        sub: String,
        /// The `destination` header.
        destination: String,
        /// The body.
        body: bytes::Bytes,
        /// `redelivered:true` was set.
        redelivered: bool,
    },
    /// A RECEIPT arrived.
    Receipt {
        /// The client.
        client: usize,
        /// Its link.
        link: LinkId,
        /// The receipt id.
        receipt: String,
    },
    /// The client's STOMP session on `link` is over (for whatever reason).
    SessionClosed {
        /// The client.
        client: usize,
        /// Its link.
        link: LinkId,
    },
    /// The broker let go of the connection on `link` (it asked to close it, or its transport
    /// ended): its unacked queue messages may now go to others.
    Released {
        /// The link.
        link: LinkId,
    },
    /// The server process stopped (a crash or restart): every connection and the broker's
    /// in-memory state are gone.
    ServerDown,
    /// A new server process (a fresh broker) started.
    ServerUp,
    /// A fault from the schedule took effect (its `Debug` text).
    Fault(String),
}

impl Obs {
    /// Mix this observation into `h`.
    pub fn hash_into(&self, h: &mut TraceHash) {
        let link = |h: &mut TraceHash, c: usize, l: LinkId| {
            h.u64(c as u64);
            h.u64(l.0);
        };
        let opt = |h: &mut TraceHash, s: &Option<String>| match s {
            Some(s) => h.bytes(s.as_bytes()),
            None => h.u64(u64::MAX),
        };
        match self {
            Obs::Connected { client, link: l } => {
                h.u64(1);
                link(h, *client, *l);
            }
            Obs::Send {
                client,
                link: l,
                destination,
                body,
                receipt,
            } => {
                h.u64(2);
                link(h, *client, *l);
                h.bytes(destination.as_bytes());
                h.bytes(body);
                opt(h, receipt);
            }
            Obs::Subscribe {
                client,
                link: l,
                sub,
                destination,
                receipt,
            } => {
                h.u64(3);
                link(h, *client, *l);
                h.bytes(sub.as_bytes());
                h.bytes(destination.as_bytes());
                opt(h, receipt);
            }
            Obs::Ack {
                client,
                link: l,
                body,
                positive,
                receipt,
            } => {
                h.u64(4 + u64::from(*positive));
                link(h, *client, *l);
                h.bytes(body);
                opt(h, receipt);
            }
            Obs::Message {
                client,
                link: l,
                sub,
                destination,
                body,
                redelivered,
            } => {
                h.u64(6 + u64::from(*redelivered));
                link(h, *client, *l);
                h.bytes(sub.as_bytes());
                h.bytes(destination.as_bytes());
                h.bytes(body);
            }
            Obs::Receipt {
                client,
                link: l,
                receipt,
            } => {
                h.u64(8);
                link(h, *client, *l);
                h.bytes(receipt.as_bytes());
            }
            Obs::SessionClosed { client, link: l } => {
                h.u64(9);
                link(h, *client, *l);
            }
            Obs::Released { link: l } => {
                h.u64(10);
                h.u64(l.0);
            }
            Obs::ServerDown => h.u64(11),
            Obs::ServerUp => h.u64(12),
            Obs::Fault(f) => {
                h.u64(13);
                h.bytes(f.as_bytes());
            }
        }
    }
}

/// The trace of one run: a hash of everything, and the last observations for failure reports.
#[derive(Debug, Default)]
pub struct Trace {
    hash: TraceHash,
    tail: VecDeque<(Instant, String)>,
    /// Observations recorded.
    pub len: u64,
    keep: usize,
}

impl Trace {
    /// A trace that keeps the last `keep` observations as text.
    pub fn new(keep: usize) -> Self {
        Trace {
            keep,
            ..Trace::default()
        }
    }

    /// Record `obs` at `now`.
    pub fn record(&mut self, now: Instant, obs: &Obs) {
        self.hash.u64(now.as_nanos());
        obs.hash_into(&mut self.hash);
        self.len += 1;
        if self.keep > 0 {
            if self.tail.len() == self.keep {
                self.tail.pop_front();
            }
            self.tail.push_back((now, short(obs)));
        }
    }

    /// Mix in something that is not an observation (network deliveries, timers).
    pub fn mix(&mut self, now: Instant, tag: u64, value: u64) {
        self.hash.u64(now.as_nanos() ^ tag.rotate_left(32));
        self.hash.u64(value);
    }

    /// The hash of the whole run so far.
    pub fn hash(&self) -> u64 {
        self.hash.value()
    }

    /// The last observations, oldest first, one per line.
    pub fn tail(&self) -> String {
        self.tail
            .iter()
            .map(|(t, s)| format!("  {:>12.6}s {s}\n", t.as_nanos() as f64 / 1e9))
            .collect()
    }
}

fn short(obs: &Obs) -> String {
    let body = |b: &bytes::Bytes| {
        let s = String::from_utf8_lossy(&b[..b.len().min(24)]).into_owned();
        s.split('|').next().unwrap_or_default().to_owned()
    };
    match obs {
        Obs::Send {
            client,
            link,
            destination,
            body: b,
            receipt,
        } => format!(
            "c{client} {link:?} SEND {destination} {} receipt={receipt:?}",
            body(b)
        ),
        Obs::Message {
            client,
            link,
            sub,
            body: b,
            redelivered,
            ..
        } => format!(
            "c{client} {link:?} MESSAGE {sub} {} redelivered={redelivered}",
            body(b)
        ),
        Obs::Ack {
            client,
            link,
            body: b,
            positive,
            receipt,
        } => format!(
            "c{client} {link:?} {} {} receipt={receipt:?}",
            if *positive { "ACK" } else { "NACK" },
            body(b)
        ),
        other => format!("{other:?}"),
    }
}
