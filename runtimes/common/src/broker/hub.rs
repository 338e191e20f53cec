//! The broker shared by every connection task: one sans-IO [`Broker`] behind a mutex, a wake-up
//! signal per connection, a timer task, and the host's own counters. No protocol decisions
//! here: the broker makes them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use duplex_core::broker::{Broker, ConnId, Output};
use duplex_core::Instant;
use futures_lite::future::or;

use super::stats::{HostCounters, HostStats};
use crate::runtime::{Clock, Runtime};
use crate::signal::{Notify, Shutdown};

/// What a connection task is woken for.
#[derive(Debug, Default)]
pub(crate) struct ConnSignal {
    /// Bytes are waiting in the broker for this connection, or it must close.
    pub(crate) wake: Notify,
    /// The broker said to close this connection.
    pub(crate) close: AtomicBool,
}

/// The broker and the deadline the timer task sleeps until, under one lock.
struct Locked {
    broker: Broker,
    /// The deadline the timer task is sleeping until (`None`: sleeping until woken).
    armed: Option<Instant>,
}

/// The shared broker.
pub(crate) struct Hub<R: Runtime> {
    locked: Mutex<Locked>,
    conns: Mutex<HashMap<ConnId, Arc<ConnSignal>>>,
    next_conn: AtomicU64,
    /// Wakes the timer task when the broker's earliest deadline moved earlier than `armed`.
    timer: Notify,
    clock: R::Clock,
    pub(crate) shutdown: Shutdown,
    pub(crate) counters: HostCounters,
}

impl<R: Runtime> Hub<R> {
    pub(crate) fn new(broker: Broker, clock: R::Clock) -> Arc<Self> {
        Arc::new(Hub {
            locked: Mutex::new(Locked {
                broker,
                armed: None,
            }),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            timer: Notify::default(),
            clock,
            shutdown: Shutdown::default(),
            counters: HostCounters::default(),
        })
    }

    /// Now, on the broker's clock.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    pub(crate) fn host_stats(&self) -> HostStats {
        self.counters.snapshot()
    }

    fn lock(&self) -> MutexGuard<'_, Locked> {
        // A panicking application handler must not take every connection down with it.
        self.locked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register a new connection with the broker.
    pub(crate) fn open(&self) -> (ConnId, Arc<ConnSignal>) {
        let id = ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed));
        let signal = Arc::new(ConnSignal::default());
        self.conns.lock().unwrap().insert(id, signal.clone());
        let now = self.now();
        self.with(|b| b.open(now, id).expect("connection ids are unique"));
        (id, signal)
    }

    /// The transport of `conn` is gone.
    pub(crate) fn closed(&self, conn: ConnId) {
        let now = self.now();
        self.with(|b| b.handle_closed(now, conn));
        self.conns.lock().unwrap().remove(&conn);
    }

    /// Run `f` on the broker, then hand its outputs to the connections they concern and wake
    /// the timer task if the earliest deadline moved earlier than the one it sleeps until.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Broker) -> T) -> T {
        let mut locked = self.lock();
        let result = f(&mut locked.broker);
        let mut wake = Vec::new();
        while let Some(output) = locked.broker.poll_output() {
            match output {
                Output::Transmit(conn) => wake.push((conn, false)),
                Output::Close(conn) => wake.push((conn, true)),
                Output::AppMessage(m) => {
                    tracing::debug!(destination = %m.destination, "no handler for application message")
                }
            }
        }
        let next = locked.broker.poll_timeout();
        let earlier = match (next, locked.armed) {
            (Some(n), Some(armed)) => n < armed,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if earlier {
            locked.armed = next;
        }
        drop(locked);
        if earlier {
            HostCounters::bump(&self.counters.timer_wakeups);
            self.timer.notify_one();
        }
        if !wake.is_empty() {
            let conns = self.conns.lock().unwrap();
            for (conn, close) in wake {
                if let Some(signal) = conns.get(&conn) {
                    if close {
                        signal.close.store(true, Ordering::Release);
                    }
                    signal.wake.notify_one();
                }
            }
        }
        result
    }

    /// Fire the broker's timers (heart-beats, connect timeouts) until shutdown. Sleeps until
    /// the earliest deadline; [`with`](Self::with) wakes it only when that moves earlier.
    pub(crate) async fn run_timers(self: Arc<Self>) {
        /// What ended one sleep.
        enum Woke {
            Deadline,
            Moved,
            Shutdown,
        }
        loop {
            let next = {
                let mut locked = self.lock();
                locked.armed = locked.broker.poll_timeout();
                locked.armed
            };
            let woke = or(
                async {
                    self.shutdown.wait().await;
                    Woke::Shutdown
                },
                or(
                    async {
                        self.clock.sleep_until(next).await;
                        Woke::Deadline
                    },
                    async {
                        self.timer.notified().await;
                        Woke::Moved
                    },
                ),
            )
            .await;
            match woke {
                Woke::Deadline => {
                    let now = self.now();
                    self.with(|b| b.handle_timeout(now));
                }
                Woke::Moved => {}
                Woke::Shutdown => return,
            }
        }
    }
}
