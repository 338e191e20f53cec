//! `duplex`: a STOMP-over-WebSocket broker with a demo page.
//!
//! `duplex [--config FILE] [--listen 127.0.0.1:8080] [--tls-cert cert.pem --tls-key key.pem]`
//!
//! Serves `ws://HOST/ws` (subprotocols `v12.stomp`, `v11.stomp`, `v10.stomp`), the page at `/`,
//! `/healthz` and `/metrics`. Destinations: `/topic/**` (broadcast), `/queue/**` (one consumer
//! each), `/app/**` (application handlers), `/user/queue/**` (per user). Settings: see
//! `duplex.example.toml`; flags override the file. Without configured users any login is
//! accepted and becomes the principal, and a CONNECT without a login gets a unique `anon-N`
//! principal, so no one reaches another's `/user/` destinations anonymously.
//!
//! Ctrl-C or SIGTERM: stop accepting, close every session without ERROR (owed RECEIPTs go
//! out), close every WebSocket with 1001, wait for the close handshakes (bounded), exit 0.

mod app;
mod config;
mod http;

use std::time::Duration;

use duplex_core::broker::{AnyLogin, Users};
use duplex_core::ws::handshake::OriginPolicy;
use duplex_tokio::broker::BrokerServer;
use tokio::net::TcpListener;

use config::Config;

const USAGE: &str =
    "usage: duplex [--config FILE] [--listen 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE]";

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
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(config)) {
        eprintln!("duplex: {e}");
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
            "--config" | "--listen" | "--tls-cert" | "--tls-key" => {
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
            "--listen" => config.listen = value,
            "--tls-cert" => config.tls.cert = Some(value),
            _ => config.tls.key = Some(value),
        }
    }
    config.check()?;
    Ok(Some(config))
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = BrokerServer::builder()
        .endpoint(config.endpoint.clone())
        .config(config.broker())
        .max_connections(config.max_connections)
        .shutdown_grace(Duration::from_millis(config.shutdown_grace_ms))
        .http(http::respond);
    if !config.allowed_origins.is_empty() {
        builder = builder.origin(OriginPolicy::AllowList(config.allowed_origins.clone()));
    }
    builder = if config.auth.users.is_empty() {
        builder.authenticator(AnyLogin::default())
    } else {
        let users = config
            .auth
            .users
            .iter()
            .fold(Users::new(), |u, (login, pass)| u.add(login, pass))
            .allow_anonymous(config.auth.allow_anonymous);
        builder.authenticator(users)
    };
    if let (Some(cert), Some(key)) = (&config.tls.cert, &config.tls.key) {
        builder = builder.tls(duplex_tokio::tls::acceptor_from_pem_files(cert, key)?);
    }
    let filters = app::Filters::default();
    let server = app::register(builder, filters.clone()).build()?;
    let handle = server.handle();
    if config.ticker_ms > 0 {
        tokio::spawn(app::run_ticker(
            handle.clone(),
            filters,
            Duration::from_millis(config.ticker_ms),
        ));
    }
    let listener = TcpListener::bind(&config.listen).await?;
    let scheme = if config.tls.cert.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(
        "duplex listening on {scheme}://{}/ (STOMP endpoint {})",
        listener.local_addr()?,
        config.endpoint
    );
    tokio::spawn(async move {
        stop_signal().await;
        tracing::info!("signal received: shutting down");
        handle.shutdown();
    });
    server.serve(listener).await?;
    tracing::info!("bye");
    Ok(())
}

/// Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
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
        assert!(args(&["--bogus"]).unwrap_err().contains("unknown argument"));
        assert!(args(&["--help"]).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
