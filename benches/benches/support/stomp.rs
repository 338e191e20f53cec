//! STOMP codec workloads, shared by the `stomp_codec` criterion bench and the `stomp-rate` and
//! `workload` binaries (included with `#[path]`: `benches/src/lib.rs` belongs to the load side).
//!
//! - [`Parse`]: a [`Decoder`] fed a batch of small frames at once, every frame decoded and its
//!   `destination` header read (so a decoder that defers work cannot look faster than it is).
//! - [`Serialize`]: [`Frame::encode`] of a ready frame into a reused buffer.
//! - [`BuildSerialize`]: build the frame with `Frame::new(..).header(..)` then encode it, as a
//!   session does for every MESSAGE it sends.
//!
//! The frames: a MESSAGE as a broker delivers it (5 headers plus `content-length`, 100 B body)
//! and a SEND as a client publishes it (2 headers plus `content-length`, 100 B body).
#![allow(dead_code)]

use std::hint::black_box;

use duplex_core::stomp::{Command, Decoded, Decoder, Frame, Limits, Version};

/// An encoder into a reused output buffer: returns the frame's wire length. (The buffer's type,
/// `bytes::BytesMut`, is inferred: this crate does not depend on `bytes` directly.)
pub fn encoder() -> Box<dyn FnMut(&Frame) -> usize> {
    let mut out = Default::default();
    Box::new(move |frame: &Frame| {
        frame.encode(Version::V1_2, &mut out).expect("encodable");
        let n = black_box(&out[..]).len();
        out.clear();
        n
    })
}

/// Which small frame a workload uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// MESSAGE, 5 headers + content-length, 100 B body.
    Message,
    /// SEND, 2 headers + content-length, 100 B body.
    Send,
}

impl Kind {
    /// Both kinds.
    pub const ALL: [Kind; 2] = [Kind::Message, Kind::Send];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Message => "MESSAGE",
            Kind::Send => "SEND",
        }
    }

    /// The frame as a value.
    pub fn frame(self) -> Frame {
        let body = vec![b'x'; 100];
        match self {
            Kind::Message => Frame::new(Command::Message)
                .header("subscription", "sub-0")
                .header("message-id", "007-1234")
                .header("destination", "/topic/prices.eur")
                .header("ack", "ack-1234")
                .header("content-type", "application/json")
                .with_body(body),
            Kind::Send => Frame::new(Command::Send)
                .header("destination", "/queue/orders")
                .header("content-type", "text/plain")
                .with_body(body),
        }
    }

    /// The frame's wire form (STOMP 1.2).
    pub fn wire(self) -> Vec<u8> {
        let mut out = Default::default();
        self.frame()
            .encode(Version::V1_2, &mut out)
            .expect("encodable");
        out.to_vec()
    }
}

/// Frames per call of the batched workloads.
pub const BATCH: usize = 64;

/// Decode [`BATCH`] frames fed in one piece, reading `destination` from each.
pub struct Parse {
    decoder: Decoder,
    wire: Vec<u8>,
}

impl Parse {
    /// A warm decoder and a batch of `kind` frames.
    pub fn new(kind: Kind) -> Self {
        let one = kind.wire();
        let mut wire = Vec::with_capacity(one.len() * BATCH);
        for _ in 0..BATCH {
            wire.extend_from_slice(&one);
        }
        let mut parse = Parse {
            decoder: Decoder::new(Version::V1_2, Limits::default()),
            wire,
        };
        parse.run();
        parse
    }

    /// Frames per [`run`](Self::run).
    pub fn frames(&self) -> u64 {
        BATCH as u64
    }

    /// Wire bytes per [`run`](Self::run).
    pub fn bytes(&self) -> u64 {
        self.wire.len() as u64
    }

    /// Feed the batch and decode every frame.
    pub fn run(&mut self) {
        self.decoder.feed(black_box(&self.wire));
        let mut n = 0;
        while let Some(item) = self.decoder.decode().expect("valid input") {
            if let Decoded::Frame(frame) = item {
                black_box(frame.get("destination"));
                black_box(frame.body.len());
                n += 1;
            }
        }
        assert_eq!(n, BATCH);
    }
}

/// Encode a ready frame [`BATCH`] times into a reused buffer.
pub struct Serialize {
    frame: Frame,
    encode: Box<dyn FnMut(&Frame) -> usize>,
}

impl Serialize {
    /// A `kind` frame and a warm output buffer.
    pub fn new(kind: Kind) -> Self {
        let mut s = Serialize {
            frame: kind.frame(),
            encode: encoder(),
        };
        s.run();
        s
    }

    /// Frames per [`run`](Self::run).
    pub fn frames(&self) -> u64 {
        BATCH as u64
    }

    /// Encode the batch, then drop the bytes (as a write to the socket would).
    pub fn run(&mut self) {
        for _ in 0..BATCH {
            (self.encode)(black_box(&self.frame));
        }
    }
}

/// Build a `kind` frame with the builder API and encode it, [`BATCH`] times.
pub struct BuildSerialize {
    kind: Kind,
    /// Holds the shared body (`bytes::Bytes`): a clone is a reference count, as a broker's is.
    body: Frame,
    encode: Box<dyn FnMut(&Frame) -> usize>,
}

impl BuildSerialize {
    /// A warm output buffer.
    pub fn new(kind: Kind) -> Self {
        let mut s = BuildSerialize {
            kind,
            body: kind.frame(),
            encode: encoder(),
        };
        s.run();
        s
    }

    /// Frames per [`run`](Self::run).
    pub fn frames(&self) -> u64 {
        BATCH as u64
    }

    /// Build and encode the batch.
    pub fn run(&mut self) {
        for i in 0..BATCH {
            let frame = match self.kind {
                Kind::Message => Frame::new(Command::Message)
                    .header("subscription", "sub-0")
                    .header("message-id", black_box("007-1234"))
                    .header("destination", "/topic/prices.eur")
                    .header("ack", black_box("ack-1234"))
                    .header("content-type", "application/json"),
                Kind::Send => Frame::new(Command::Send)
                    .header("destination", "/queue/orders")
                    .header("content-type", "text/plain"),
            }
            .with_body(self.body.body.clone());
            (self.encode)(&frame);
            black_box(i);
        }
    }
}
