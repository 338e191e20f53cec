//! What a runtime plugs into the shared code: a [`Clock`] with timers and a way to run tasks
//! ([`Runtime`]); its WebSocket seen as a [`MessageSocket`]; for hosting the broker, its listener,
//! TLS acceptor and server handshake ([`Host`]); for the STOMP client, how it dials
//! ([`Dial`]). Each runtime crate implements these for one marker type (`duplex_tokio::Tokio`,
//! `duplex_smol::Smol`); [`impl_adapter_glue!`](crate::impl_adapter_glue) writes all but
//! [`Runtime`] and [`Clock`] for crates laid out like those two.

mod dial;
mod glue;
mod host;
mod socket;

pub use dial::Dial;
pub use host::{Accepted, Host, HttpAnswer};
pub use socket::MessageSocket;

use std::future::Future;
use std::time::Duration;

use duplex_core::Instant;
use futures_lite::future::or;

/// The OS monotonic clock mapped onto the core's [`Instant`], and timers on it.
pub trait Clock: Copy + Send + Sync + std::fmt::Debug + 'static {
    /// A clock whose epoch is now.
    fn start() -> Self;

    /// Now, as a core instant.
    fn now(&self) -> Instant;

    /// Sleep until the core deadline `at`; with `None`, forever.
    fn sleep_until(self, at: Option<Instant>) -> impl Future<Output = ()> + Send;
}

/// An async runtime: its clock, spawning, and sleeping.
pub trait Runtime: Sized + Send + Sync + 'static {
    /// The runtime's clock.
    type Clock: Clock;
    /// A spawned task's handle.
    type Task: Send + 'static;

    /// Run `future` on the runtime.
    fn spawn<F>(future: F) -> Self::Task
    where
        F: Future<Output = ()> + Send + 'static;

    /// Let `task` run on without its handle.
    fn detach(task: Self::Task);

    /// Whether `task` has ended.
    fn is_finished(task: &Self::Task) -> bool;

    /// Wait for `task` to end (cancel-safe: the task runs on if this wait is dropped).
    fn join(task: &mut Self::Task) -> impl Future<Output = ()> + Send;

    /// Cancel `task` and wait until it is gone.
    fn abort(task: Self::Task) -> impl Future<Output = ()> + Send;

    /// Sleep for `duration`.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// A random source seeded from the OS, for mask keys and handshake keys (RFC 6455 §10.3).
    fn rng() -> duplex_core::SeededRng;
}

/// Run `f` for at most `limit`; `None` if it did not finish in time (it is dropped then).
pub async fn within<R: Runtime, T>(limit: Duration, f: impl Future<Output = T>) -> Option<T> {
    or(async { Some(f.await) }, async {
        R::sleep(limit).await;
        None
    })
    .await
}

/// Wait for `f` until the core deadline `at` on `clock`: `Some(output)`, or `None` once the
/// deadline has passed first. `f` is polled first (tokio's `biased` order).
pub async fn until<C: Clock, T>(
    clock: C,
    at: Option<Instant>,
    f: impl Future<Output = T>,
) -> Option<T> {
    or(async { Some(f.await) }, async {
        clock.sleep_until(at).await;
        None
    })
    .await
}
