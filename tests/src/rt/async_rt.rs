//! The harness on the async runtimes (`duplex-tokio`, `duplex-smol`), written once over
//! `duplex-rt-common`'s [`Host`] and [`Dial`]: the echo server, the broker server, and the
//! clients that carry out the plans (see [`super::plan`]). A runtime implements [`AsyncRuntime`] — how to block on a
//! future, bind a listener and connect a WebSocket — and gets [`Runtime`].
//!
//! Servers run on a thread of their own inside [`AsyncRuntime::block_on`], each connection on a
//! task of the runtime ([`spawn`](duplex_rt_common::runtime::Runtime::spawn)), cancelled when the server stops; clients run inside
//! `block_on` in the call, bounded by [`CLIENT_TIMEOUT`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use duplex_core::stomp::{AckMode, ClientConfig, ClientEvent, Message as StompMessage, ReceiptId};
use duplex_core::ws::{CloseCode, CloseInfo, Connection, Event, Message};
use duplex_rt_common::broker::BrokerServer;
use duplex_rt_common::runtime::{Accepted, Dial, Host, HttpAnswer, MessageSocket};
use duplex_rt_common::stomp::StompClient;
use duplex_rt_common::{AcceptOptions, ConnectOptions};
use smol::future::or;

use super::plan::{run_stomp_plan, run_ws_plan, PlanSocket, PlanStomp};
use super::{
    parse_server_close_request, ClientOutcome, ClientPlan, Runtime, ServerHandle, StompOutcome,
    StompPlan, TestCert, CLIENT_TIMEOUT,
};

/// What differs between the async runtimes, as the harness needs it.
pub trait AsyncRuntime: Host<TlsAcceptor: From<Arc<rustls::ServerConfig>>> + Dial {
    /// A short name for messages.
    const NAME: &'static str;

    /// Run `f` to completion on the calling thread, on a fresh executor of the runtime.
    fn block_on<T>(f: impl Future<Output = T>) -> T;

    /// A listener on `127.0.0.1:0`, and where it listens.
    fn bind() -> impl Future<Output = (Self::Listener, SocketAddr)>;

    /// Open a WebSocket client connection (the runtime's `ws::connect_with`).
    fn connect(
        url: &str,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<Self::Socket, duplex_rt_common::Error>>;
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

fn client_options(tls: Option<&TestCert>) -> ConnectOptions {
    ConnectOptions {
        tls: tls.map(|c| duplex_rt_common::tls::client_config_with_roots(c.roots())),
        ..ConnectOptions::default()
    }
}

fn server_acceptor<R: AsyncRuntime>(tls: Option<&TestCert>) -> Option<R::TlsAcceptor> {
    tls.map(|c| {
        let config = duplex_rt_common::tls::server_config_from_pem(
            c.cert_pem.as_bytes(),
            c.key_pem.as_bytes(),
        )
        .expect("server TLS config");
        R::TlsAcceptor::from(config)
    })
}

/// Run `f` with [`AsyncRuntime::block_on`], bounded by [`CLIENT_TIMEOUT`].
fn run_client<R: AsyncRuntime, T>(f: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    R::block_on(or(f, async {
        R::sleep(CLIENT_TIMEOUT).await;
        Err(format!("no outcome within {CLIENT_TIMEOUT:?}"))
    }))
}

/// Serve `serve(stream)` for every connection accepted on 127.0.0.1:0 (after TLS when given),
/// on a thread of its own, until the handle is dropped.
fn spawn_server<R, F, Fut>(tls: Option<&TestCert>, serve: F) -> ServerHandle
where
    R: AsyncRuntime,
    F: Fn(R::Stream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let acceptor = server_acceptor::<R>(tls);
    let serve = Arc::new(serve);
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = smol::channel::bounded::<()>(1);
    let thread = std::thread::spawn(move || {
        R::block_on(async move {
            let (listener, addr) = R::bind().await;
            addr_tx.send(addr).unwrap();
            let mut tasks = Vec::new();
            loop {
                let stop = async {
                    let _ = stop_rx.recv().await;
                    None
                };
                let Some(Ok((tcp, _))) = or(stop, async { Some(R::accept(&listener).await) }).await
                else {
                    break;
                };
                tasks.retain(|t| !R::is_finished(t));
                let (acceptor, serve) = (acceptor.clone(), serve.clone());
                tasks.push(R::spawn(async move {
                    let stream = match acceptor {
                        Some(acceptor) => match R::tls_accept(&acceptor, tcp).await {
                            Ok(s) => s,
                            Err(_) => return,
                        },
                        None => R::plain(tcp),
                    };
                    serve(stream).await
                }));
            }
            for task in tasks {
                R::abort(task).await;
            }
        });
    });
    let addr = addr_rx
        .recv()
        .expect("the server thread reports its address");
    ServerHandle::new(addr, move || {
        let _ = stop_tx.try_send(());
        let _ = thread.join();
    })
}

async fn echo<R: AsyncRuntime>(stream: R::Stream) {
    let mut ws = match R::accept_ws(stream, AcceptOptions::default()).await {
        Ok(Accepted::WebSocket(ws, _)) => ws,
        Ok(Accepted::Http(_, responder)) => return drop(responder.reject().await),
        Err(_) => return,
    };
    while let Ok(Some(event)) = MessageSocket::next_event(&mut ws).await {
        if let Event::Message(m) = event {
            if let Message::Text(t) = &m {
                if let Some((code, reason)) = parse_server_close_request(t) {
                    let _ = MessageSocket::close(&mut ws, code, &reason).await;
                    return;
                }
            }
            let _ = ws.feed(&m);
        }
    }
}

/// The async runtimes' WebSocket, as a plan drives it.
impl<W: MessageSocket> PlanSocket for W {
    async fn send(&mut self, message: &Message) -> Result<(), String> {
        MessageSocket::send(self, message).await.map_err(e)
    }

    fn connection_mut(&mut self) -> &mut Connection {
        MessageSocket::connection_mut(self)
    }

    async fn flush(&mut self) -> Result<(), String> {
        MessageSocket::flush(self).await.map_err(e)
    }

    async fn next_event(&mut self) -> Result<Option<Event>, String> {
        MessageSocket::next_event(self).await.map_err(e)
    }

    async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), String> {
        MessageSocket::close(self, code, reason)
            .await
            .map(drop)
            .map_err(e)
    }

    fn close_info(&self) -> Option<&CloseInfo> {
        MessageSocket::close_info(self)
    }
}

/// The shared STOMP client, as a plan drives it.
impl<R: Dial> PlanStomp for StompClient<R> {
    fn version(&self) -> String {
        self.session().version().as_str().to_owned()
    }

