//! The harness on `duplex-tokio`: servers on a current-thread runtime on their own thread, clients
//! on a current-thread runtime inside the call.

use std::future::Future;

use duplex_core::stomp::ClientConfig;
use duplex_core::ws::{Event, Message};
use duplex_tokio::stomp::StompClient;
use duplex_tokio::ws::{accept_with, connect_with, AcceptOptions, ConnectOptions, Incoming};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{
    parse_server_close_request, server_close_request, ClientOutcome, ClientPlan, Reply, Runtime,
    ServerHandle, Step, StompOutcome, StompPlan, TestCert, CLIENT_TIMEOUT,
};

/// `duplex-tokio`.
pub struct Tokio;

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Run `f` on a fresh current-thread runtime, bounded by [`CLIENT_TIMEOUT`].
fn run_client<T>(f: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    current_thread().block_on(async {
        match tokio::time::timeout(CLIENT_TIMEOUT, f).await {
            Ok(result) => result,
            Err(_) => Err(format!("no outcome within {CLIENT_TIMEOUT:?}")),
        }
    })
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

fn client_options(tls: Option<&TestCert>) -> ConnectOptions {
    ConnectOptions {
        tls: tls.map(|c| duplex_tokio::tls::client_config_with_roots(c.roots())),
        ..ConnectOptions::default()
    }
}

/// Serve `serve(stream)` for every connection accepted on 127.0.0.1:0 (after TLS when given),
/// on a thread of its own, until the handle is dropped.
fn spawn_server<F, Fut>(tls: Option<&TestCert>, serve: F) -> ServerHandle
where
    F: Fn(duplex_tokio::MaybeTlsStream) -> Fut + Send + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let acceptor = tls.map(|c| {
        let config =
            duplex_tokio::tls::server_config_from_pem(c.cert_pem.as_bytes(), c.key_pem.as_bytes())
                .expect("server TLS config");
        TlsAcceptor::from(config)
    });
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = current_thread();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let accept_loop = async {
                while let Ok((tcp, _)) = listener.accept().await {
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let serve = serve.clone();
                    tokio::task::spawn_local(async move {
                        let stream = match acceptor {
                            Some(acceptor) => match acceptor.accept(tcp).await {
                                Ok(s) => duplex_tokio::MaybeTlsStream::Tls(Box::new(s.into())),
                                Err(_) => return,
                            },
                            None => duplex_tokio::MaybeTlsStream::Plain(tcp),
                        };
                        serve(stream).await
                    });
                }
            };
            tokio::select! {
                _ = stop_rx => {}
                _ = accept_loop => {}
            }
        });
        // Dropping the LocalSet and the runtime cancels the connection tasks.
    });
    let addr = addr_rx
        .recv()
        .expect("the server thread reports its address");
    ServerHandle::new(addr, move || {
        let _ = stop_tx.send(());
        let _ = thread.join();
    })
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let mut ws = match accept_with(stream, AcceptOptions::default()).await {
        Ok(Incoming::WebSocket(ws, _)) => ws,
        Ok(Incoming::Http(_, responder)) => return drop(responder.reject().await),
        Err(_) => return,
    };
    while let Ok(Some(event)) = ws.next_event().await {
        if let Event::Message(m) = event {
            if let Message::Text(t) = &m {
                if let Some((code, reason)) = parse_server_close_request(t) {
                    let _ = ws.close(code, &reason).await;
                    return;
                }
            }
            let _ = ws.feed(&m);
        }
    }
}

/// The next whole message; `Err` if the connection ends first.
async fn next_message<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut duplex_tokio::ws::WebSocket<S>,
) -> Result<Message, String> {
    loop {
        match ws.next_event().await.map_err(e)? {
            Some(Event::Message(m)) => return Ok(m),
            Some(Event::Closed(info)) => return Err(format!("closed before the echo: {info:?}")),
            Some(_) => continue,
            None => return Err("closed before the echo".into()),
        }
    }
}

