//! Connection settings and their defaults.

use std::time::Duration;

/// Settings for a [`Connection`](super::Connection). Every limit has a documented default.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest frame payload accepted, in bytes; a larger frame fails the connection with 1009.
    /// Default 16 MiB (the largest frame in Autobahn section 9).
    pub max_frame_size: u64,
    /// Largest message accepted (all fragments together), in bytes; larger fails with 1009.
    /// Default 64 MiB. In streaming mode this bounds each message too, not the memory held.
    pub max_message_size: u64,
    /// Soft limit on bytes queued for sending: above it [`Connection::is_backpressured`] is true and
    /// the caller should stop producing until the queue drains. Nothing is dropped. Default 1 MiB.
    ///
    /// [`Connection::is_backpressured`]: super::Connection::is_backpressured
    pub outbound_high_water: usize,
    /// Answer every ping with a pong automatically (RFC 6455 §5.5.2). Default `true`. When `false`,
    /// the application sees [`Event::Ping`](super::Event::Ping) and must call `pong` itself.
    pub auto_pong: bool,
    /// Deliver data frames as [`Event::Chunk`](super::Event::Chunk)s as they arrive instead of whole
    /// messages, so a large message never has to be held in memory. Default `false`.
    pub streaming: bool,
    /// How long to wait for the peer's close frame after sending ours (RFC 6455 §7.1.1), and how
    /// long an adapter lingers for the peer to close the transport. Default 5 s.
    pub close_timeout: Duration,
    /// Send a ping when nothing has been received for this long. Default `None` (off).
    pub ping_interval: Option<Duration>,
    /// Fail the connection (close 1001) when nothing at all has been received for this long.
    /// Default `None` (off). With `ping_interval` set, pick a multiple of it.
    pub idle_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            outbound_high_water: 1 << 20,
            auto_pong: true,
            streaming: false,
            close_timeout: Duration::from_secs(5),
            ping_interval: None,
            idle_timeout: None,
        }
    }
}
