//! `duplex`: a STOMP-over-WebSocket broker with a demo page.
//!
//! `duplex [--config FILE] [--runtime tokio|smol|mio] [--listen 127.0.0.1:8080]
//! [--tls-cert cert.pem --tls-key key.pem]`
//!
//! Serves `ws://HOST/ws` (subprotocols `v12.stomp`, `v11.stomp`, `v10.stomp`), the page at `/`,
//! `/healthz` and `/metrics`. Destinations: `/topic/**` (broadcast), `/queue/**` (one consumer
//! each), `/app/**` (application handlers), `/user/queue/**` (per user). Settings: see
//! `duplex.example.toml`; flags override the file. Without configured users any login is
//! accepted and becomes the principal, and a CONNECT without a login gets a unique `anon-N`
//! principal, so no one reaches another's `/user/` destinations anonymously.
//!
//! The app ([`app`]), the page ([`http`]) and the settings ([`config`]) are written once; the
//! runtime (`--runtime`, default tokio) only decides who hosts the broker, listens, runs the
//! ticker's timer and catches signals ([`rt_tokio`], [`rt_smol`], [`rt_mio`]).
//!
//! Ctrl-C or SIGTERM: stop accepting, close every session without ERROR (owed RECEIPTs go
//! out), close every WebSocket with 1001, wait for the close handshakes (bounded), exit 0.

#[macro_use]
mod host;
mod app;
mod config;
mod http;
mod rt_mio;
mod rt_smol;
mod rt_tokio;

use config::{Config, Runtime};

const USAGE: &str = "usage: duplex [--config FILE] [--runtime tokio|smol|mio] [--listen 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE]";

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match config_from_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(why) => {
            eprintln!("duplex: {why}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = config.runtime;
    let outcome = match runtime {
        Runtime::Tokio => rt_tokio::run(config),
        Runtime::Smol => rt_smol::run(config),
        Runtime::Mio => rt_mio::run(config),
    };
    if let Err(e) = outcome {
        eprintln!("duplex ({}): {e}", runtime.name());
        std::process::exit(1);
    }
}

/// The file named by `--config` (or the defaults), then the other flags over it. `None` for
/// `--help`.
fn config_from_args(args: impl Iterator<Item = String>) -> Result<Option<Config>, String> {
    let mut args = args.peekable();
    let mut file = None;
    let mut flags = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--config" | "--runtime" | "--listen" | "--tls-cert" | "--tls-key" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                if arg == "--config" {
                    file = Some(value);
                } else {
                    flags.push((arg, value));
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let mut config = match file {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    };
    for (flag, value) in flags {
        match flag.as_str() {
            "--runtime" => config.runtime = value.parse()?,
            "--listen" => config.listen = value,
            "--tls-cert" => config.tls.cert = Some(value),
            _ => config.tls.key = Some(value),
        }
    }
    config.check()?;
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Config>, String> {
        config_from_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("duplex-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("duplex.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\n[limits]\nprefetch = 3\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let c = args(&["--config", path]).unwrap().unwrap();
        assert_eq!(
            (c.listen.as_str(), c.limits.prefetch),
            ("127.0.0.1:9000", 3)
        );
        let c = args(&["--listen", "127.0.0.1:9001", "--config", path])
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.listen.as_str(), c.limits.prefetch),
            ("127.0.0.1:9001", 3)
        );
        assert!(args(&["--tls-cert", "c.pem"])
            .unwrap_err()
            .contains("go together"));
        let c = args(&["--config", path, "--runtime", "smol"])
            .unwrap()
            .unwrap();
        assert_eq!(c.runtime, Runtime::Smol);
        assert_eq!(args(&[]).unwrap().unwrap().runtime, Runtime::Tokio);
        assert!(args(&["--runtime", "async-std"])
            .unwrap_err()
            .contains("unknown runtime"));
        assert!(args(&["--bogus"]).unwrap_err().contains("unknown argument"));
        assert!(args(&["--help"]).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
