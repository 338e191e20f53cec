//! The harness on `duplex-tokio` (see [`super::async_rt`]): a fresh current-thread runtime for
//! each server thread and each client call.

use std::future::Future;
use std::net::SocketAddr;

use duplex_tokio::ws::{connect_with, ConnectOptions, WebSocket};
use duplex_tokio::{Error, MaybeTlsStream, Tokio};
use tokio::net::TcpListener;

use super::async_rt::AsyncRuntime;

impl AsyncRuntime for Tokio {
    const NAME: &'static str = "tokio";

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(f)
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
