//! Tables and charts from the JSON-lines results of `loadgen` and `fanout`.
//!
//! ```sh
//! charts target/bench/results.jsonl target/bench     # writes results.md and *.svg there
//! charts --fixed-rate target/bench/results.jsonl 100 20 0.5
//! ```
//!
//! `--fixed-rate RESULTS CONNS SIZE FRACTION` prints the offered rate `scripts/bench` uses for the
//! CPU-per-message comparison of a case: FRACTION of the slowest WebSocket server's best flat-out
//! rate (raw TCP excluded), to two significant digits, so every server runs below saturation.
//!
//! Several runs of the same server and case are reduced to one: flat out, the median of the rounds
//! of `scripts/bench` (on a shared machine a round can be slowed down by other work, or sped up by
//! a quiet moment; the median resists both); at the fixed rate, the lowest CPU per message.
//!
//! Runs of the `runtimes` step of `scripts/bench` (records with `"step":"runtimes"`: Duplex on
//! each runtime, plain and TLS) make their own table, "Echo by runtime, plain and TLS", and stay
//! out of the others; TLS runs made outside that step are not tabled.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use duplex_bench::record::{Echo, Fanout, Idle, Record};
use plotters::prelude::*;

/// Servers in the order of the table columns; others found in the results follow.
const ORDER: [&str; 7] = [
    "duplex-tokio",
    "duplex-smol",
    "duplex-mio",
    "tokio-tungstenite",
    "fastwebsockets",
    "tokio-websockets",
    "raw-tcp",
];
/// The server everything is compared with.
const DUPLEX: &str = "duplex-tokio";
const RAW: &str = "raw-tcp";
const TUNGSTENITE: &str = "tokio-tungstenite";
/// The peers a "best peer" is picked from.
const PEERS: [&str; 3] = ["tokio-tungstenite", "fastwebsockets", "tokio-websockets"];

type Case = (usize, usize); // (conns, size)

/// The `scripts/bench` step whose runs make the by-runtime table.
const RUNTIMES_STEP: &str = "runtimes";
/// Its rows, in order; others found follow.
const RUNTIMES: [&str; 3] = ["duplex-tokio", "duplex-smol", "duplex-mio"];

struct Results {
    servers: Vec<String>,
    unavailable: BTreeMap<String, String>,
    flat: BTreeMap<(Case, String), Echo>,
    rated: BTreeMap<(Case, String), Echo>,
    idle: BTreeMap<String, Idle>,
    fanout: BTreeMap<(usize, String), Fanout>,
    /// The `runtimes` step, flat out: (case, server, tls) -> the median round.
    by_runtime: BTreeMap<(Case, String, bool), Echo>,
    /// The `runtimes` step's rounds per (case, server, tls).
    by_runtime_rounds: BTreeMap<(Case, String, bool), usize>,
    /// Servers the `runtimes` step could not start: (server, tls).
    by_runtime_unavailable: Vec<(String, bool)>,
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--fixed-rate") {
        let rest: Vec<String> = args.skip(1).collect();
        fixed_rate(&rest);
        return;
    }
    let (Some(input), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: charts RESULTS.jsonl OUT_DIR");
        std::process::exit(2);
    };
    let text = fs::read_to_string(&input).unwrap_or_else(|e| {
        eprintln!("charts: {input}: {e}");
        std::process::exit(1)
    });
    let results = Results::load(&text);
    let out = Path::new(&out);
    fs::create_dir_all(out).expect("output directory");
    let md = results.markdown();
    fs::write(out.join("results.md"), &md).expect("write results.md");
    results.charts(out);
    print!("{md}");
}

