//! [`MessageSocket`]: a runtime's `WebSocket` as the shared code drives it (the hosted STOMP
//! connection, the STOMP client over WebSocket), and [`impl_message_socket!`] that implements it
//! by forwarding to the runtime's inherent methods of the same names.

use std::future::Future;

use duplex_core::ws::{CloseCode, CloseInfo, Connection, Event, Message};

use crate::Error;

/// A WebSocket connection on some runtime; see the runtime's `ws::WebSocket` for each call.
pub trait MessageSocket: Send + 'static {
    /// The subprotocol the handshake selected, if any.
    fn protocol(&self) -> Option<&str>;

    /// How the connection ended, once it has.
    fn close_info(&self) -> Option<&CloseInfo>;

    /// The core machine, for getters.
    fn connection(&self) -> &Connection;

    /// The core machine, for calls this trait does not wrap (fragments, pings); `flush` writes
    /// what they queue.
    fn connection_mut(&mut self) -> &mut Connection;

    /// The next event; `Ok(None)` once the connection has ended. Cancel-safe.
    fn next_event(&mut self) -> impl Future<Output = Result<Option<Event>, Error>> + Send;

    /// Queue a message without writing it.
    fn feed(&mut self, message: &Message) -> Result<(), Error>;

    /// Queue a message and write everything queued.
    fn send(&mut self, message: &Message) -> impl Future<Output = Result<(), Error>> + Send;

    /// Write everything queued.
    fn flush(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Run the closing handshake (RFC 6455 §7).
    fn close(
        &mut self,
        code: CloseCode,
        reason: &str,
    ) -> impl Future<Output = Result<CloseInfo, Error>> + Send;
}

/// Implement [`MessageSocket`] for a runtime's `WebSocket<S>` type by forwarding to its inherent
/// methods (which have the same names and signatures on every runtime).
#[macro_export]
macro_rules! impl_message_socket {
    ($socket:ty) => {
        impl $crate::runtime::MessageSocket for $socket {
            fn protocol(&self) -> Option<&str> {
                <$socket>::protocol(self)
            }
            fn close_info(&self) -> Option<&$crate::duplex_core::ws::CloseInfo> {
                <$socket>::close_info(self)
            }
            fn connection(&self) -> &$crate::duplex_core::ws::Connection {
                <$socket>::connection(self)
            }
            fn connection_mut(&mut self) -> &mut $crate::duplex_core::ws::Connection {
                <$socket>::connection_mut(self)
            }
            async fn next_event(
                &mut self,
            ) -> Result<Option<$crate::duplex_core::ws::Event>, $crate::Error> {
                <$socket>::next_event(self).await
            }
            fn feed(
                &mut self,
                message: &$crate::duplex_core::ws::Message,
            ) -> Result<(), $crate::Error> {
                <$socket>::feed(self, message)
            }
            async fn send(
                &mut self,
                message: &$crate::duplex_core::ws::Message,
            ) -> Result<(), $crate::Error> {
                <$socket>::send(self, message).await
            }
            async fn flush(&mut self) -> Result<(), $crate::Error> {
                <$socket>::flush(self).await
            }
            async fn close(
                &mut self,
                code: $crate::duplex_core::ws::CloseCode,
                reason: &str,
            ) -> Result<$crate::duplex_core::ws::CloseInfo, $crate::Error> {
                <$socket>::close(self, code, reason).await
            }
        }
    };
}
