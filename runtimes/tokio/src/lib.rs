//! duplex-tokio (being written).