impl Results {
    fn load(text: &str) -> Results {
        let mut r = Results {
            servers: Vec::new(),
            unavailable: BTreeMap::new(),
            flat: BTreeMap::new(),
            rated: BTreeMap::new(),
            idle: BTreeMap::new(),
            fanout: BTreeMap::new(),
            by_runtime: BTreeMap::new(),
            by_runtime_rounds: BTreeMap::new(),
            by_runtime_unavailable: Vec::new(),
        };
        let mut flat_runs: BTreeMap<(Case, String), Vec<Echo>> = BTreeMap::new();
        let mut runtime_runs: BTreeMap<(Case, String, bool), Vec<Echo>> = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: Record = match serde_json::from_str(line) {
                Ok(rec) => rec,
                Err(e) => {
                    eprintln!("charts: line {}: {e}", n + 1);
                    continue;
                }
            };
            match record {
                Record::Echo(e) if e.step.is_some() || e.tls => {
                    if e.step.as_deref() == Some(RUNTIMES_STEP) && e.rate.is_none() {
                        let key = ((e.conns, e.size), e.server.clone(), e.tls);
                        runtime_runs.entry(key).or_default().push(e);
                    }
                }
                Record::Echo(e) => {
                    r.note_server(&e.server);
                    let key = ((e.conns, e.size), e.server.clone());
                    if e.rate.is_some() {
                        let better = r.rated.get(&key).map_or(true, |old| {
                            cpu(old).unwrap_or(f64::MAX) > cpu(&e).unwrap_or(f64::MAX)
                        });
                        if better {
                            r.rated.insert(key, e);
                        }
                    } else {
                        flat_runs.entry(key).or_default().push(e);
                    }
                }
                Record::Idle(i) if i.tls => {}
                Record::Idle(i) => {
                    r.note_server(&i.server);
                    let better = r
                        .idle
                        .get(&i.server)
                        .map_or(true, |old| old.bytes_per_conn_used > i.bytes_per_conn_used);
                    if better {
                        r.idle.insert(i.server.clone(), i);
                    }
                }
                Record::Fanout(f) => {
                    let key = (f.subs, f.server.clone());
                    if r.fanout
                        .get(&key)
                        .map_or(true, |old| old.delivered_per_sec < f.delivered_per_sec)
                    {
                        r.fanout.insert(key, f);
                    }
                }
                Record::Unavailable(u) if u.step.is_some() => {
                    if u.step.as_deref() == Some(RUNTIMES_STEP) {
                        r.by_runtime_unavailable.push((u.server, u.tls));
                    }
                }
                Record::Unavailable(u) => {
                    r.note_server(&u.server);
                    r.unavailable.insert(u.server, u.why);
                }
            }
        }
        // flat out: the median round (the lower middle one for an even count)
        for (key, mut runs) in flat_runs {
            runs.sort_by(|a, b| a.msgs_per_sec.total_cmp(&b.msgs_per_sec));
            let mid = (runs.len() - 1) / 2;
            r.flat.insert(key, runs.swap_remove(mid));
        }
        for (key, mut runs) in runtime_runs {
            runs.sort_by(|a, b| a.msgs_per_sec.total_cmp(&b.msgs_per_sec));
            let mid = (runs.len() - 1) / 2;
            r.by_runtime_rounds.insert(key.clone(), runs.len());
            r.by_runtime.insert(key, runs.swap_remove(mid));
        }
        r.servers
            .sort_by_key(|s| ORDER.iter().position(|o| o == s).unwrap_or(ORDER.len()));
        r
    }

    fn note_server(&mut self, server: &str) {
        if !self.servers.iter().any(|s| s == server) {
            self.servers.push(server.to_owned());
        }
    }

    fn cases(&self, map: &BTreeMap<(Case, String), Echo>) -> Vec<Case> {
        let mut cases: Vec<Case> = map.keys().map(|(c, _)| *c).collect();
        cases.dedup();
        cases.sort_by_key(|&(c, s)| (s, c));
        cases
    }

    fn flat_rate(&self, case: Case, server: &str) -> Option<f64> {
        self.flat
            .get(&(case, server.to_owned()))
            .map(|e| e.msgs_per_sec)
    }

    fn cpu_at_rate(&self, case: Case, server: &str) -> Option<f64> {
        self.rated.get(&(case, server.to_owned())).and_then(cpu)
    }

    fn na(&self, server: &str) -> &'static str {
        if self.unavailable.contains_key(server) {
            "n/a"
        } else {
            "–"
        }
    }

    fn markdown(&self) -> String {
        let mut md = String::new();
        let servers = &self.servers;
        let header = |md: &mut String, first: &str| {
            let _ = writeln!(md, "| {first} | {} |", servers.join(" | "));
            let _ = writeln!(md, "|---|{}", "---:|".repeat(servers.len()));
        };

        // --- echo, flat out
        let cases = self.cases(&self.flat);
        if !cases.is_empty() {
            let _ = writeln!(
                md,
                "### Echo throughput, flat out (messages/s; median of the rounds)\n"
            );
            header(&mut md, "connections × payload");
            for &case in &cases {
                let cells: Vec<String> = servers
                    .iter()
                    .map(|s| {
                        self.flat_rate(case, s)
                            .map_or_else(|| self.na(s).into(), thousands)
                    })
                    .collect();
                let _ = writeln!(md, "| {} | {} |", case_name(case), cells.join(" | "));
            }
            for (title, base) in [("Duplex-tokio", DUPLEX), ("raw TCP", RAW)] {
                let _ = writeln!(
                    md,
                    "\n**Throughput as a ratio to {title}** (higher is better)\n"
                );
                header(&mut md, "connections × payload");
                for &case in &cases {
                    let b = self.flat_rate(case, base);
                    let cells: Vec<String> = servers
                        .iter()
                        .map(|s| match (self.flat_rate(case, s), b) {
                            (Some(v), Some(b)) if b > 0.0 => format!("{:.2}×", v / b),
                            _ => self.na(s).into(),
                        })
                        .collect();
                    let _ = writeln!(md, "| {} | {} |", case_name(case), cells.join(" | "));
                }
            }
            let _ = writeln!(md, "\n**Round-trip latency flat out, p50 / p99 (µs)**\n");
            header(&mut md, "connections × payload");
            for &case in &cases {
                let cells: Vec<String> = servers
                    .iter()
                    .map(|s| {
                        self.flat.get(&(case, s.clone())).map_or_else(
                            || self.na(s).into(),
                            |e| format!("{:.0} / {:.0}", e.p50_us, e.p99_us),
                        )
                    })
                    .collect();
                let _ = writeln!(md, "| {} | {} |", case_name(case), cells.join(" | "));
            }
            let client_max = self
                .flat
                .values()
                .map(|e| e.client_cpu_util)
                .fold(0.0, f64::max);
            let _ = writeln!(
                md,
                "\nThe load generator used at most {:.0} % of its core in these runs.",
                client_max * 100.0
            );
        }

        // --- CPU per message at a fixed rate
        let cases = self.cases(&self.rated);
        if !cases.is_empty() {
            let _ = writeln!(
                md,
                "\n### Server CPU per echoed message at a fixed offered rate (ns of user+sys per message; lower is better)\n"
            );
            let _ = writeln!(
                md,
                "| connections × payload | rate (msg/s) | {} |",
                servers.join(" | ")
            );
            let _ = writeln!(md, "|---|---:|{}", "---:|".repeat(servers.len()));
            for &case in &cases {
                let rate = self
                    .rated
                    .iter()
                    .find(|((c, _), _)| *c == case)
                    .and_then(|(_, e)| e.rate)
                    .unwrap_or(0.0);
                let base = self.cpu_at_rate(case, DUPLEX);
                let cells: Vec<String> = servers
                    .iter()
                    .map(|s| match (self.cpu_at_rate(case, s), base) {
                        (Some(v), Some(b)) if s != DUPLEX && b > 0.0 => {
                            format!("{v:.0} ({:.2}×)", v / b)
                        }
                        (Some(v), _) => format!("{v:.0}"),
                        _ => self.na(s).into(),
                    })
                    .collect();
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    case_name(case),
                    thousands(rate),
                    cells.join(" | ")
                );
            }
            let _ = writeln!(
                md,
                "\n(In parentheses: the ratio to Duplex-tokio. Measured from `/proc/PID/stat` utime+stime \
                 over the window; server and client pinned to different cores.)"
            );
            let _ = writeln!(
                md,
                "\n**Round-trip latency at the fixed rate, p50 / p99 (µs)**\n"
            );
            header(&mut md, "connections × payload");
            for &case in &cases {
                let cells: Vec<String> = servers
                    .iter()
                    .map(|s| {
                        self.rated.get(&(case, s.clone())).map_or_else(
                            || self.na(s).into(),
                            |e| format!("{:.0} / {:.0}", e.p50_us, e.p99_us),
                        )
                    })
                    .collect();
                let _ = writeln!(md, "| {} | {} |", case_name(case), cells.join(" | "));
            }
        }

        // --- idle memory
        if !self.idle.is_empty() {
            let _ = writeln!(md, "\n### Memory per idle WebSocket connection (RSS)\n");
            let _ = writeln!(
                md,
                "| server | connections | after the handshake | after one 20 B echo | server RSS with all open |"
            );
            let _ = writeln!(md, "|---|---:|---:|---:|---:|");
            for s in servers {
                match self.idle.get(s) {
                    Some(i) => {
                        let _ = writeln!(
                            md,
                            "| {s} | {} | {:.1} KiB | {:.1} KiB | {:.1} MiB |",
                            thousands(i.conns as f64),
                            i.bytes_per_conn_open / 1024.0,
                            i.bytes_per_conn_used / 1024.0,
                            i.rss_used_kib as f64 / 1024.0
                        );
                    }
                    None => {
                        let _ = writeln!(md, "| {s} | {} | | | |", self.na(s));
                    }
                }
            }
        }

        // --- fan-out
        if !self.fanout.is_empty() {
            let _ = writeln!(
                md,
                "\n### STOMP fan-out over WebSocket: 1 publisher → N subscribers, one topic\n"
            );
            let _ = writeln!(
                md,
                "| subscribers | broker | delivered msg/s | p50 latency (µs) | p99 latency (µs) | missing | broker CPU ns/delivery |"
            );
            let _ = writeln!(md, "|---:|---|---:|---:|---:|---:|---:|");
            for ((subs, server), f) in &self.fanout {
                let _ = writeln!(
                    md,
                    "| {subs} | {server} | {} | {:.0} | {:.0} | {} | {} |",
                    thousands(f.delivered_per_sec),
                    f.p50_us,
                    f.p99_us,
                    f.missing,
                    f.server_cpu_ns_per_delivery
                        .map_or("–".into(), |v| format!("{v:.0}"))
                );
            }
        }

        // --- echo by runtime, plain and TLS
        self.by_runtime_markdown(&mut md);

        // --- targets
        let targets = self.targets();
        if targets.is_empty() {
            return md;
        }
        let _ = writeln!(md, "\n### Targets\n");
        let _ = writeln!(md, "| target | where Duplex-tokio stands | met? |");
        let _ = writeln!(md, "|---|---|---|");
        for (target, stands, met) in targets {
            let _ = writeln!(
                md,
                "| {target} | {stands} | {} |",
                if met { "yes" } else { "**no**" }
            );
        }
        md
    }

    /// The `runtimes` step: one row per runtime, plain and TLS side by side for each case, with
    /// the TLS/plain ratio; then the latencies.
    fn by_runtime_markdown(&self, md: &mut String) {
        if self.by_runtime.is_empty() {
            return;
        }
        let mut cases: Vec<Case> = self.by_runtime.keys().map(|k| k.0).collect();
        cases.sort_by_key(|&(c, s)| (s, c));
        cases.dedup();
        let mut servers: Vec<String> = self.by_runtime.keys().map(|k| k.1.clone()).collect();
        servers.extend(self.by_runtime_unavailable.iter().map(|u| u.0.clone()));
        servers.sort_by_key(|s| {
            let at = RUNTIMES.iter().position(|o| o == s);
            (at.unwrap_or(RUNTIMES.len()), s.clone())
        });
        servers.dedup();
        let get = |c: Case, s: &String, tls: bool| self.by_runtime.get(&(c, s.clone(), tls));
        let missing = |s: &String, tls: bool| {
            if self.by_runtime_unavailable.contains(&(s.clone(), tls)) {
                "n/a".to_owned()
            } else {
                "–".to_owned()
            }
        };
        let rounds = self.by_runtime_rounds.values().copied().max().unwrap_or(0);
        let _ = writeln!(
            md,
            "\n### Echo by runtime, plain and TLS (messages/s)\n\n\
             Duplex's echo server on each runtime (`echo-server --runtime R`, wss with \
             `--tls-cert/--tls-key`), flat out, the median of {rounds} round{}.\n",
            if rounds == 1 { "" } else { "s" }
        );
        let _ = write!(md, "| runtime |");
        for &c in &cases {
            let name = case_name(c);
            let _ = write!(md, " {name} plain | {name} TLS | TLS ÷ plain |");
        }
        let _ = writeln!(md, "\n|---|{}", "---:|---:|---:|".repeat(cases.len()));
        for s in &servers {
            let _ = write!(md, "| {s} |");
            for &c in &cases {
                let plain = get(c, s, false).map(|e| e.msgs_per_sec);
                let tls = get(c, s, true).map(|e| e.msgs_per_sec);
                let cell = |v: Option<f64>, t: bool| v.map_or_else(|| missing(s, t), thousands);
                let ratio = match (plain, tls) {
                    (Some(p), Some(t)) if p > 0.0 => format!("{:.2}×", t / p),
                    _ => "–".into(),
                };
                let _ = write!(
                    md,
                    " {} | {} | {ratio} |",
                    cell(plain, false),
                    cell(tls, true)
                );
            }
            let _ = writeln!(md);
        }
        let _ = writeln!(md, "\n**Round-trip latency by runtime, p50 / p99 (µs)**\n");
        let _ = write!(md, "| runtime |");
        for &c in &cases {
            let name = case_name(c);
            let _ = write!(md, " {name} plain | {name} TLS |");
        }
        let _ = writeln!(md, "\n|---|{}", "---:|---:|".repeat(cases.len()));
        for s in &servers {
            let _ = write!(md, "| {s} |");
            for &c in &cases {
                for tls in [false, true] {
                    let cell = get(c, s, tls).map_or_else(
                        || missing(s, tls),
                        |e| format!("{:.0} / {:.0}", e.p50_us, e.p99_us),
                    );
                    let _ = write!(md, " {cell} |");
                }
            }
            let _ = writeln!(md);
        }
        let _ = writeln!(
            md,
            "\n**Server CPU per echoed message by runtime (ns of user+sys; lower is better)**\n"
        );
        let _ = write!(md, "| runtime |");
        for &c in &cases {
            let name = case_name(c);
            let _ = write!(md, " {name} plain | {name} TLS |");
        }
        let _ = writeln!(md, "\n|---|{}", "---:|---:|".repeat(cases.len()));
        for s in &servers {
            let _ = write!(md, "| {s} |");
            for &c in &cases {
                for tls in [false, true] {
                    let cell = match get(c, s, tls) {
                        Some(e) => cpu(e).map_or("–".into(), |v| format!("{v:.0}")),
                        None => missing(s, tls),
                    };
                    let _ = write!(md, " {cell} |");
                }
            }
            let _ = writeln!(md);
        }
        let client_max = self
            .by_runtime
            .values()
            .map(|e| e.client_cpu_util)
            .fold(0.0, f64::max);
        let _ = writeln!(
            md,
            "\nServer pinned to core 0, load generator (`loadgen`, `--tls --ca` for TLS: rustls with \
             ring) to core 1; it used at most {:.0} % of its core in these runs{}.",
            client_max * 100.0,
            if client_max >= 0.9 {
                " (near 100 %: the client's core is a limit too, so the throughput figures are a \
                 floor; CPU per message compares the servers better)"
            } else {
                ""
            }
        );
    }

    /// (target, numbers, met) for each target issue #7 sets.
    fn targets(&self) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        let cases = self.cases(&self.flat);
        let ratio_to = |pick: &dyn Fn(Case) -> Option<f64>| -> Vec<(Case, f64)> {
            cases
                .iter()
                .filter_map(|&c| Some((c, self.flat_rate(c, DUPLEX)? / pick(c)?)))
                .collect()
        };
        let best_peer = |c: Case| {
            PEERS
                .iter()
                .filter_map(|p| self.flat_rate(c, p))
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        };
        let mut push = |name: &str, ratios: Vec<(Case, f64)>, goal: f64| {
            if ratios.is_empty() {
                return;
            }
            let worst = ratios.iter().map(|r| r.1).fold(f64::MAX, f64::min);
            let list: Vec<String> = ratios
                .iter()
                .map(|(c, r)| format!("{} {r:.2}×", case_name(*c)))
                .collect();
            out.push((name.to_owned(), list.join(", "), worst >= goal));
        };
        push(
            "echo ≥ 1.0× the best peer, every case",
            ratio_to(&best_peer),
            1.0,
        );
        push(
            "echo ≥ 0.95× raw TCP",
            ratio_to(&|c| self.flat_rate(c, RAW)),
            0.95,
        );
        push(
            "echo ≥ 1.5× tokio-tungstenite",
            ratio_to(&|c| self.flat_rate(c, TUNGSTENITE)),
            1.5,
        );

        let rated = self.cases(&self.rated);
        let cpu_ratios: Vec<(Case, f64)> = rated
            .iter()
            .filter_map(|&c| {
                let d = self.cpu_at_rate(c, DUPLEX)?;
                let best = PEERS
                    .iter()
                    .filter_map(|p| self.cpu_at_rate(c, p))
                    .fold(f64::MAX, f64::min);
                (best < f64::MAX).then(|| (c, d / best))
            })
            .collect();
        if !cpu_ratios.is_empty() {
            let worst = cpu_ratios.iter().map(|r| r.1).fold(0.0, f64::max);
            let list: Vec<String> = cpu_ratios
                .iter()
                .map(|(c, r)| format!("{} {r:.2}×", case_name(*c)))
                .collect();
            out.push((
                "server CPU/message ≤ 0.8× the best peer (fixed rate)".into(),
                list.join(", "),
                worst <= 0.8,
            ));
        }
        if let Some(i) = self.idle.get(DUPLEX) {
            out.push((
                "≤ 8 KiB RSS per idle connection".into(),
                format!(
                    "{:.1} KiB after the handshake, {:.1} KiB after one echo",
                    i.bytes_per_conn_open / 1024.0,
                    i.bytes_per_conn_used / 1024.0
                ),
                i.bytes_per_conn_open.max(i.bytes_per_conn_used) <= 8192.0,
            ));
        }
        let d = self.fanout.get(&(1000, "duplex".into()));
        let r = self.fanout.get(&(1000, "rabbitmq-web-stomp".into()));
        if let (Some(d), Some(r)) = (d, r) {
            let ratio = d.delivered_per_sec / r.delivered_per_sec.max(1.0);
            out.push((
                "fan-out ≥ 5× RabbitMQ Web-STOMP at 1000 subscribers".into(),
                format!(
                    "{} vs {} delivered/s: {ratio:.2}×",
                    thousands(d.delivered_per_sec),
                    thousands(r.delivered_per_sec)
                ),
                ratio >= 5.0,
            ));
        }
        out
    }

    fn charts(&self, out: &Path) {
        let servers = &self.servers;
        let cases = self.cases(&self.flat);
        if !cases.is_empty() {
            let series: Vec<(String, Vec<Option<f64>>)> = servers
                .iter()
                .map(|s| {
                    let v = cases
                        .iter()
                        .map(|&c| Some(self.flat_rate(c, s)? / self.flat_rate(c, RAW)?))
                        .collect();
                    (s.clone(), v)
                })
                .collect();
            let groups: Vec<String> = cases.iter().map(|&c| case_name(c)).collect();
            bars(
                &out.join("echo-throughput.svg"),
                "Echo throughput flat out, as a share of raw TCP",
                "× raw TCP echo (higher is better)",
                &groups,
                &series,
            );
        }
        let cases = self.cases(&self.rated);
        if !cases.is_empty() {
            let series: Vec<(String, Vec<Option<f64>>)> = servers
                .iter()
                .filter(|s| s.as_str() != RAW)
                .map(|s| {
                    let v = cases.iter().map(|&c| self.cpu_at_rate(c, s)).collect();
                    (s.clone(), v)
                })
                .collect();
            let groups: Vec<String> = cases.iter().map(|&c| case_name(c)).collect();
            bars(
                &out.join("cpu-per-message.svg"),
                "Server CPU per echoed message at a fixed rate",
                "ns per message (lower is better)",
                &groups,
                &series,
            );
        }
        if !self.idle.is_empty() {
            let series: Vec<(String, Vec<Option<f64>>)> = servers
                .iter()
                .map(|s| {
                    let i = self.idle.get(s);
                    (
                        s.clone(),
                        vec![
                            i.map(|i| i.bytes_per_conn_open / 1024.0),
                            i.map(|i| i.bytes_per_conn_used / 1024.0),
                        ],
                    )
                })
                .collect();
            bars(
                &out.join("idle-rss.svg"),
                "RSS per idle WebSocket connection (10,000 open)",
                "KiB per connection (lower is better)",
                &["after the handshake".into(), "after one echo".into()],
                &series,
            );
        }
        if !self.fanout.is_empty() {
            let mut subs: Vec<usize> = self.fanout.keys().map(|k| k.0).collect();
            subs.dedup();
            let mut brokers: Vec<String> = self.fanout.keys().map(|k| k.1.clone()).collect();
            brokers.sort();
            brokers.dedup();
            let series: Vec<(String, Vec<Option<f64>>)> = brokers
                .iter()
                .map(|b| {
                    let v = subs
                        .iter()
                        .map(|&n| {
                            self.fanout
                                .get(&(n, b.clone()))
                                .map(|f| f.delivered_per_sec)
                        })
                        .collect();
                    (b.clone(), v)
                })
                .collect();
            let groups: Vec<String> = subs.iter().map(|n| format!("1 → {n}")).collect();
            bars(
                &out.join("fanout.svg"),
                "STOMP fan-out over WebSocket, 100 B messages",
                "messages delivered per second",
                &groups,
                &series,
            );
        }
    }
}

