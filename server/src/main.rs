//! `duplex`: a STOMP-over-WebSocket broker with a demo page.
//!
//! `duplex [--listen 127.0.0.1:8080] [--tls-cert cert.pem --tls-key key.pem]`
//!
//! Serves `ws://HOST/ws` (subprotocols `v12.stomp`, `v11.stomp`, `v10.stomp`), the page at `/`,
//! `/healthz` and `/metrics`. Destinations: `/topic/**` (broadcast), `/queue/**` (one consumer
//! each), `/app/**` (application handlers), `/user/queue/**` (per user). Any login is accepted
//! and becomes the principal; a CONNECT without a login gets a unique `anon-N` principal, so no
//! one reaches another's `/user/` destinations.

mod app;
mod conn;
mod http;
mod hub;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use duplex_core::broker::{Broker, BrokerConfig, DefaultAuthorizer};
use duplex_core::stomp::{Frame, HeartBeat};
use duplex_core::SeededRng;
use tokio::net::TcpListener;

const USAGE: &str = "usage: duplex [--listen 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE]";

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut listen = String::from("127.0.0.1:8080");
    let (mut cert, mut key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--listen" => listen = value(),
            "--tls-cert" => cert = Some(value()),
            "--tls-key" => key = Some(value()),
            "--help" | "-h" => {
                println!("{USAGE}");
                return;
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(&listen, cert, key)) {
        eprintln!("duplex: {e}");
        std::process::exit(1);
    }
}

fn usage(why: &str) -> ! {
    eprintln!("duplex: {why}\n{USAGE}");
    std::process::exit(2);
}

async fn run(
    listen: &str,
    cert: Option<String>,
    key: Option<String>,
) -> Result<(), duplex_tokio::Error> {
    let tls = match (cert, key) {
        (Some(c), Some(k)) => Some(duplex_tokio::tls::acceptor_from_pem_files(c, k)?),
        (None, None) => None,
        _ => usage("--tls-cert and --tls-key go together"),
    };
    let mut config = BrokerConfig::default();
    config.session.heart_beat = HeartBeat {
        can_send: Duration::from_secs(10),
        want_receive: Duration::from_secs(10),
    };
    let anon = AtomicU64::new(1);
    let authenticator =
        move |login: Option<&str>, _: Option<&str>, _: &Frame| -> Result<String, String> {
            match login.map(str::trim) {
                Some(l) if !l.is_empty() && !l.starts_with("anon-") => Ok(l.to_owned()),
                _ => Ok(format!("anon-{}", anon.fetch_add(1, Ordering::Relaxed))),
            }
        };
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).expect("OS randomness");
    let epoch = tokio::time::Instant::now();
    let mut broker = Broker::new(
        duplex_core::Instant::ZERO,
        config,
        Box::new(authenticator),
        Box::new(DefaultAuthorizer::new("/user")),
        Box::new(SeededRng::new(u64::from_ne_bytes(seed))),
    );
    let filters = app::Filters::default();
    app::register(&mut broker, filters.clone());
    let hub = hub::Hub::new(broker, epoch);
    tokio::spawn(hub.clone().run_timers());
    tokio::spawn(app::run_ticker(
        hub.clone(),
        filters,
        Duration::from_millis(250),
    ));

    let listener = TcpListener::bind(listen).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        "duplex listening on {scheme}://{}/ (STOMP endpoint /ws)",
        listener.local_addr()?
    );
    let options = conn::accept_options();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, peer) = accepted?;
                let _ = tcp.set_nodelay(true);
                let (hub, options, tls) = (hub.clone(), options.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(stream) => conn::serve(stream, hub, options).await,
                            Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        },
                        None => conn::serve(tcp, hub, options).await,
                    }
                });
            }
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("shutting down");
                return Ok(());
            }
        }
    }
}
