//! [`AppContext`]: what an async `/app` handler replies through.

use bytes::Bytes;
use duplex_core::broker::{BrokerError, ConnId};

use super::handle::BrokerHandle;
use crate::runtime::Runtime;

/// Handed to an async `/app` handler with the message: replies go through the broker like
/// those of a synchronous handler, but whenever the handler gets to them (after the SEND's
/// RECEIPT, which means "handed off").
pub struct AppContext<R: Runtime> {
    handle: BrokerHandle<R>,
    conn: ConnId,
    principal: String,
}

impl<R: Runtime> Clone for AppContext<R> {
    fn clone(&self) -> Self {
        AppContext::new(self.handle.clone(), self.conn, self.principal.clone())
    }
}

impl<R: Runtime> std::fmt::Debug for AppContext<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppContext")
            .field("handle", &self.handle)
            .field("conn", &self.conn)
            .field("principal", &self.principal)
            .finish()
    }
}

impl<R: Runtime> AppContext<R> {
    pub(crate) fn new(handle: BrokerHandle<R>, conn: ConnId, principal: String) -> Self {
        AppContext {
            handle,
            conn,
            principal,
        }
    }

    /// The sender's principal.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// Publish to a topic or queue (Spring's `@SendTo`).
    pub fn publish(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<(), BrokerError> {
        self.handle.publish(destination, headers, body)
    }

    /// Send to every session of the sender's user subscribed to `/user{destination}`
    /// (Spring's `@SendToUser`).
    pub fn reply_to_user(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.handle
            .send_to_user(&self.principal, destination, headers, body)
    }

    /// Send to the sending session only (Spring's `@SendToUser(broadcast = false)`).
    pub fn reply_to_session(
        &self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.handle
            .send_to_session(self.conn, destination, headers, body)
    }

    /// The server's handle, to reach anyone else.
    pub fn handle(&self) -> &BrokerHandle<R> {
        &self.handle
    }
}
