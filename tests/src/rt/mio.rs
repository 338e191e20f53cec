//! The harness on `duplex-mio`: servers are one `mio::Poll` loop on their own thread (stopped
//! through a `mio::Waker`), clients use the blocking layer (a private `Poll`) inside the call,
//! carrying out the plans of [`super::plan`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use duplex_core::stomp::{AckMode, ClientConfig, ClientEvent, Message as StompMessage, ReceiptId};
use duplex_core::ws::{CloseCode, CloseInfo, Connection, Event, Message};
use duplex_mio::stomp::StompClient;
use duplex_mio::ws::{connect_with, AcceptOptions, ConnectOptions, Socket, SocketEvent, WebSocket};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};

use super::plan::{run_stomp_plan, run_ws_plan, PlanSocket, PlanStomp};
use super::{
    parse_server_close_request, ClientOutcome, ClientPlan, Runtime, ServerHandle, StompOutcome,
    StompPlan, TestCert, CLIENT_TIMEOUT,
};

/// `duplex-mio`.
pub struct Mio;

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

fn client_options(tls: Option<&TestCert>) -> ConnectOptions {
    ConnectOptions {
        tls: tls.map(|c| duplex_mio::tls::client_config_with_roots(c.roots())),
        ..ConnectOptions::default()
    }
}

