//! Heart-beat negotiation, STOMP 1.2 §"Heart-beating".
//!
//! `CONNECT` carries `heart-beat:<cx>,<cy>`, `CONNECTED` carries `heart-beat:<sx>,<sy>`: the first
//! number is what the sender can do, the second what it wants. Client→server beats happen every
//! `max(cx, sy)` ms unless either is 0; server→client every `max(sx, cy)` ms unless either is 0.
//! A missing header MUST be treated as `0,0`.
//!
//! The receiver "SHOULD be tolerant and take into account an error margin": we declare the peer
//! dead only after [`DEFAULT_TOLERANCE_PERCENT`] (200 %) of the negotiated interval passes without
//! a single received octet (any octet counts as life). 2× absorbs one late beat caused by a GC
//! pause, a busy event loop or a slow link, and still detects a dead peer within two intervals;
//! anchors in the field range from 1.5× to 3×. It is configurable per session.

use std::time::Duration;

/// Default receive tolerance: the peer is dead after 200 % of the negotiated interval of silence.
pub const DEFAULT_TOLERANCE_PERCENT: u32 = 200;

/// One side's `heart-beat` header: what it can send and what it wants to receive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeartBeat {
    /// Smallest interval between beats this side can guarantee; zero: it cannot send any.
    pub can_send: Duration,
    /// Interval this side would like to receive beats at; zero: it wants none.
    pub want_receive: Duration,
}

impl HeartBeat {
    /// `0,0`: no heart-beats either way (also what a missing header means).
    pub const NONE: HeartBeat = HeartBeat {
        can_send: Duration::ZERO,
        want_receive: Duration::ZERO,
    };

    /// A heart-beat offer from millisecond counts, like the header.
    pub const fn from_millis(can_send: u64, want_receive: u64) -> Self {
        HeartBeat {
            can_send: Duration::from_millis(can_send),
            want_receive: Duration::from_millis(want_receive),
        }
    }

    /// Parse `"<x>,<y>"` (milliseconds). `None` when malformed. STOMP 1.2 §"Heart-beating": "MUST
    /// contain two positive integers separated by a comma".
    pub fn parse(value: &str) -> Option<HeartBeat> {
        let (x, y) = value.split_once(',')?;
        let num = |s: &str| -> Option<u64> {
            let s = s.trim_matches(' ');
            if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        Some(HeartBeat::from_millis(num(x)?, num(y)?))
    }

    /// The header value, `"<x>,<y>"` in milliseconds.
    pub fn to_header(self) -> String {
        format!(
            "{},{}",
            self.can_send.as_millis(),
            self.want_receive.as_millis()
        )
    }
}

/// The outcome of negotiation, seen from one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// We must send something at least this often (`None`: no outgoing beats).
    pub send_every: Option<Duration>,
    /// The peer sends something at least this often (`None`: no incoming beats expected).
    pub expect_every: Option<Duration>,
}

/// Negotiate from our offer and the peer's. Symmetric: the client passes (CONNECT, CONNECTED),
/// the server (CONNECTED, CONNECT).
pub fn negotiate(local: HeartBeat, remote: HeartBeat) -> Negotiated {
    let dir =
        |can: Duration, want: Duration| (!can.is_zero() && !want.is_zero()).then(|| can.max(want));
    Negotiated {
        send_every: dir(local.can_send, remote.want_receive),
        expect_every: dir(remote.can_send, local.want_receive),
    }
}

/// How long silence may last before the peer is dead: `interval × tolerance_percent / 100`,
/// never shorter than the interval itself.
pub fn receive_timeout(interval: Duration, tolerance_percent: u32) -> Duration {
    let scaled = interval.saturating_mul(tolerance_percent) / 100;
    scaled.max(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_the_spec_formula() {
        let client = HeartBeat::from_millis(1000, 3000);
        let server = HeartBeat::from_millis(2000, 500);
        let c = negotiate(client, server);
        assert_eq!(c.send_every, Some(Duration::from_millis(1000))); // max(cx=1000, sy=500)
        assert_eq!(c.expect_every, Some(Duration::from_millis(3000))); // max(sx=2000, cy=3000)
        let s = negotiate(server, client);
        assert_eq!(s.send_every, c.expect_every);
        assert_eq!(s.expect_every, c.send_every);
    }

    #[test]
    fn zero_on_either_side_disables_a_direction() {
        let n = negotiate(
            HeartBeat::from_millis(0, 3000),
            HeartBeat::from_millis(2000, 500),
        );
        assert_eq!(n.send_every, None);
        assert_eq!(n.expect_every, Some(Duration::from_millis(3000)));
        let n = negotiate(HeartBeat::from_millis(1000, 0), HeartBeat::NONE);
        assert_eq!(n, Negotiated::default());
    }

    #[test]
    fn parse_and_format() {
        assert_eq!(
            HeartBeat::parse("10,20"),
            Some(HeartBeat::from_millis(10, 20))
        );
        assert_eq!(
            HeartBeat::parse("10, 20"),
            Some(HeartBeat::from_millis(10, 20))
        );
        assert_eq!(HeartBeat::parse("10"), None);
        assert_eq!(HeartBeat::parse("-1,2"), None);
        assert_eq!(HeartBeat::parse("a,2"), None);
        assert_eq!(HeartBeat::from_millis(10, 20).to_header(), "10,20");
    }

    #[test]
    fn tolerance_scales_interval() {
        let d = Duration::from_millis(1000);
        assert_eq!(
            receive_timeout(d, DEFAULT_TOLERANCE_PERCENT),
            Duration::from_millis(2000)
        );
        assert_eq!(receive_timeout(d, 50), d);
    }
}
