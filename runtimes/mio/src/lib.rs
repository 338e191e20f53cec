//! Duplex on a plain mio event loop (in progress).
pub use duplex_core;
