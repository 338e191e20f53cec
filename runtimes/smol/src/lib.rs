//! Duplex on smol / async-io (in progress).
pub use duplex_core;
