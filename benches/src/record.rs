//! The result records the bench binaries print, one JSON object per line (`target/bench/*.jsonl`),
//! and that `charts` turns into tables and SVG charts.

use serde::{Deserialize, Serialize};

/// One line of results.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// An echo run of `loadgen`.
    Echo(Echo),
    /// A memory-per-idle-connection run of `loadgen --idle`.
    Idle(Idle),
    /// A STOMP fan-out run of `fanout`.
    Fanout(Fanout),
    /// A server that could not be measured (written by `scripts/bench`).
    Unavailable(Unavailable),
}

/// N connections echoing messages of one size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Echo {
    /// Server label (`duplex-tokio`, `tokio-tungstenite`, `raw-tcp`, …).
    pub server: String,
    /// Over TLS (`loadgen --tls`).
    #[serde(default)]
    pub tls: bool,
    /// The `scripts/bench` step that made the run when it is not one of the main comparison's
    /// (`runtimes`: echo by runtime, plain and TLS); `charts` tables each step apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Connections.
    pub conns: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages in flight per connection (flat out).
    pub depth: usize,
    /// Offered rate in messages/s for a fixed-rate run; `None`: flat out.
    pub rate: Option<f64>,
    /// Which round of the run (the script alternates server order between rounds).
    pub round: u32,
    /// Length of the measured window, seconds.
    pub secs: f64,
    /// Echoes received in the window.
    pub msgs: u64,
    /// `msgs / secs`.
    pub msgs_per_sec: f64,
    /// Median round trip, microseconds.
    pub p50_us: f64,
    /// 99th percentile round trip, microseconds.
    pub p99_us: f64,
    /// Server CPU (utime+stime from `/proc/PID/stat`) per echoed message, nanoseconds.
    pub server_cpu_ns_per_msg: Option<f64>,
    /// Server CPU from per-thread `schedstat` per echoed message, nanoseconds (finer-grained).
    pub server_sched_ns_per_msg: Option<f64>,
    /// Share of one core the server used during the window.
    pub server_cpu_util: Option<f64>,
    /// Share of one core the load generator itself used (near 1.0: the client may be the limit).
    pub client_cpu_util: f64,
    /// Messages whose echo did not match what was sent, or connections that failed.
    pub errors: u64,
}

/// Resident memory of a server holding many idle WebSocket connections.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Idle {
    /// Server label.
    pub server: String,
    /// Over TLS (`loadgen --tls`).
    #[serde(default)]
    pub tls: bool,
    /// Connections opened (and completed the handshake).
    pub conns: usize,
    /// Server RSS before connecting, KiB.
    pub rss_before_kib: u64,
    /// Server RSS with every connection open and idle after the handshake, KiB.
    pub rss_open_kib: u64,
    /// Server RSS after one 20-byte echo on every connection, idle again, KiB.
    pub rss_used_kib: u64,
    /// `(rss_open - rss_before) / conns`, bytes.
    pub bytes_per_conn_open: f64,
    /// `(rss_used - rss_before) / conns`, bytes.
    pub bytes_per_conn_used: f64,
}

/// One publisher, N subscribers on one topic.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fanout {
    /// Broker label (`duplex`, `rabbitmq-web-stomp`).
    pub server: String,
    /// Subscribers.
    pub subs: usize,
    /// Body bytes per message.
    pub size: usize,
    /// Messages the publisher may have ahead of the slowest delivery (per subscriber).
    pub window: usize,
    /// Length of the measured window, seconds.
    pub secs: f64,
    /// Messages published in the window.
    pub published: u64,
    /// Messages delivered to subscribers in the window (all subscribers together).
    pub delivered: u64,
    /// `delivered / secs`.
    pub delivered_per_sec: f64,
    /// Median publish-to-delivery latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile publish-to-delivery latency, microseconds.
    pub p99_us: f64,
    /// Deliveries missing at the end (published × subscribers − delivered, after a grace period).
    pub missing: u64,
    /// Server CPU per delivered message, nanoseconds.
    pub server_cpu_ns_per_delivery: Option<f64>,
    /// Share of one core the load generator itself used.
    pub client_cpu_util: f64,
}

/// A server the script could not run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Unavailable {
    /// Server label.
    pub server: String,
    /// The `scripts/bench` step it was missing from, when not the main comparison (see
    /// [`Echo::step`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The server was to be started with TLS.
    #[serde(default)]
    pub tls: bool,
    /// Why (first line of its error).
    pub why: String,
}

impl Record {
    /// As one JSON line.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("records serialize")
    }
}