fn fixed_rate(args: &[String]) {
    let [input, conns, size, fraction] = args else {
        eprintln!("usage: charts --fixed-rate RESULTS.jsonl CONNS SIZE FRACTION");
        std::process::exit(2);
    };
    let (Ok(conns), Ok(size), Ok(fraction)) =
        (conns.parse(), size.parse(), fraction.parse::<f64>())
    else {
        eprintln!("charts --fixed-rate: CONNS and SIZE are integers, FRACTION a number");
        std::process::exit(2);
    };
    let text = fs::read_to_string(input).unwrap_or_default();
    let results = Results::load(&text);
    let slowest = results
        .flat
        .iter()
        .filter(|((c, s), _)| *c == (conns, size) && s != RAW)
        .map(|(_, e)| e.msgs_per_sec)
        .fold(f64::MAX, f64::min);
    if slowest == f64::MAX {
        std::process::exit(1);
    }
    let rate = slowest * fraction;
    let scale = 10f64.powi(rate.log10().floor() as i32 - 1);
    println!("{:.0}", (rate / scale).floor().max(1.0) * scale);
}

fn cpu(e: &Echo) -> Option<f64> {
    e.server_cpu_ns_per_msg
}

fn case_name((conns, size): Case) -> String {
    let size = match size {
        s if s >= 1024 && s % 1024 == 0 => format!("{} KiB", s / 1024),
        s => format!("{s} B"),
    };
    format!("{conns} × {size}")
}

