//! The examples on `duplex-mio`: echo server (Autobahn target) as one hand-written `mio::Poll`
//! loop serving every connection, echo client (Autobahn driver) on the blocking layer, and the
//! STOMP interop client. They mirror the tokio versions in `src/bin/echo-server.rs` and
//! `src/bin/echo-client.rs`.

use std::collections::HashMap;
use std::time::Duration;

use duplex_mio::duplex_core::stomp::{
    AckMode, ClientConfig, Message as StompMessage, Negotiated, ReceiptId, SubscriptionId,
    TransactionId, Version,
};
use duplex_mio::duplex_core::ws::{Event, Message};
use duplex_mio::ws::{connect, AcceptOptions, Socket, SocketEvent};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

use crate::stomp_scenario::{message_or_error, ScenarioClient, Target};
use crate::Args;

const LISTENER: Token = Token(0);

/// `echo-server --runtime mio`: serve WebSocket echo on `--listen` (wss with `--tls-cert/--tls-key`),
/// every connection in one `Poll` loop on this thread.
pub fn echo_server(args: &Args) -> Result<(), String> {
    let listen = args.get_or("listen", "127.0.0.1:9001");
    let tls = match (args.get("tls-cert"), args.get("tls-key")) {
        (Some(cert), Some(key)) => Some(
            duplex_mio::tls::server_config_from_pem_files(cert, key).map_err(|e| e.to_string())?,
        ),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    let options = AcceptOptions {
        tls,
        ..AcceptOptions::default()
    };
    let addr = listen
        .parse()
        .map_err(|e| format!("--listen {listen:?}: {e}"))?;
    let mut listener = TcpListener::bind(addr).map_err(|e| e.to_string())?;
    eprintln!(
        "echo-server (mio) listening on {}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .map_err(|e| e.to_string())?;
    let mut events = Events::with_capacity(1024);
    let mut sockets: HashMap<Token, Socket> = HashMap::new();
    let mut next_token = 1usize;
    loop {
        let deadline = sockets.values().filter_map(Socket::next_deadline).min();
        if let Err(e) = poll.poll(&mut events, duplex_mio::time::poll_timeout(deadline)) {
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.to_string());
        }
        // Readiness: accept new connections, hand each event to its socket.
        let mut touched = Vec::new();
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&listener, &poll, &options, &mut sockets, &mut next_token);
                continue;
            }
            if let Some(socket) = sockets.get_mut(&event.token()) {
                if let Err(e) = socket.handle_ready(poll.registry(), event) {
                    eprintln!("connection: {e}");
                }
                touched.push(event.token());
            }
        }
        // Timers: every socket whose deadline passed.
        let now = std::time::Instant::now();
        for (token, socket) in sockets.iter_mut() {
            if socket.next_deadline().is_some_and(|at| at <= now) {
                socket.handle_timeout();
                touched.push(*token);
            }
        }
        // Events, then transmit (and interest), for every socket that had something happen.
        touched.sort_unstable();
        touched.dedup();
        for token in touched {
            let Some(socket) = sockets.get_mut(&token) else {
                continue;
            };
            if let Err(e) = echo(socket) {
                eprintln!("connection: {e}");
            }
            if let Err(e) = socket.flush(poll.registry()) {
                eprintln!("connection: {e}");
            }
            if socket.is_finished() {
                let _ = socket.deregister(poll.registry());
                sockets.remove(&token);
            }
        }
    }
}

fn accept_all(
    listener: &TcpListener,
    poll: &Poll,
    options: &AcceptOptions,
    sockets: &mut HashMap<Token, Socket>,
    next_token: &mut usize,
) {
    loop {
        let tcp = match listener.accept() {
            Ok((tcp, _)) => tcp,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) => {
                eprintln!("accept: {e}");
                return;
            }
        };
        let token = Token(*next_token);
        *next_token += 1;
        let mut socket = match Socket::accept(tcp, options) {
            Ok(socket) => socket,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        if let Err(e) = socket.register(poll.registry(), token) {
            eprintln!("register: {e}");
            continue;
        }
        sockets.insert(token, socket);
    }
}

/// Drain one socket's events, echoing messages. Queued messages go out with the `flush` that
/// follows: one write for every message that arrived in one read.
fn echo(socket: &mut Socket) -> Result<(), duplex_mio::Error> {
    while let Some(event) = socket.poll_event()? {
        match event {
            SocketEvent::Ws(Event::Message(message)) => {
                // After a close, sending is refused; that is fine here.
                let _ = socket.send(&message);
            }
            SocketEvent::HttpRequest(_) => socket.reject()?,
            _ => {}
        }
    }
    Ok(())
}

