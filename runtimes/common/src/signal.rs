//! Wake-ups that work on any executor (built on `async-channel`): [`Notify`], a wake-up with one
//! stored permit, and [`Shutdown`], a one-way flag every task can wait on.

/// A channel of capacity one: what both wake-ups are made of.
#[derive(Debug)]
struct Slot {
    tx: async_channel::Sender<()>,
    rx: async_channel::Receiver<()>,
}

impl Default for Slot {
    fn default() -> Self {
        let (tx, rx) = async_channel::bounded(1);
        Slot { tx, rx }
    }
}

/// A wake-up with one stored permit (like tokio's `Notify::notify_one`): a notification sent while
/// nobody waits is kept for the next [`notified`](Self::notified).
#[derive(Debug, Default)]
pub(crate) struct Notify(Slot);

impl Notify {
    /// Wake the waiter, or the next one to wait.
    pub(crate) fn notify_one(&self) {
        let _ = self.0.tx.try_send(());
    }

    /// Wait for a notification. Cancel-safe: a dropped wait takes no permit.
    pub(crate) async fn notified(&self) {
        let _ = self.0.rx.recv().await;
    }
}

/// A one-way shutdown flag every task can wait on (a channel that is closed, never sent on).
#[derive(Debug, Default)]
pub(crate) struct Shutdown(Slot);

impl Shutdown {
    /// Start the shutdown: every [`wait`](Self::wait) returns, now and later.
    pub(crate) fn trigger(&self) {
        self.0.tx.close();
    }

    /// Whether [`trigger`](Self::trigger) has been called.
    pub(crate) fn is_triggered(&self) -> bool {
        self.0.tx.is_closed()
    }

    /// Return once [`trigger`](Self::trigger) has been called. Cancel-safe.
    pub(crate) async fn wait(&self) {
        let _ = self.0.rx.recv().await;
    }
}