/// `1234567.8` → `1,234,568`.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A grouped bar chart: one group per `groups` entry, one bar per series in each.
fn bars(
    path: &Path,
    title: &str,
    y_label: &str,
    groups: &[String],
    series: &[(String, Vec<Option<f64>>)],
) {
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(0.0f64, |m, &v| m.max(v));
    if max <= 0.0 || groups.is_empty() {
        return;
    }
    let root = SVGBackend::new(path, (960, 480)).into_drawing_area();
    let _ = root.fill(&WHITE);
    let n = series.len().max(1) as f64;
    let chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..groups.len() as f64, 0.0..max * 1.15);
    let Ok(mut chart) = chart else {
        return;
    };
    let labels = groups.to_vec();
    let _ = chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 0.01 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_label)
        .draw();
    for (k, (name, values)) in series.iter().enumerate() {
        let color = Palette99::pick(k).to_rgba();
        let width = 0.8 / n;
        let rects = values.iter().enumerate().filter_map(|(g, v)| {
            let v = (*v)?;
            let x0 = g as f64 + 0.1 + k as f64 * width;
            Some(Rectangle::new(
                [(x0, 0.0), (x0 + width * 0.9, v)],
                color.filled(),
            ))
        });
        if let Ok(drawn) = chart.draw_series(rects) {
            drawn.label(name.clone()).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
            });
        }
    }
    let _ = chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw();
    let _ = root.present();
}
