//! The broker shared by every connection task: one sans-IO [`Broker`] behind a mutex, a wake-up
//! signal per connection, a timer task, and the host's own counters. No protocol decisions
//! here: the broker makes them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use duplex_core::broker::{Broker, ConnId, Output};
use duplex_core::Instant;

use crate::clock::Clock;

/// A wake-up with one stored permit (like tokio's `Notify::notify_one`): a notification sent while
/// nobody waits is kept for the next [`notified`](Self::notified).
#[derive(Debug)]
pub(crate) struct Notify {
    tx: smol::channel::Sender<()>,
    rx: smol::channel::Receiver<()>,
}

impl Default for Notify {
    fn default() -> Self {
        let (tx, rx) = smol::channel::bounded(1);
        Notify { tx, rx }
    }
}

impl Notify {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Wake the waiter, or the next one to wait.
    pub(crate) fn notify_one(&self) {
        let _ = self.tx.try_send(());
    }

    /// Wait for a notification. Cancel-safe: a dropped wait takes no permit.
    pub(crate) async fn notified(&self) {
        let _ = self.rx.recv().await;
    }
}

/// A one-way shutdown flag every task can wait on (a channel that is closed, never sent on).
#[derive(Debug)]
pub(crate) struct Shutdown {
    tx: smol::channel::Sender<()>,
    rx: smol::channel::Receiver<()>,
}

impl Shutdown {
    fn new() -> Self {
        let (tx, rx) = smol::channel::bounded(1);
        Shutdown { tx, rx }
    }

    /// Start the shutdown: every [`wait`](Self::wait) returns, now and later.
    pub(crate) fn trigger(&self) {
        self.tx.close();
    }

    pub(crate) fn is_triggered(&self) -> bool {
        self.tx.is_closed()
    }

    /// Return once [`trigger`](Self::trigger) has been called. Cancel-safe.
    pub(crate) async fn wait(&self) {
        let _ = self.rx.recv().await;
    }
}

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

/// Counters of the hosting layer (the broker counts the protocol side in
/// [`BrokerStats`](duplex_core::broker::BrokerStats)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    /// TCP connections accepted.
    pub accepted: u64,
    /// Connections refused at accept because [`max_connections`](super::Builder::max_connections)
    /// were open.
    pub refused_over_limit: u64,
    /// TLS or WebSocket handshakes that failed or were refused (bad request, Origin, timeout).
    pub handshake_failures: u64,
    /// Plain HTTP requests answered.
    pub http_requests: u64,
    /// `/app` SENDs for an async handler dropped because
    /// [`max_async_in_flight`](super::Builder::max_async_in_flight) were running.
    pub async_handler_drops: u64,
    /// Times the timer task was woken because the earliest deadline moved earlier.
    pub timer_wakeups: u64,
}

#[derive(Debug, Default)]
pub(crate) struct HostCounters {
    pub(crate) accepted: AtomicU64,
    pub(crate) refused_over_limit: AtomicU64,
    pub(crate) handshake_failures: AtomicU64,
    pub(crate) http_requests: AtomicU64,
    pub(crate) async_handler_drops: AtomicU64,
    pub(crate) timer_wakeups: AtomicU64,
}

impl HostCounters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> HostStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HostStats {
            accepted: get(&self.accepted),
            refused_over_limit: get(&self.refused_over_limit),
            handshake_failures: get(&self.handshake_failures),
            http_requests: get(&self.http_requests),
            async_handler_drops: get(&self.async_handler_drops),
            timer_wakeups: get(&self.timer_wakeups),
        }
    }
}

/// The shared broker.
pub(crate) struct Hub {
    locked: Mutex<Locked>,
    conns: Mutex<HashMap<ConnId, Arc<ConnSignal>>>,
    next_conn: AtomicU64,
    /// Wakes the timer task when the broker's earliest deadline moved earlier than `armed`.
    timer: Notify,
    clock: Clock,
    pub(crate) shutdown: Shutdown,
    pub(crate) counters: HostCounters,
}

impl Hub {
    pub(crate) fn new(broker: Broker, clock: Clock) -> Arc<Self> {
        Arc::new(Hub {
            locked: Mutex::new(Locked {
                broker,
                armed: None,
            }),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            timer: Notify::new(),
            clock,
            shutdown: Shutdown::new(),
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
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Broker) -> R) -> R {
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
            let timer = self.clock.timer(next);
            let woke = futures_lite::future::or(
                async {
                    self.shutdown.wait().await;
                    Woke::Shutdown
                },
                futures_lite::future::or(
                    async {
                        timer.await;
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
