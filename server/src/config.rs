//! `duplex --config FILE`: the TOML settings of the binary. Every key has a default (the
//! commented `duplex.example.toml` next to `Cargo.toml` lists them all); unknown keys are an
//! error that names the key and the keys allowed there.

use std::collections::BTreeMap;
use std::time::Duration;

use duplex_core::broker::{BrokerConfig, SlowConsumerPolicy, ANONYMOUS_PREFIX};
use duplex_core::stomp::HeartBeat;
use serde::Deserialize;

/// Everything the binary can be told.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Which runtime serves the broker (`--runtime` overrides it).
    pub runtime: Runtime,
    /// Address to listen on.
    pub listen: String,
    /// Path of the STOMP WebSocket endpoint.
    pub endpoint: String,
    /// Browser origins allowed to open the endpoint (e.g. `https://example.com`); empty: any.
    /// Requests without `Origin` (not from a browser) are always allowed.
    pub allowed_origins: Vec<String>,
    /// Most connections at once.
    pub max_connections: usize,
    /// How long shutdown waits for close handshakes, in milliseconds.
    pub shutdown_grace_ms: u64,
    /// How often the demo ticker quotes, in milliseconds (0: no ticker).
    pub ticker_ms: u64,
    /// `wss://` and `https://`.
    pub tls: Tls,
    /// Destination prefixes.
    pub prefixes: Prefixes,
    /// Sizes, counts and times.
    pub limits: Limits,
    /// What to do with a session that does not read fast enough, per destination class.
    pub slow_consumer: SlowConsumer,
    /// Who may CONNECT.
    pub auth: Auth,
}

/// The runtime under the broker: the same app, page and settings on each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// `duplex-tokio` on a multi-threaded tokio runtime.
    #[default]
    Tokio,
    /// `duplex-smol` on smol's global executor (`SMOL_THREADS` threads, default: one per CPU).
    Smol,
    /// `duplex-mio` on plain mio event loops.
    Mio,
}

impl Runtime {
    /// Every runtime, in the order the usage line lists them.
    pub const ALL: [Runtime; 3] = [Runtime::Tokio, Runtime::Smol, Runtime::Mio];

    /// The name used by `--runtime` and the `runtime` key.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::Smol => "smol",
            Runtime::Mio => "mio",
        }
    }
}

impl std::str::FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Runtime::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown runtime {s:?} (tokio, smol or mio)"))
    }
}

/// TLS certificate chain and key, PEM files. Both or neither.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tls {
    /// Certificate chain (PEM).
    pub cert: Option<String>,
    /// Private key (PEM).
    pub key: Option<String>,
}

/// Destination prefixes (Spring's `enableSimpleBroker` / `setApplicationDestinationPrefixes` /
/// `setUserDestinationPrefix`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Prefixes {
    /// Publish-subscribe prefixes.
    pub topic: Vec<String>,
    /// Point-to-point prefixes.
    pub queue: Vec<String>,
    /// Application (handler) prefixes.
    pub app: Vec<String>,
    /// User destination prefix.
    pub user: String,
    /// Segment separator for wildcards (`/` or `.`).
    pub separator: char,
}

/// Limits on what one client can make the server hold or do.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest STOMP frame (command, headers, body), bytes.
    pub max_frame_bytes: usize,
    /// Largest STOMP body, bytes.
    pub max_body_bytes: usize,
    /// Most headers in one frame.
    pub max_headers: usize,
    /// Longest header line, bytes.
    pub max_header_line_bytes: usize,
    /// A session is a slow consumer above this many unwritten bytes.
    pub outbound_max_bytes: usize,
    /// … or when its oldest unwritten byte is older than this, milliseconds.
    pub outbound_max_age_ms: u64,
    /// Most messages waiting in one queue.
    pub max_queue_depth: usize,
    /// Most unacknowledged messages per client-ack queue subscription.
    pub prefetch: usize,
    /// A queue message put back more often than this is dropped.
    pub redelivery_limit: u32,
    /// Most frames in one transaction.
    pub max_transaction_frames: usize,
    /// A connection that has not sent CONNECT after this long is closed, milliseconds.
    pub connect_timeout_ms: u64,
    /// Heart-beat the server offers to send, milliseconds (0: none).
    pub heart_beat_send_ms: u64,
    /// Heart-beat the server asks to receive, milliseconds (0: none).
    pub heart_beat_receive_ms: u64,
}

/// Slow-consumer policy per destination class.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlowConsumer {
    /// For `/topic` messages.
    pub topic: Policy,
    /// For `/queue` messages (`drop-newest` holds them back, never loses them).
    pub queue: Policy,
    /// For `/user` messages.
    pub user: Policy,
}

/// [`SlowConsumerPolicy`] as written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// ERROR and close the session.
    Disconnect,
    /// Skip the session for this message (counted).
    DropNewest,
}

/// Authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    /// login → passcode. Empty: demo mode, any login is accepted without a passcode.
    /// Not empty: only these, with their passcode.
    pub users: BTreeMap<String, String>,
    /// With users configured: also let in CONNECTs without a login, each as a unique `anon-N`.
    pub allow_anonymous: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            runtime: Runtime::default(),
            listen: "127.0.0.1:8080".to_owned(),
            endpoint: "/ws".to_owned(),
            allowed_origins: Vec::new(),
            max_connections: 10_000,
            shutdown_grace_ms: 5_000,
            ticker_ms: 250,
            tls: Tls::default(),
            prefixes: Prefixes::default(),
            limits: Limits::default(),
            slow_consumer: SlowConsumer::default(),
            auth: Auth::default(),
        }
    }
}

impl Default for Prefixes {
    fn default() -> Self {
        let b = BrokerConfig::default();
        Prefixes {
            topic: b.topic_prefixes,
            queue: b.queue_prefixes,
            app: b.app_prefixes,
            user: b.user_prefix,
            separator: b.path_separator,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        let b = BrokerConfig::default();
        let ms = |d: Duration| d.as_millis() as u64;
        Limits {
            max_frame_bytes: b.session.limits.max_frame,
            max_body_bytes: b.session.limits.max_body,
            max_headers: b.session.limits.max_headers,
            max_header_line_bytes: b.session.limits.max_header_line,
            outbound_max_bytes: b.outbound.max_bytes,
            outbound_max_age_ms: ms(b.outbound.max_age),
            max_queue_depth: b.max_queue_depth,
            prefetch: b.max_unacked_per_subscription,
            redelivery_limit: b.redelivery_limit,
            max_transaction_frames: b.max_transaction_frames,
            connect_timeout_ms: ms(b.session.connect_timeout),
            // The binary keeps idle browsers and dead peers apart; the library default is off.
            heart_beat_send_ms: 10_000,
            heart_beat_receive_ms: 10_000,
        }
    }
}

impl Default for SlowConsumer {
    fn default() -> Self {
        let p = BrokerConfig::default().slow_consumer;
        SlowConsumer {
            topic: p.topic.into(),
            queue: p.queue.into(),
            user: p.user.into(),
        }
    }
}

impl From<SlowConsumerPolicy> for Policy {
    fn from(p: SlowConsumerPolicy) -> Self {
        match p {
            SlowConsumerPolicy::Disconnect => Policy::Disconnect,
            SlowConsumerPolicy::DropNewest => Policy::DropNewest,
        }
    }
}

impl From<Policy> for SlowConsumerPolicy {
    fn from(p: Policy) -> Self {
        match p {
            Policy::Disconnect => SlowConsumerPolicy::Disconnect,
            Policy::DropNewest => SlowConsumerPolicy::DropNewest,
        }
    }
}

impl Config {
    /// Parse and check a TOML document. Errors say which key and why.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    /// Read, parse and check `path`.
    pub fn load(path: &str) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        Config::parse(&text).map_err(|e| format!("{path}: {e}"))
    }

    /// What serde cannot say.
    pub fn check(&self) -> Result<(), String> {
        if !self.endpoint.starts_with('/') {
            return Err(format!("endpoint {:?} must start with '/'", self.endpoint));
        }
        let p = &self.prefixes;
        for prefix in p
            .topic
            .iter()
            .chain(&p.queue)
            .chain(&p.app)
            .chain([&p.user])
        {
            if !prefix.starts_with('/') || prefix.len() < 2 {
                return Err(format!(
                    "prefix {prefix:?} must start with '/' and name something"
                ));
            }
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err("tls.cert and tls.key go together".to_owned());
        }
        if let Some(login) = self
            .auth
            .users
            .keys()
            .find(|l| l.starts_with(ANONYMOUS_PREFIX))
        {
            return Err(format!(
                "auth.users: {login:?}: logins starting with {ANONYMOUS_PREFIX:?} are reserved for anonymous sessions"
            ));
        }
        if self.auth.allow_anonymous && self.auth.users.is_empty() {
            return Err(
                "auth.allow_anonymous needs auth.users (without users, anyone gets in anyway)"
                    .to_owned(),
            );
        }
        let l = &self.limits;
        if l.max_body_bytes > l.max_frame_bytes {
            return Err("limits.max_body_bytes cannot exceed limits.max_frame_bytes".to_owned());
        }
        if l.connect_timeout_ms == 0 {
            return Err("limits.connect_timeout_ms must be above 0: every connection must CONNECT in bounded time".to_owned());
        }
        Ok(())
    }

