//! [`Smol`]: what plugs smol into the runtime-neutral glue of `duplex-rt-common` — `async-io`
//! timers, `smol::spawn`, `async-net`'s listener, `futures-rustls`, and this crate's WebSocket.
//! The broker hosting and the STOMP client are written once there; this file is all that is
//! smol's.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use async_net::{TcpListener, TcpStream};
use duplex_core::Instant;
use duplex_rt_common::runtime::{Accepted, Clock as ClockApi, Dial, Host, HttpAnswer, Runtime};
use duplex_rt_common::{AcceptOptions, ConnectOptions};
use futures_rustls::TlsAcceptor;
use smol::Task;

use crate::clock::{os_rng, Clock};
use crate::stomp::Transport;
use crate::ws::{accept_with, connect_with, HttpResponder, Incoming, WebSocket};
use crate::{Error, MaybeTlsStream};

/// smol, as `duplex-rt-common` sees it: the type parameter behind this crate's
/// [`broker`](crate::broker) and [`stomp`](crate::stomp) types. Connection tasks and async
/// handlers run on smol's global executor (`smol::spawn`), so any executor may drive the rest.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol;

/// This crate's clock (with `async-io` timers), as `duplex-rt-common` sees it.
#[derive(Clone, Copy, Debug)]
pub struct SmolClock(pub(crate) Clock);

impl ClockApi for SmolClock {
    fn start() -> Self {
        SmolClock(Clock::new())
    }

    fn now(&self) -> Instant {
        self.0.now()
    }

    async fn sleep_until(self, at: Option<Instant>) {
        self.0.timer(at).await;
    }
}

impl Runtime for Smol {
    type Clock = SmolClock;
    type Task = Task<()>;

    fn spawn<F>(future: F) -> Task<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        smol::spawn(future)
    }

    fn detach(task: Task<()>) {
        task.detach();
    }

    fn is_finished(task: &Task<()>) -> bool {
        task.is_finished()
    }

    async fn join(task: &mut Task<()>) {
        task.await;
    }

    async fn abort(task: Task<()>) {
        task.cancel().await;
    }

    async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
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

impl Host for Smol {
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

impl Dial for Smol {
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
