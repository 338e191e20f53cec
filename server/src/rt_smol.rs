//! `duplex --runtime smol`: [`duplex_smol::broker`] on smol's global executor (`SMOL_THREADS`
//! threads; one per CPU unless set), the ticker on a `smol::Timer::interval`, Ctrl-C and
//! SIGTERM from `async-signal`.

use std::time::Duration;

use async_signal::{Signal, Signals};
use duplex_smol::broker::{BrokerHandle, BrokerServer};
use smol::net::TcpListener;
use smol::stream::StreamExt;

use crate::app::{Filters, Ticker};
use crate::config::Config;

impl_host!(BrokerHandle);

/// Serve until a signal has shut the broker down.
pub fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("SMOL_THREADS").is_none() {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Read once, when the global executor starts (below); no other thread runs yet.
        std::env::set_var("SMOL_THREADS", threads.to_string());
    }
    smol::block_on(serve(config))
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    // Before anything can be asked to stop: a signal from now on shuts down gracefully.
    #[cfg(unix)]
    let mut signals = Signals::new([Signal::Int, Signal::Term])?;
    #[cfg(not(unix))]
    let mut signals = Signals::new([Signal::Int])?;
    let filters = Filters::default();
    let mut builder = configure_builder!(BrokerServer::builder(), &config, filters.clone());
    if let (Some(cert), Some(key)) = (&config.tls.cert, &config.tls.key) {
        builder = builder.tls(duplex_smol::tls::acceptor_from_pem_files(cert, key)?);
    }
    let server = builder.build()?;
    let handle = server.handle();
    if config.ticker_ms > 0 {
        let mut ticker = Ticker::new(filters);
        let mut interval = smol::Timer::interval(Duration::from_millis(config.ticker_ms));
        let handle = handle.clone();
        smol::spawn(async move {
            while interval.next().await.is_some() {
                ticker.tick(&handle);
            }
        })
        .detach();
    }
    let listener = TcpListener::bind(&config.listen).await?;
    crate::host::log_listening(&config, listener.local_addr()?);
    smol::spawn(async move {
        let _ = signals.next().await;
        tracing::info!("signal received: shutting down");
        handle.shutdown();
    })
    .detach();
    server.serve(listener).await?;
    tracing::info!("bye");
    Ok(())
}
