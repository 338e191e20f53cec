//! [`Tokio`]: what plugs tokio into the runtime-neutral glue of `duplex-rt-common` — its clock
//! and timers, `tokio::spawn`, its listener, `tokio-rustls`, and this crate's WebSocket. The
//! broker hosting and the STOMP client are written once there; this file is all that is tokio's
//! (the socket glue is [`duplex_rt_common::impl_adapter_glue!`] over this crate's types).

use std::future::Future;
use std::time::Duration;

use duplex_core::Instant;
use duplex_rt_common::runtime::{Clock as ClockApi, Runtime};
use tokio::task::JoinHandle;

use crate::clock::{os_rng, Clock};

/// The tokio runtime, as `duplex-rt-common` sees it: the type parameter behind this crate's
/// [`broker`](crate::broker) and [`stomp`](crate::stomp) types. Connection tasks and async
/// handlers run on `tokio::spawn`, so serving must happen inside a tokio runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

/// This crate's clock (on `tokio::time`), as `duplex-rt-common` sees it.
#[derive(Clone, Copy, Debug)]
pub struct TokioClock(pub(crate) Clock);

impl ClockApi for TokioClock {
    fn start() -> Self {
        TokioClock(Clock::new())
    }

    fn now(&self) -> Instant {
        self.0.now()
    }

    async fn sleep_until(self, at: Option<Instant>) {
        match at {
            Some(at) => tokio::time::sleep_until(self.0.to_tokio(at)).await,
            None => std::future::pending().await,
        }
    }
}

impl Runtime for Tokio {
    type Clock = TokioClock;
    type Task = JoinHandle<()>;

    fn spawn<F>(future: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(future)
    }

    fn detach(task: JoinHandle<()>) {
        drop(task);
    }

    fn is_finished(task: &JoinHandle<()>) -> bool {
        task.is_finished()
    }

    async fn join(task: &mut JoinHandle<()>) {
        let _ = task.await;
    }

    async fn abort(task: JoinHandle<()>) {
        task.abort();
        let _ = task.await;
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    fn rng() -> duplex_core::SeededRng {
        os_rng()
    }
}

duplex_rt_common::impl_adapter_glue! {
    runtime: Tokio,
    listener: tokio::net::TcpListener,
    tcp: tokio::net::TcpStream,
    tls_acceptor: tokio_rustls::TlsAcceptor,
}