/// `echo-client --runtime mio`: drive an Autobahn fuzzing server at `url` as `agent`.
pub fn echo_client(url: &str, agent: &str) -> Result<(), String> {
    drive(url, agent).map_err(|e| e.to_string())
}

fn drive(base: &str, agent: &str) -> Result<(), duplex_mio::Error> {
    let mut ws = connect(&format!("{base}/getCaseCount"))?;
    let count: u32 = match ws.recv()? {
        Some(Message::Text(t)) => t.trim().parse().unwrap_or(0),
        other => {
            return Err(duplex_mio::Error::Io(std::io::Error::other(format!(
                "unexpected case count answer {other:?}"
            ))))
        }
    };
    while ws.next_event()?.is_some() {}
    eprintln!("{count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&format!("{base}/runCase?case={case}&agent={agent}")) {
            eprintln!("case {case}: {e}");
        }
    }
    let mut ws = connect(&format!("{base}/updateReports?agent={agent}"))?;
    while ws.next_event()?.is_some() {}
    eprintln!("reports updated");
    Ok(())
}

fn run_case(url: &str) -> Result<(), duplex_mio::Error> {
    let mut ws = connect(url)?;
    while let Some(event) = ws.next_event()? {
        if let Event::Message(message) = event {
            let _ = ws.feed(&message);
        }
    }
    Ok(())
}

/// [`ScenarioClient`] on `duplex-mio`: the blocking `StompClient` as it is.
pub struct MioClient {
    client: duplex_mio::stomp::StompClient,
}

impl MioClient {
    /// Connect to `target` and complete CONNECT/CONNECTED.
    pub fn connect(
        target: &Target,
        config: ClientConfig,
    ) -> Result<Box<dyn ScenarioClient>, String> {
        use duplex_mio::stomp::StompClient;
        let client = match target {
            Target::Tcp(addr) => StompClient::connect_tcp(addr, config),
            Target::Ws(url) => StompClient::connect_ws(url, config),
        }
        .map_err(|e| format!("connect: {e}"))?;
        Ok(Box::new(MioClient { client }))
    }
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

impl ScenarioClient for MioClient {
    fn version(&self) -> Version {
        self.client.session().version()
    }
    fn negotiated_heart_beat(&self) -> Negotiated {
        self.client.session().negotiated_heart_beat()
    }
    fn subscribe(
        &mut self,
        destination: &str,
        ack: AckMode,
        headers: &[(&str, &str)],
    ) -> Result<SubscriptionId, String> {
        self.client.subscribe(destination, ack, headers).map_err(e)
    }
    fn unsubscribe(&mut self, id: &SubscriptionId) -> Result<(), String> {
        self.client.unsubscribe(id).map_err(e)
    }
    fn send(
        &mut self,
        destination: &str,
        body: &str,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> Result<Option<ReceiptId>, String> {
        let body = bytes::Bytes::copy_from_slice(body.as_bytes());
        self.client
            .send(destination, body, headers, receipt)
            .map_err(e)
    }
    fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), String> {
        self.client.wait_receipt(receipt).map_err(e)
    }
    fn next_message(&mut self, within: Duration) -> Result<Option<StompMessage>, String> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let event = match self.client.next_event_timeout(left) {
                Err(err) if err.is_timeout() => return Ok(None),
                other => other.map_err(e),
            };
            if let Some(result) = message_or_error(event) {
                return result;
            }
        }
    }
    fn ack(&mut self, message: &StompMessage, tx: Option<&TransactionId>) -> Result<(), String> {
        self.client.ack(message, tx).map_err(e)
    }
    fn nack(&mut self, message: &StompMessage, tx: Option<&TransactionId>) -> Result<(), String> {
        self.client.nack(message, tx).map_err(e)
    }
    fn begin(&mut self) -> Result<TransactionId, String> {
        self.client.begin().map_err(e)
    }
    fn commit(&mut self, tx: &TransactionId) -> Result<(), String> {
        self.client.commit(tx).map_err(e)
    }
    fn abort(&mut self, tx: &TransactionId) -> Result<(), String> {
        self.client.abort(tx).map_err(e)
    }
    fn disconnect(self: Box<Self>) -> Result<(), String> {
        self.client.disconnect().map_err(e)
    }
}
