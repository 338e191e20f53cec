//! [`ByteStream`]: the few byte-stream calls the handshake driver makes, so that it is written
//! once over tokio's and `futures-io`'s traits alike (each runtime wraps its streams).

use std::future::Future;
use std::io;

/// A byte stream as the handshake driver uses it.
pub trait ByteStream {
    /// Read into `buf`; `Ok(0)` at end of stream.
    fn read(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>>;

    /// Write all of `data`.
    fn write_all(&mut self, data: &[u8]) -> impl Future<Output = io::Result<()>>;

    /// Flush what was written.
    fn flush(&mut self) -> impl Future<Output = io::Result<()>>;

    /// Shut the write side down (a TCP FIN, a TLS close_notify).
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>>;
}
