//! `duplex --runtime mio`: [`duplex_mio::broker`] — the broker owned by one mio `Poll` loop on
//! the main thread, no async runtime. The ticker is a plain thread that sleeps and publishes
//! through the handle; Ctrl-C and SIGTERM are awaited (`async-signal`) on a thread of their own,
//! which only calls [`BrokerHandle::shutdown`].

use std::time::{Duration, Instant};

use async_signal::{Signal, Signals};
use duplex_mio::broker::{BrokerHandle, BrokerServer};
use smol::stream::StreamExt;

use crate::app::{Filters, Ticker};
use crate::config::Config;

impl_host!(BrokerHandle);

/// Serve on this thread until a signal has shut the broker down.
pub fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    #[cfg(unix)]
    let mut signals = Signals::new([Signal::Int, Signal::Term])?;
    #[cfg(not(unix))]
    let mut signals = Signals::new([Signal::Int])?;
    let filters = Filters::default();
    let mut builder = configure_builder!(BrokerServer::builder(), &config, filters.clone());
    if let (Some(cert), Some(key)) = (&config.tls.cert, &config.tls.key) {
        builder = builder.tls(duplex_mio::tls::server_config_from_pem_files(cert, key)?);
    }
    let server = builder.build()?;
    let handle = server.handle();
    if config.ticker_ms > 0 {
        let mut ticker = Ticker::new(filters);
        let every = Duration::from_millis(config.ticker_ms);
        let handle = handle.clone();
        std::thread::Builder::new()
            .name("duplex-ticker".into())
            .spawn(move || {
                let mut next = Instant::now();
                loop {
                    ticker.tick(&handle);
                    next += every;
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                }
            })?;
    }
    let listener = std::net::TcpListener::bind(&config.listen)?;
    crate::host::log_listening(&config, listener.local_addr()?);
    let stopper = handle.clone();
    std::thread::Builder::new()
        .name("duplex-signals".into())
        .spawn(move || {
            let _ = smol::block_on(signals.next());
            tracing::info!("signal received: shutting down");
            stopper.shutdown();
        })?;
    server.serve(listener)?;
    tracing::info!("bye");
    Ok(())
}
