//! `duplex --runtime mio`: waits for `duplex_mio::broker` (the mio host of the broker, with the
//! same API as the tokio and smol ones); until then it says so and exits.

use crate::config::Config;

/// Not available yet: `duplex-mio` does not host the broker.
pub fn run(_config: Config) -> Result<(), Box<dyn std::error::Error>> {
    Err("--runtime mio is not available yet: duplex-mio does not host the broker (duplex_mio::broker) in this build; use --runtime tokio or smol".into())
}
