//! `duplex --runtime tokio` (the default): [`duplex_tokio::broker`] on a multi-threaded tokio
//! runtime, the ticker on a `tokio::time::interval`, Ctrl-C and SIGTERM from `tokio::signal`.

use std::time::Duration;

use duplex_tokio::broker::{BrokerHandle, BrokerServer};
use tokio::net::TcpListener;

use crate::app::{Filters, Ticker};
use crate::config::Config;

impl_host!(BrokerHandle);

/// Serve until a signal has shut the broker down.
pub fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    tokio::runtime::Runtime::new()?.block_on(serve(config))
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let filters = Filters::default();
    let mut builder = configure_builder!(BrokerServer::builder(), &config, filters.clone());
    if let (Some(cert), Some(key)) = (&config.tls.cert, &config.tls.key) {
        builder = builder.tls(duplex_tokio::tls::acceptor_from_pem_files(cert, key)?);
    }
    let server = builder.build()?;
    let handle = server.handle();
    if config.ticker_ms > 0 {
        let mut ticker = Ticker::new(filters);
        let mut interval = tokio::time::interval(Duration::from_millis(config.ticker_ms));
        let handle = handle.clone();
        tokio::spawn(async move {
            loop {
                interval.tick().await;
                ticker.tick(&handle);
            }
        });
    }
    let listener = TcpListener::bind(&config.listen).await?;
    crate::host::log_listening(&config, listener.local_addr()?);
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