async fn ws_client(
    url: &str,
    tls: Option<&TestCert>,
    plan: &ClientPlan,
) -> Result<ClientOutcome, String> {
    let mut ws = connect_with(url, client_options(tls)).await.map_err(e)?;
    let mut replies = Vec::new();
    for step in &plan.steps {
        match step {
            Step::Send(m) => {
                ws.send(m).await.map_err(e)?;
                replies.push(Reply::Message(next_message(&mut ws).await?));
            }
            Step::SendFragmented { kind, fragments } => {
                for (i, fragment) in fragments.iter().enumerate() {
                    let fin = i + 1 == fragments.len();
                    ws.connection_mut()
                        .send_fragment(*kind, fragment, fin)
                        .map_err(e)?;
                }
                ws.flush().await.map_err(e)?;
                replies.push(Reply::Message(next_message(&mut ws).await?));
            }
            Step::Ping(payload) => {
                ws.ping(payload).await.map_err(e)?;
                loop {
                    match ws.next_event().await.map_err(e)? {
                        Some(Event::Pong(p)) => {
                            replies.push(Reply::Pong(p));
                            break;
                        }
                        Some(Event::Closed(info)) => {
                            return Err(format!("closed before the pong: {info:?}"))
                        }
                        Some(_) => continue,
                        None => return Err("closed before the pong".into()),
                    }
                }
            }
            Step::AskServerToClose(code, reason) => {
                ws.send_text(&server_close_request(*code, reason))
                    .await
                    .map_err(e)?;
            }
        }
    }
    if let Some((code, reason)) = &plan.close {
        ws.close(*code, reason).await.map_err(e)?;
    }
    while ws.next_event().await.map_err(e)?.is_some() {}
    ws.close_info()
        .cloned()
        .map(|close| ClientOutcome { replies, close })
        .ok_or_else(|| "the connection ended without close information".into())
}

async fn stomp_client(
    url: &str,
    tls: Option<&TestCert>,
    plan: &StompPlan,
) -> Result<StompOutcome, String> {
    let mut config = ClientConfig::new("localhost");
    config.login = Some(plan.login.clone());
    let mut c = StompClient::connect_ws_with(url, client_options(tls), config)
        .await
        .map_err(e)?;
    let version = c.session().version().as_str().to_owned();
    c.subscribe(&plan.destination, plan.ack, &[])
        .await
        .map_err(e)?;
    for body in &plan.send {
        let receipt = c
            .send(&plan.destination, body.clone(), &[], true)
            .await
            .map_err(e)?
            .ok_or("SEND with a receipt gave no receipt id")?;
        c.wait_receipt(&receipt).await.map_err(e)?;
    }
    let client_acks = plan.ack != duplex_core::stomp::AckMode::Auto;
    let mut received = Vec::new();
    let mut nacked = Vec::new();
    let mut settled = 0;
    while settled < plan.send.len() {
        let message = match c.next_event().await.map_err(e)? {
            Some(duplex_core::stomp::ClientEvent::Message(m)) => m,
            Some(duplex_core::stomp::ClientEvent::Error(frame)) => {
                return Err(format!("server ERROR: {frame:?}"))
            }
            Some(_) => continue,
            None => return Err(format!("session closed after {received:?}")),
        };
        let body = message.body().clone();
        received.push(body.clone());
        if client_acks && plan.nack_once.contains(&body) && !nacked.contains(&body) {
            nacked.push(body);
            c.nack(&message, None).await.map_err(e)?;
            continue;
        }
        if client_acks {
            c.ack(&message, None).await.map_err(e)?;
        }
        settled += 1;
    }
    let disconnected = c.disconnect().await.is_ok();
    Ok(StompOutcome {
        version,
        received,
        disconnected,
    })
}

impl Runtime for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn spawn_echo_server(&self, tls: Option<&TestCert>) -> ServerHandle {
        spawn_server(tls, echo)
    }

    fn run_ws_client(
        &self,
        url: &str,
        tls: Option<&TestCert>,
        plan: &ClientPlan,
    ) -> Result<ClientOutcome, String> {
        run_client(ws_client(url, tls, plan))
    }

    fn spawn_broker_server(&self, tls: Option<&TestCert>) -> Option<ServerHandle> {
        let mut builder = duplex_tokio::broker::BrokerServer::builder().endpoint("/ws");
        if let Some(c) = tls {
            let config = duplex_tokio::tls::server_config_from_pem(
                c.cert_pem.as_bytes(),
                c.key_pem.as_bytes(),
            )
            .expect("server TLS config");
            builder = builder.tls(TlsAcceptor::from(config));
        }
        let server = builder.build().expect("broker server");
        let handle = server.handle();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            current_thread().block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
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
        run_client(stomp_client(url, tls, plan))
    }
}
