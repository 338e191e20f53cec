//! The opening handshake on smol: `duplex-rt-common` drives the core's machines (see
//! [`duplex_rt_common::ws`]); [`Io`] lends it a `futures-io` stream.

use std::io;

use duplex_rt_common::ws::ByteStream;
use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A `futures-io` stream, borrowed by the handshake driver.
pub(crate) struct Io<'a, S>(pub(crate) &'a mut S);

impl<S: AsyncRead + AsyncWrite + Unpin> ByteStream for Io<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).await
    }

    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.write_all(data).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.0.flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.0.close().await
    }
}
