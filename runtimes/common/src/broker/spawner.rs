//! Async `/app` handlers: the core handler that hands each message to the application's async
//! handler on a task of its own, with at most `max_async_in_flight` running at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use duplex_core::broker::{AppMessage, HandlerContext};

use super::context::AppContext;
use super::handle::BrokerHandle;
use super::hub::Hub;
use super::stats::HostCounters;
use crate::runtime::Runtime;

/// An application's async handler, boxed.
pub(crate) type AsyncHandler<R> = Arc<
    dyn Fn(AppMessage, AppContext<R>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync,
>;

/// How many handler futures may run at once, and how many do.
#[derive(Debug)]
pub(crate) struct InFlight {
    running: AtomicUsize,
    max: usize,
}

/// One running handler future; dropping it frees its place.
struct Permit(Arc<InFlight>);

impl InFlight {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(InFlight {
            running: AtomicUsize::new(0),
            max,
        })
    }

    /// A place for one more handler future, unless `max` are running.
    fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit(self.clone()))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The core handler that hands each message to `handler` on a new task.
pub(crate) fn async_spawner<R: Runtime>(
    hub: Weak<Hub<R>>,
    in_flight: Arc<InFlight>,
    handler: AsyncHandler<R>,
) -> impl FnMut(&mut HandlerContext, &AppMessage) + Send + 'static {
    move |_ctx, message| {
        let Some(hub) = hub.upgrade() else {
            return;
        };
        let Some(permit) = in_flight.try_acquire() else {
            HostCounters::bump(&hub.counters.async_handler_drops);
            tracing::warn!(destination = %message.destination, "too many async handlers running: message dropped");
            return;
        };
        let ctx = AppContext::new(
            BrokerHandle::new(hub),
            message.conn,
            message.principal.clone(),
        );
        let future = handler(message.clone(), ctx);
        R::detach(R::spawn(async move {
            future.await;
            drop(permit);
        }));
    }
}