    /// The broker settings this file describes.
    pub fn broker(&self) -> BrokerConfig {
        let ms = Duration::from_millis;
        let (p, l, s) = (&self.prefixes, &self.limits, &self.slow_consumer);
        let mut b = BrokerConfig {
            topic_prefixes: p.topic.clone(),
            queue_prefixes: p.queue.clone(),
            app_prefixes: p.app.clone(),
            user_prefix: p.user.clone(),
            path_separator: p.separator,
            ..BrokerConfig::default()
        };
        b.session.limits.max_frame = l.max_frame_bytes;
        b.session.limits.max_body = l.max_body_bytes;
        b.session.limits.max_headers = l.max_headers;
        b.session.limits.max_header_line = l.max_header_line_bytes;
        b.session.connect_timeout = ms(l.connect_timeout_ms);
        b.session.heart_beat = HeartBeat {
            can_send: ms(l.heart_beat_send_ms),
            want_receive: ms(l.heart_beat_receive_ms),
        };
        b.outbound.max_bytes = l.outbound_max_bytes;
        b.outbound.max_age = ms(l.outbound_max_age_ms);
        b.max_queue_depth = l.max_queue_depth;
        b.max_unacked_per_subscription = l.prefetch;
        b.redelivery_limit = l.redelivery_limit;
        b.max_transaction_frames = l.max_transaction_frames;
        b.slow_consumer.topic = s.topic.into();
        b.slow_consumer.queue = s.queue.into();
        b.slow_consumer.user = s.user.into();
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../duplex.example.toml");

    #[test]
    fn the_example_file_parses_and_documents_the_defaults() {
        assert_eq!(Config::parse(EXAMPLE).unwrap(), Config::default());
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn every_key_of_the_defaults_is_in_the_example() {
        // Serialising is not derived; check the keys by name instead.
        for key in [
            "runtime",
            "listen",
            "endpoint",
            "allowed_origins",
            "max_connections",
            "shutdown_grace_ms",
            "ticker_ms",
            "[tls]",
            "cert",
            "key",
            "[prefixes]",
            "topic",
            "queue",
            "app",
            "user",
            "separator",
            "[limits]",
            "max_frame_bytes",
            "max_body_bytes",
            "max_headers",
            "max_header_line_bytes",
            "outbound_max_bytes",
            "outbound_max_age_ms",
            "max_queue_depth",
            "prefetch",
            "redelivery_limit",
            "max_transaction_frames",
            "connect_timeout_ms",
            "heart_beat_send_ms",
            "heart_beat_receive_ms",
            "[slow_consumer]",
            "[auth]",
            "allow_anonymous",
            "[auth.users]",
        ] {
            assert!(EXAMPLE.contains(key), "{key} is not in duplex.example.toml");
        }
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let e = Config::parse("[limits]\nmax_frame = 10\n").unwrap_err();
        assert!(e.contains("unknown field `max_frame`"), "{e}");
        assert!(e.contains("max_frame_bytes"), "lists what is allowed: {e}");
        let e = Config::parse("lisen = \"0.0.0.0:80\"\n").unwrap_err();
        assert!(e.contains("unknown field `lisen`"), "{e}");
        let e = Config::parse("runtime = \"async-std\"\n").unwrap_err();
        assert!(
            e.contains("tokio") && e.contains("smol") && e.contains("mio"),
            "{e}"
        );
        let e = Config::parse("[slow_consumer]\ntopic = \"drop\"\n").unwrap_err();
        assert!(e.contains("disconnect") && e.contains("drop-newest"), "{e}");
    }

    #[test]
    fn values_reach_the_broker_config() {
        let c = Config::parse(
            "[prefixes]\ntopic = [\"/topic\", \"/exchange\"]\nseparator = \".\"\n\
             [limits]\nprefetch = 7\nconnect_timeout_ms = 1500\nheart_beat_send_ms = 0\n\
             [slow_consumer]\ntopic = \"disconnect\"\n\
             [auth]\nallow_anonymous = true\n[auth.users]\nalice = \"pw\"\n",
        )
        .unwrap();
        let b = c.broker();
        assert_eq!(c.runtime, Runtime::Tokio);
        assert_eq!(
            Config::parse("runtime = \"smol\"\n").unwrap().runtime,
            Runtime::Smol
        );
        assert_eq!(b.topic_prefixes, ["/topic", "/exchange"]);
        assert_eq!(b.path_separator, '.');
        assert_eq!(b.max_unacked_per_subscription, 7);
        assert_eq!(b.session.connect_timeout, Duration::from_millis(1500));
        assert_eq!(b.session.heart_beat.can_send, Duration::ZERO);
        assert_eq!(b.slow_consumer.topic, SlowConsumerPolicy::Disconnect);
        assert_eq!(c.auth.users.get("alice").map(String::as_str), Some("pw"));
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        for (doc, why) in [
            ("[tls]\ncert = \"c.pem\"\n", "go together"),
            ("[auth.users]\nanon-1 = \"x\"\n", "reserved"),
            ("[auth]\nallow_anonymous = true\n", "needs auth.users"),
            ("endpoint = \"ws\"\n", "start with '/'"),
            ("[limits]\nconnect_timeout_ms = 0\n", "above 0"),
        ] {
            let e = Config::parse(doc).unwrap_err();
            assert!(e.contains(why), "{doc:?}: {e}");
        }
    }
}