    async fn subscribe(&mut self, destination: &str, ack: AckMode) -> Result<(), String> {
        StompClient::subscribe(self, destination, ack, &[])
            .await
            .map(drop)
            .map_err(e)
    }

    async fn send(&mut self, destination: &str, body: Bytes) -> Result<ReceiptId, String> {
        StompClient::send(self, destination, body, &[], true)
            .await
            .map_err(e)?
            .ok_or_else(|| "SEND with a receipt gave no receipt id".into())
    }

    async fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), String> {
        StompClient::wait_receipt(self, receipt).await.map_err(e)
    }

    async fn next_event(&mut self) -> Result<Option<ClientEvent>, String> {
        StompClient::next_event(self).await.map_err(e)
    }

    async fn settle(&mut self, message: &StompMessage, nack: bool) -> Result<(), String> {
        if nack {
            self.nack(message, None).await.map_err(e)
        } else {
            self.ack(message, None).await.map_err(e)
        }
    }

    async fn disconnect(self) -> bool {
        StompClient::disconnect(self).await.is_ok()
    }
}

async fn ws_client<R: AsyncRuntime>(
    url: &str,
    tls: Option<&TestCert>,
    plan: &ClientPlan,
) -> Result<ClientOutcome, String> {
    let ws = R::connect(url, client_options(tls)).await.map_err(e)?;
    run_ws_plan(ws, plan).await
}

async fn stomp_client<R: AsyncRuntime>(
    url: &str,
    tls: Option<&TestCert>,
    plan: &StompPlan,
) -> Result<StompOutcome, String> {
    let mut config = ClientConfig::new("localhost");
    config.login = Some(plan.login.clone());
    let c = StompClient::<R>::connect_ws_with(url, client_options(tls), config)
        .await
        .map_err(e)?;
    run_stomp_plan(c, plan).await
}

impl<R: AsyncRuntime> Runtime for R {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn spawn_echo_server(&self, tls: Option<&TestCert>) -> ServerHandle {
        spawn_server::<R, _, _>(tls, echo::<R>)
    }

    fn run_ws_client(
        &self,
        url: &str,
        tls: Option<&TestCert>,
        plan: &ClientPlan,
    ) -> Result<ClientOutcome, String> {
        run_client::<R, _>(ws_client::<R>(url, tls, plan))
    }

    fn spawn_broker_server(&self, tls: Option<&TestCert>) -> Option<ServerHandle> {
        let mut builder = BrokerServer::<R>::builder().endpoint("/ws");
        if let Some(acceptor) = server_acceptor::<R>(tls) {
            builder = builder.tls(acceptor);
        }
        let server = builder.build().expect("broker server");
        let handle = server.handle();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            R::block_on(async move {
                let (listener, addr) = R::bind().await;
                addr_tx.send(addr).unwrap();
                server.serve(listener).await.expect("serve");
            });
        });
        let addr = addr_rx
            .recv()
            .expect("the broker thread reports its address");
        Some(ServerHandle::new(addr, move || {
            // Graceful: sessions get 1001, `serve` returns, the thread ends.
            handle.shutdown();
            let _ = thread.join();
        }))
    }

    fn run_stomp_client(
        &self,
        url: &str,
        tls: Option<&TestCert>,
        plan: &StompPlan,
    ) -> Result<StompOutcome, String> {
        run_client::<R, _>(stomp_client::<R>(url, tls, plan))
    }
}
