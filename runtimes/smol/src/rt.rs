//! [`Smol`]: what plugs smol into the runtime-neutral glue of `duplex-rt-common` — `async-io`
//! timers, `smol::spawn`, `async-net`'s listener, `futures-rustls`, and this crate's WebSocket.
//! The broker hosting and the STOMP client are written once there; this file is all that is
//! smol's (the socket glue is [`duplex_rt_common::impl_adapter_glue!`] over this crate's types).

use std::future::Future;
use std::time::Duration;

use duplex_core::Instant;
use duplex_rt_common::runtime::{Clock as ClockApi, Runtime};
use smol::Task;

use crate::clock::{os_rng, Clock};

/// smol, as `duplex-rt-common` sees it: the type parameter behind this crate's
/// [`broker`](crate::broker) and [`stomp`](crate::stomp) types. Connection tasks and async
/// handlers run on smol's global executor (`smol::spawn`), so any executor may drive the rest.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol;

/// This crate's clock (with `async-io` timers), as `duplex-rt-common` sees it.
#[derive(Clone, Copy, Debug)]
pub struct SmolClock(pub(crate) Clock);

impl ClockApi for SmolClock {
    fn start() -> Self {
        SmolClock(Clock::new())
    }

    fn now(&self) -> Instant {
        self.0.now()
    }

    async fn sleep_until(self, at: Option<Instant>) {
        self.0.timer(at).await;
    }
}

impl Runtime for Smol {
    type Clock = SmolClock;
    type Task = Task<()>;

    fn spawn<F>(future: F) -> Task<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        smol::spawn(future)
    }

    fn detach(task: Task<()>) {
        task.detach();
    }

    fn is_finished(task: &Task<()>) -> bool {
        task.is_finished()
    }

    async fn join(task: &mut Task<()>) {
        task.await;
    }

    async fn abort(task: Task<()>) {
        task.cancel().await;
    }

    async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
    }

    fn rng() -> duplex_core::SeededRng {
        os_rng()
    }
}

duplex_rt_common::impl_adapter_glue! {
    runtime: Smol,
    listener: async_net::TcpListener,
    tcp: async_net::TcpStream,
    tls_acceptor: futures_rustls::TlsAcceptor,
}
