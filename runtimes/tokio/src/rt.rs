//! [`Tokio`]: what plugs tokio into the runtime-neutral glue of `duplex-rt-common` — its clock
//! and timers, `tokio::spawn`, its listener, `tokio-rustls`, and this crate's WebSocket. The
//! broker hosting and the STOMP client are written once there; this file is all that is tokio's.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use duplex_core::Instant;
use duplex_rt_common::runtime::{Accepted, Clock as ClockApi, Dial, Host, HttpAnswer, Runtime};
use duplex_rt_common::{AcceptOptions, ConnectOptions};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::clock::{os_rng, Clock};
use crate::stomp::Transport;
use crate::ws::{accept_with, connect_with, HttpResponder, Incoming, WebSocket};
use crate::{Error, MaybeTlsStream};

/// The tokio runtime, as `duplex-rt-common` sees it: the type parameter behind this crate's
/// [`broker`](crate::broker) and [`stomp`](crate::stomp) types. Connection tasks and async
/// handlers run on `tokio::spawn`, so serving must happen inside a tokio runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

/// This crate's clock (on `tokio::time`), as `duplex-rt-common` sees it.
#[derive(Clone, Copy, Debug)]
pub struct TokioClock(pub(crate) Clock);

impl ClockApi for TokioClock {
    fn start() -> Self {
        TokioClock(Clock::new())
    }

    fn now(&self) -> Instant {
        self.0.now()
    }

    async fn sleep_until(self, at: Option<Instant>) {
        match at {
            Some(at) => tokio::time::sleep_until(self.0.to_tokio(at)).await,
            None => std::future::pending().await,
        }
    }
}

impl Runtime for Tokio {
    type Clock = TokioClock;
    type Task = JoinHandle<()>;

    fn spawn<F>(future: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(future)
    }

    fn detach(task: JoinHandle<()>) {
        drop(task);
    }

    fn is_finished(task: &JoinHandle<()>) -> bool {
        task.is_finished()
    }

    async fn join(task: &mut JoinHandle<()>) {
        let _ = task.await;
    }

    async fn abort(task: JoinHandle<()>) {
        task.abort();
        let _ = task.await;
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    fn rng() -> duplex_core::SeededRng {
        os_rng()
    }
}

duplex_rt_common::impl_message_socket!(WebSocket<MaybeTlsStream>);

impl HttpAnswer for HttpResponder<MaybeTlsStream> {
    async fn respond(self, response: bytes::Bytes) -> Result<(), Error> {
        HttpResponder::respond(self, response).await
    }

    async fn reject(self) -> Result<(), Error> {
        HttpResponder::reject(self).await
    }
}

impl Host for Tokio {
    type Listener = TcpListener;
    type Tcp = TcpStream;
    type Stream = MaybeTlsStream;
    type TlsAcceptor = TlsAcceptor;
    type Socket = WebSocket<MaybeTlsStream>;
    type Responder = HttpResponder<MaybeTlsStream>;

    async fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
        let (tcp, peer) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        Ok((tcp, peer))
    }

    fn plain(tcp: TcpStream) -> MaybeTlsStream {
        MaybeTlsStream::Plain(tcp)
    }

    async fn tls_accept(acceptor: &TlsAcceptor, tcp: TcpStream) -> io::Result<MaybeTlsStream> {
        let stream = acceptor.accept(tcp).await?;
        Ok(MaybeTlsStream::Tls(Box::new(stream.into())))
    }

    async fn accept_ws(
        stream: MaybeTlsStream,
        options: AcceptOptions,
    ) -> Result<Accepted<Self::Socket, Self::Responder>, Error> {
        Ok(match accept_with(stream, options).await? {
            Incoming::WebSocket(ws, request) => Accepted::WebSocket(*ws, request),
            Incoming::Http(request, responder) => Accepted::Http(request, *responder),
        })
    }
}

impl Dial for Tokio {
    type Transport = Transport;

    async fn connect_tcp(addr: &str) -> Result<Transport, Error> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(Transport::Stream(MaybeTlsStream::Plain(tcp)))
    }

    async fn connect_ws(url: &str, options: ConnectOptions) -> Result<Transport, Error> {
        let ws = connect_with(url, options).await?;
        Ok(Transport::WebSocket(Box::new(ws)))
    }
}
