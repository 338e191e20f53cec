//! Deterministic simulation (in progress).
#![deny(missing_docs)]

pub mod checker;
mod client;
mod net;
mod rng;
pub mod scenario;
pub mod seeds;
mod server;
mod trace;
mod world;

pub use client::{ClientCx, ClientLogic};
pub use net::{Delivery, End, LinkId, NetConfig, Network};
pub use rng::SimRng;
pub use server::BrokerSetup;
pub use trace::{HostId, Obs, Trace, TraceHash};
pub use world::{Observer, SimConfig, SimError, Stats, World};
pub use duplex_core;
