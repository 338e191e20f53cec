//! # duplex-sim: deterministic simulation
//!
//! A runtime like `duplex-tokio` or `duplex-smol`, except that the clock and the network are
//! virtual and every random choice comes from one `u64` seed. It runs a whole server — the real
//! handshake, WebSocket [`Connection`](duplex_core::ws::Connection)s and
//! [`Broker`](duplex_core::broker::Broker), hosted exactly as `duplex-server` hosts it — and any
//! number of clients (the real client handshake, WebSocket and
//! [`ClientSession`](duplex_core::stomp::ClientSession)), in one thread. A failing run replays
//! exactly from its seed.
//!
//! - **Network** ([`Network`]): byte streams (TCP as the application sees it). Every write is cut
//!   at random offsets, delivered after a random latency, and read back coalesced at random; each
//!   direction has a window, so a stalled reader pushes back on its writer. Faults on a
//!   seed-drawn schedule: a stalled reader, a slow link, a reset, a half-close, a host paused past
//!   its heart-beat deadline, a server crash and restart that clients survive by reconnecting.
//! - **Time** is [`duplex_core::Instant`], moved by the world from one deadline to the next
//!   (earliest event first). Nothing on the simulated path reads a wall clock.
//! - **Invariants** checked on every run: see [`World`] (heart-beat failures detected within the
//!   tolerance and never earlier, close handshakes and DISCONNECT over by their deadlines, the
//!   broker's and WebSocket's outbound buffers within their bounds, no livelock) and
//!   [`checker`] (topic and queue delivery guarantees, stated precisely for faults, and
//!   quiescence once faults heal).
//! - **Seeds** ([`seeds`]): `DUPLEX_SEED=N` replays one, `DUPLEX_SEEDS=A..B` sweeps; a failure
//!   prints `reproduce with DUPLEX_SEED=N`; each seed can run twice and compare trace hashes.
//!   Options (client count, sizes, heart-beats, network shape, fault rates, broker limits) are
//!   drawn per seed ([`scenario::Options`]), as TigerBeetle's VOPR does.
//! - **Shrinking**: a run's schedule is a plain `Vec<`[`scenario::Op`]`>`; proptest generates and
//!   minimises them (`tests/fault_injection.rs` shrinks a failure to 4 operations).
//!
//! # Test your app deterministically
//!
//! Write your server handlers as usual ([`Broker::register_handler`](duplex_core::broker::Broker::register_handler))
//! and your client logic as a [`ClientLogic`] (callbacks for CONNECTED, events, wake-ups and
//! disconnects; act through [`ClientCx`]: `subscribe`, `send`, `ack`, `disconnect`, `wake_at`,
//! `rng`). Build a [`World`], add clients, run it, inject faults, assert:
//!
//! ```
//! use duplex_core::broker::{AppMessage, Broker, HandlerContext};
//! use duplex_core::stomp::{AckMode, ClientConfig, ClientEvent};
//! use duplex_sim::{ClientCx, ClientLogic, SimConfig, World};
//! use std::time::Duration;
//!
//! fn register(broker: &mut Broker) {
//!     broker
//!         .register_handler("/app/echo", |ctx: &mut HandlerContext, m: &AppMessage| {
//!             ctx.publish("/topic/echo", m.body().clone());
//!         })
//!         .unwrap();
//! }
//!
//! #[derive(Default)]
//! struct Echoer {
//!     heard: usize,
//! }
//!
//! impl ClientLogic for Echoer {
//!     fn on_connected(&mut self, cx: &mut ClientCx<'_>) {
//!         cx.subscribe("/topic/echo", AckMode::Auto, true).unwrap();
//!     }
//!     fn on_event(&mut self, cx: &mut ClientCx<'_>, event: &ClientEvent) {
//!         match event {
//!             // Our SUBSCRIBE is registered: say something.
//!             ClientEvent::Receipt(_) if self.heard == 0 => {
//!                 cx.send("/app/echo", "hi".into(), false).unwrap();
//!             }
//!             ClientEvent::Message(_) => self.heard += 1,
//!             _ => {}
//!         }
//!     }
//! }
//!
//! let mut world = World::new(SimConfig::new(42), register);
//! world.add_client(Echoer::default(), ClientConfig::new("sim"));
//! world.run_for(Duration::from_secs(1)).unwrap();
//! assert_eq!(world.client(0).heard, 1);
//! world.reset(0); // the connection drops; the default policy reconnects after a backoff
//! world.run_for(Duration::from_secs(2)).unwrap();
//! assert!(world.is_connected(0));
//! ```
//!
//! Every failure of [`World::run_until`] is a [`SimError`] whose text ends with
//! `reproduce with DUPLEX_SEED=N`. Take the seed from the environment in your own tests
//! ([`seeds::seeds_from_env`]) so that line replays it. A longer example, with a reset, a pause
//! past the heart-beat deadline and a server restart: `examples/deterministic_app.rs`.
//!
//! Rules for replayable logic: take time from `cx.now()` and randomness from `cx.rng()`; keep
//! state in ordered collections (or never iterate a `HashMap` to decide anything).
//!
//! # Running sweeps, measuring
//!
//! - `cargo test -p duplex-sim`: fixed seeds, a small range, determinism, the injected-bug demo.
//! - `DUPLEX_SEED=N cargo test -p duplex-sim --test seeds` or
//!   `cargo run -p duplex-sim --example replay -- N` (prints options, stats, coverage; set
//!   `DUPLEX_TRACE_TAIL=500` for a longer trace on failure).
//! - `scripts/sim-sweep --seeds 0..5000 --clients 50` builds in release and prints seeds/minute;
//!   `scripts/sim-sweep --help` also says how to profile the core against the simulator.
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
pub use duplex_core;
pub use net::{Delivery, End, LinkId, NetConfig, Network};
pub use rng::SimRng;
pub use server::BrokerSetup;
pub use trace::{HostId, Obs, Trace, TraceHash};
pub use world::{Observer, SimConfig, SimError, Stats, World};
