//! The broker shared by every connection task: one sans-IO [`Broker`] behind a mutex, a wake-up
//! signal per connection, and a timer task. No protocol decisions here: the broker makes them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use duplex_core::broker::{Broker, ConnId, Output};
use duplex_core::Instant;
use tokio::sync::Notify;

/// What a connection task is woken for.
#[derive(Debug, Default)]
pub struct ConnSignal {
    /// Bytes are waiting in the broker for this connection, or it must close.
    pub wake: Notify,
    /// The broker said to close this connection.
    pub close: std::sync::atomic::AtomicBool,
}

/// The shared broker.
pub struct Hub {
    broker: Mutex<Broker>,
    conns: Mutex<HashMap<ConnId, Arc<ConnSignal>>>,
    next_conn: AtomicU64,
    /// Wakes the timer task when the broker's next deadline may have moved.
    pub timer: Notify,
    epoch: tokio::time::Instant,
}

impl Hub {
    /// A hub around `broker`.
    pub fn new(broker: Broker, epoch: tokio::time::Instant) -> Arc<Self> {
        Arc::new(Hub {
            broker: Mutex::new(broker),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            timer: Notify::new(),
            epoch,
        })
    }

    /// Now, on the broker's clock.
    pub fn now(&self) -> Instant {
        Instant::from_duration(self.epoch.elapsed())
    }

    /// A broker deadline on tokio's clock.
    pub fn deadline(&self, at: Instant) -> tokio::time::Instant {
        self.epoch + at.since_epoch()
    }

    /// Register a new connection with the broker.
    pub fn open(&self) -> (ConnId, Arc<ConnSignal>) {
        let id = ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed));
        let signal = Arc::new(ConnSignal::default());
        self.conns.lock().unwrap().insert(id, signal.clone());
        let now = self.now();
        self.with(|b| b.open(now, id).expect("connection ids are unique"));
        (id, signal)
    }

    /// The transport of `conn` is gone.
    pub fn closed(&self, conn: ConnId) {
        let now = self.now();
        self.with(|b| b.handle_closed(now, conn));
        self.conns.lock().unwrap().remove(&conn);
    }

    /// Run `f` on the broker, then hand its outputs to the connections they concern.
    pub fn with<R>(&self, f: impl FnOnce(&mut Broker) -> R) -> R {
        let mut broker = self.broker.lock().unwrap();
        let result = f(&mut broker);
        let mut wake = Vec::new();
        while let Some(output) = broker.poll_output() {
            match output {
                Output::Transmit(conn) => wake.push((conn, false)),
                Output::Close(conn) => wake.push((conn, true)),
                Output::AppMessage(m) => {
                    tracing::debug!(destination = %m.destination, "no handler for application message")
                }
            }
        }
        drop(broker);
        let conns = self.conns.lock().unwrap();
        for (conn, close) in wake {
            if let Some(signal) = conns.get(&conn) {
                if close {
                    signal.close.store(true, Ordering::Release);
                }
                signal.wake.notify_one();
            }
        }
        drop(conns);
        self.timer.notify_one();
        result
    }

    /// Fire the broker's timers (heart-beats, connect timeouts, slow-consumer ages) forever.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let next = self.with(|b| b.poll_timeout());
            let sleep = async {
                match next {
                    Some(at) => tokio::time::sleep_until(self.deadline(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => {
                    let now = self.now();
                    self.with(|b| b.handle_timeout(now));
                }
                _ = self.timer.notified() => {}
            }
        }
    }
}
