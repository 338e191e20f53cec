//! Deterministic simulation runtime (in progress).
pub use duplex_core;
