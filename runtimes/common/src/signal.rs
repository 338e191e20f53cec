//! Wake-ups that work on any executor (built on `async-channel`): [`Notify`], a wake-up with one
//! stored permit, and [`Shutdown`], a one-way flag every task can wait on.

/// A wake-up with one stored permit (like tokio's `Notify::notify_one`): a notification sent while
/// nobody waits is kept for the next [`notified`](Self::notified).
#[derive(Debug)]
pub(crate) struct Notify {
    tx: async_channel::Sender<()>,
    rx: async_channel::Receiver<()>,
}

impl Default for Notify {
    fn default() -> Self {
        let (tx, rx) = async_channel::bounded(1);
        Notify { tx, rx }
    }
}

impl Notify {
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
    tx: async_channel::Sender<()>,
    rx: async_channel::Receiver<()>,
}

impl Default for Shutdown {
    fn default() -> Self {
        let (tx, rx) = async_channel::bounded(1);
        Shutdown { tx, rx }
    }
}

impl Shutdown {
    /// Start the shutdown: every [`wait`](Self::wait) returns, now and later.
    pub(crate) fn trigger(&self) {
        self.tx.close();
    }

    /// Whether [`trigger`](Self::trigger) has been called.
    pub(crate) fn is_triggered(&self) -> bool {
        self.tx.is_closed()
    }

    /// Return once [`trigger`](Self::trigger) has been called. Cancel-safe.
    pub(crate) async fn wait(&self) {
        let _ = self.rx.recv().await;
    }
}
