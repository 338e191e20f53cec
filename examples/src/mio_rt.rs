//! The examples on `duplex-mio`: echo server (Autobahn target) as one hand-written `mio::Poll`
//! loop serving every connection, echo client (Autobahn driver) on the blocking layer, and the
//! STOMP interop client. They mirror the tokio versions in `src/bin/echo-server.rs` and
//! `src/bin/echo-client.rs`.

use std::collections::HashMap;
use duplex_mio::duplex_core::ws::{Event, Message};
use duplex_mio::ws::{connect, AcceptOptions, Socket, SocketEvent};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

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