fn server_tls(tls: Option<&TestCert>) -> Option<Arc<rustls::ServerConfig>> {
    tls.map(|c| {
        duplex_mio::tls::server_config_from_pem(c.cert_pem.as_bytes(), c.key_pem.as_bytes())
            .expect("server TLS config")
    })
}

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// The echo server: one `Poll` loop for the listener and every connection.
fn serve_echo(
    mut listener: TcpListener,
    mut poll: Poll,
    options: AcceptOptions,
    stop: Arc<AtomicBool>,
) {
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .expect("register listener");
    let mut events = Events::with_capacity(256);
    let mut sockets: HashMap<Token, Socket> = HashMap::new();
    let mut next = 2;
    while !stop.load(Ordering::SeqCst) {
        let deadline = sockets.values().filter_map(Socket::next_deadline).min();
        if let Err(err) = poll.poll(&mut events, duplex_mio::time::poll_timeout(deadline)) {
            assert_eq!(err.kind(), std::io::ErrorKind::Interrupted, "poll: {err}");
            continue;
        }
        let mut touched = Vec::new();
        for event in events.iter() {
            match event.token() {
                WAKER => {}
                LISTENER => {
                    while let Ok((tcp, _)) = listener.accept() {
                        let token = Token(next);
                        next += 1;
                        let mut socket = Socket::accept(tcp, &options).expect("socket");
                        socket.register(poll.registry(), token).expect("register");
                        sockets.insert(token, socket);
                        touched.push(token);
                    }
                }
                token => {
                    if let Some(socket) = sockets.get_mut(&token) {
                        let _ = socket.handle_ready(poll.registry(), event);
                        touched.push(token);
                    }
                }
            }
        }
        let now = Instant::now();
        for (token, socket) in sockets.iter_mut() {
            if socket.next_deadline().is_some_and(|at| at <= now) {
                socket.handle_timeout();
                touched.push(*token);
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for token in touched {
            let Some(socket) = sockets.get_mut(&token) else {
                continue;
            };
            let _ = echo(socket);
            let _ = socket.flush(poll.registry());
            if socket.is_finished() {
                let _ = socket.deregister(poll.registry());
                sockets.remove(&token);
            }
        }
    }
}

fn echo(socket: &mut Socket) -> Result<(), duplex_mio::Error> {
    while let Some(event) = socket.poll_event()? {
        match event {
            SocketEvent::HttpRequest(_) => socket.reject()?,
            SocketEvent::Ws(Event::Message(m)) => {
                if let Message::Text(t) = &m {
                    if let Some((code, reason)) = parse_server_close_request(t) {
                        socket.close(code, &reason)?;
                        continue;
                    }
                }
                let _ = socket.send(&m);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Run `serve(listener, poll, stop)` on a thread of its own until the handle is dropped.
fn spawn_loop(
    serve: impl FnOnce(TcpListener, Poll, Arc<AtomicBool>) + Send + 'static,
) -> ServerHandle {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let addr = listener.local_addr().unwrap();
    let poll = Poll::new().expect("poll");
    let waker = Waker::new(poll.registry(), WAKER).expect("waker");
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = stop.clone();
        std::thread::spawn(move || serve(listener, poll, stop))
    };
    ServerHandle::new(addr, move || {
        stop.store(true, Ordering::SeqCst);
        let _ = waker.wake();
        let _ = thread.join();
    })
}

/// The blocking WebSocket client with the run's deadline, as a plan drives it.
struct MioWs {
    ws: WebSocket,
    deadline: Instant,
}

impl PlanSocket for MioWs {
    async fn send(&mut self, message: &Message) -> Result<(), String> {
        self.ws.send(message).map_err(e)
    }

    fn connection_mut(&mut self) -> &mut Connection {
        self.ws.connection_mut()
    }

    async fn flush(&mut self) -> Result<(), String> {
        self.ws.flush().map_err(e)
    }

    async fn next_event(&mut self) -> Result<Option<Event>, String> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        self.ws.next_event_timeout(left).map_err(timeout_or)
    }

    async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), String> {
        self.ws
            .connection_mut()
            .close(duplex_mio::time::now(), code, reason)
            .map_err(e)
    }

    fn close_info(&self) -> Option<&CloseInfo> {
        self.ws.close_info()
    }
}

/// The blocking STOMP client with the run's deadline, as a plan drives it.
struct MioStomp {
    c: StompClient,
    deadline: Instant,
}

impl PlanStomp for MioStomp {
    fn version(&self) -> String {
        self.c.session().version().as_str().to_owned()
    }

    async fn subscribe(&mut self, destination: &str, ack: AckMode) -> Result<(), String> {
        self.c.subscribe(destination, ack, &[]).map(drop).map_err(e)
    }

    async fn send(&mut self, destination: &str, body: Bytes) -> Result<ReceiptId, String> {
        self.c
            .send(destination, body, &[], true)
            .map_err(e)?
            .ok_or_else(|| "SEND with a receipt gave no receipt id".into())
    }

    async fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), String> {
        self.c.wait_receipt(receipt).map_err(e)
    }

    async fn next_event(&mut self) -> Result<Option<ClientEvent>, String> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        self.c.next_event_timeout(left).map_err(e)
    }

    async fn settle(&mut self, message: &StompMessage, nack: bool) -> Result<(), String> {
        if nack {
            self.c.nack(message, None).map_err(e)
        } else {
            self.c.ack(message, None).map_err(e)
        }
    }

    async fn disconnect(self) -> bool {
        self.c.disconnect().is_ok()
    }
}

/// A blocking call's error: a timeout says which bound it hit.
fn timeout_or(err: duplex_mio::Error) -> String {
    if err.is_timeout() {
        format!("no outcome within {CLIENT_TIMEOUT:?}")
    } else {
        e(err)
    }
}

fn ws_client(
    url: &str,
    tls: Option<&TestCert>,
    plan: &ClientPlan,
) -> Result<ClientOutcome, String> {
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let ws = connect_with(url, client_options(tls)).map_err(e)?;
    // Every call blocks: the plan's future never waits.
    smol::block_on(run_ws_plan(MioWs { ws, deadline }, plan))
}

fn stomp_client(
    url: &str,
    tls: Option<&TestCert>,
    plan: &StompPlan,
) -> Result<StompOutcome, String> {
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let mut config = ClientConfig::new("localhost");
    config.login = Some(plan.login.clone());
    let c = StompClient::connect_ws_with(url, client_options(tls), config).map_err(e)?;
    smol::block_on(run_stomp_plan(MioStomp { c, deadline }, plan))
}

impl Runtime for Mio {
    fn name(&self) -> &'static str {
        "mio"
    }

    fn spawn_echo_server(&self, tls: Option<&TestCert>) -> ServerHandle {
        let options = AcceptOptions {
            tls: server_tls(tls),
            ..AcceptOptions::default()
        };
        spawn_loop(move |listener, poll, stop| serve_echo(listener, poll, options, stop))
    }

    fn run_ws_client(
        &self,
        url: &str,
        tls: Option<&TestCert>,
        plan: &ClientPlan,
    ) -> Result<ClientOutcome, String> {
        ws_client(url, tls, plan)
    }

    fn spawn_broker_server(&self, tls: Option<&TestCert>) -> Option<ServerHandle> {
        let mut builder = duplex_mio::broker::BrokerServer::builder().endpoint("/ws");
        if let Some(config) = server_tls(tls) {
            builder = builder.tls(config);
        }
        let server = builder.build().expect("broker server");
        let handle = server.handle();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let thread = server.spawn(listener).expect("broker thread");
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
        stomp_client(url, tls, plan)
    }
}
