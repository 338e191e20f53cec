//! The harness on `duplex-smol` (see [`super::async_rt`]): `smol::block_on` for each server
//! thread and each client call; connection tasks on smol's global executor.

use std::future::Future;
use std::net::SocketAddr;

use duplex_smol::ws::{connect_with, ConnectOptions, WebSocket};
use duplex_smol::{Error, MaybeTlsStream, Smol};
use smol::net::TcpListener;

use super::async_rt::AsyncRuntime;

impl AsyncRuntime for Smol {
    const NAME: &'static str = "smol";

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        smol::block_on(f)
    }

    async fn bind() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    async fn connect(
        url: &str,
        options: ConnectOptions,
    ) -> Result<WebSocket<MaybeTlsStream>, Error> {
        connect_with(url, options).await
    }
}
