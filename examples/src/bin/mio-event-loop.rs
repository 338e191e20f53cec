//! Duplex with no async runtime: ONE hand-written `mio::Poll` loop on one thread serves WebSocket
//! echo on one port and a STOMP broker (STOMP over WebSocket at `/ws`) on another.
//!
//! `mio-event-loop [--echo 127.0.0.1:9001] [--stomp 127.0.0.1:9002]`
//!
//! # The pattern
//!
//! - **Tokens.** Each listener and each connection is registered in the one `Poll` under a
//!   [`Token`] we choose; a map from token to [`Socket`] finds the connection an event is for.
//!   Broker sessions are named by [`ConnId`]s derived from the same token.
//! - **Interest from the core's wants.** A [`Socket`] registers for readable until the peer's
//!   EOF, and for writable only while bytes are waiting to be written (the core's
//!   `pending_transmit`, or TLS records). [`Socket::flush`] writes what it can and re-registers
//!   when that changes, so the loop never spins on an always-writable socket.
//! - **Timers from `poll_timeout`.** The `Poll::poll` timeout is the earliest deadline of all
//!   machines: every socket's [`Socket::next_deadline`] (handshake, close, keepalive timers of
//!   the core's `Connection::poll_timeout`) and the broker's `poll_timeout` (STOMP connect
//!   timeouts and heart-beats). When it passes, call their `handle_timeout`; early calls are
//!   no-ops, so there is no timer wheel to keep.
//! - **Order** (the core's contract): after any input (readiness, timeout), drain events — here
//!   the sockets' events feed the broker, and the broker's outputs feed the sockets — then
//!   transmit (`flush`), then recompute the timeout.
//! - **No locks.** The [`Broker`] is a plain value owned by the loop: it is sans-IO, so it never
//!   blocks and needs no mutex. Application code that wants to publish runs in the loop too
//!   (`broker.publish(now, …)`).
//!
//! Try it: `websocat ws://127.0.0.1:9001` echoes; any STOMP-over-WebSocket client (stomp.js,
//! `stomp-interop --ws ws://127.0.0.1:9002/ws`) talks to the broker.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use duplex_examples::{fail, Args};
use duplex_mio::duplex_core::broker::{
    AnyLogin, Broker, BrokerConfig, ConnId, DefaultAuthorizer, Output,
};
use duplex_mio::duplex_core::stomp::ws::WS_SUBPROTOCOLS;
use duplex_mio::duplex_core::stomp::HeartBeat;
use duplex_mio::duplex_core::ws::handshake::ServerConfig;
use duplex_mio::duplex_core::ws::{CloseCode, Event, Message};
use duplex_mio::time::{now, poll_timeout, to_std};
use duplex_mio::ws::{AcceptOptions, Socket, SocketEvent};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

const USAGE: &str = "usage: mio-event-loop [--echo 127.0.0.1:9001] [--stomp 127.0.0.1:9002]";

const ECHO_LISTENER: Token = Token(0);
const STOMP_LISTENER: Token = Token(1);
/// Most bytes queued on a socket before the broker's next bytes for it wait.
const WRITE_ROOM: usize = 256 * 1024;

/// What a connection is for.
enum Service {
    Echo,
    /// A STOMP session; `open` once `Broker::open` was called (and until `handle_closed`).
    Stomp {
        open: bool,
    },
}

struct Conn {
    socket: Socket,
    service: Service,
}

fn conn_id(token: Token) -> ConnId {
    ConnId(token.0 as u64)
}

fn main() {
    let args = Args::parse(USAGE);
    if let Err(e) = run(&args) {
        fail(USAGE, &e.to_string());
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    let bind = |flag: &str, default: &str| -> std::io::Result<TcpListener> {
        let addr = args.get_or(flag, default);
        let addr = addr
            .parse()
            .unwrap_or_else(|e| fail(USAGE, &format!("--{flag} {addr:?}: {e}")));
        TcpListener::bind(addr)
    };
    let mut echo_listener = bind("echo", "127.0.0.1:9001")?;
    let mut stomp_listener = bind("stomp", "127.0.0.1:9002")?;
    eprintln!(
        "mio-event-loop: echo on ws://{}, STOMP on ws://{}/ws",
        echo_listener.local_addr()?,
        stomp_listener.local_addr()?
    );

    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut echo_listener, ECHO_LISTENER, Interest::READABLE)?;
    poll.registry()
        .register(&mut stomp_listener, STOMP_LISTENER, Interest::READABLE)?;

    let echo_options = AcceptOptions::default();
    let stomp_options = AcceptOptions {
        handshake: std::sync::Arc::new(ServerConfig {
            protocols: WS_SUBPROTOCOLS.iter().map(|s| s.to_string()).collect(),
            ..ServerConfig::default()
        }),
        ..AcceptOptions::default()
    };
    let mut config = BrokerConfig::default();
    // Offer heart-beats both ways (STOMP 1.2 §"Heart-beating"): the broker's timers then show
    // up in its `poll_timeout`, and so in our `Poll::poll` timeout.
    config.session.heart_beat = HeartBeat {
        can_send: Duration::from_secs(10),
        want_receive: Duration::from_secs(10),
    };
    let authorizer = DefaultAuthorizer::new(config.user_prefix.clone());
    let mut broker = Broker::new(
        now(),
        config,
        Box::new(AnyLogin::default()),
        Box::new(authorizer),
        Box::new(duplex_mio::os_rng()),
    );

    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut next_token = 2;
    let mut events = Events::with_capacity(1024);
    // Broker bytes waiting for their socket to make room.
    let mut held: BTreeSet<Token> = BTreeSet::new();

    loop {
        // 1. Sleep until readiness or the earliest deadline of every machine.
        let sockets = conns
            .values()
            .filter_map(|c| c.socket.next_deadline())
            .min();
        let deadline = duplex_mio::time::earliest(sockets, broker.poll_timeout().map(to_std));
        if let Err(e) = poll.poll(&mut events, poll_timeout(deadline)) {
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }

        // 2. Inputs: readiness.
        let mut touched: BTreeSet<Token> = BTreeSet::new();
        for event in events.iter() {
            match event.token() {
                ECHO_LISTENER | STOMP_LISTENER => {
                    let stomp = event.token() == STOMP_LISTENER;
                    let (listener, options) = if stomp {
                        (&stomp_listener, &stomp_options)
                    } else {
                        (&echo_listener, &echo_options)
                    };
                    while let Ok((tcp, _)) = listener.accept() {
                        let token = Token(next_token);
                        next_token += 1;
                        let Ok(mut socket) = Socket::accept(tcp, options) else {
                            continue;
                        };
                        if socket.register(poll.registry(), token).is_ok() {
                            let service = if stomp {
                                Service::Stomp { open: false }
                            } else {
                                Service::Echo
                            };
                            conns.insert(token, Conn { socket, service });
                            touched.insert(token);
                        }
                    }
                }
                token => {
                    if let Some(conn) = conns.get_mut(&token) {
                        let _ = conn.socket.handle_ready(poll.registry(), event);
                        touched.insert(token);
                    }
                }
            }
        }

        // 3. Inputs: timers that are due (early calls would be no-ops anyway).
        let at = Instant::now();
        if broker.poll_timeout().is_some_and(|t| to_std(t) <= at) {
            broker.handle_timeout(now());
        }
        for (token, conn) in conns.iter_mut() {
            if conn.socket.next_deadline().is_some_and(|t| t <= at) {
                conn.socket.handle_timeout();
                touched.insert(*token);
            }
        }

        // 4. Events: echo back, or hand STOMP bytes to the broker.
        for token in &touched {
            let Some(conn) = conns.get_mut(token) else {
                continue;
            };
            while let Ok(Some(event)) = conn.socket.poll_event() {
                match (&mut conn.service, event) {
                    (_, SocketEvent::HttpRequest(_)) => {
                        let _ = conn.socket.reject();
                    }
                    (Service::Echo, SocketEvent::Ws(Event::Message(m))) => {
                        let _ = conn.socket.send(&m);
                    }
                    (Service::Stomp { open }, SocketEvent::Open { request, .. }) => {
                        if request.is_some_and(|r| r.path.split('?').next() == Some("/ws")) {
                            *open = broker.open(now(), conn_id(*token)).is_ok();
                        } else {
                            let _ = conn
                                .socket
                                .close(CloseCode::POLICY_VIOLATION, "unknown endpoint");
                        }
                    }
                    (Service::Stomp { open: true }, SocketEvent::Ws(Event::Message(m))) => {
                        broker.handle_input(now(), conn_id(*token), m.payload());
                    }
                    (Service::Stomp { open }, SocketEvent::Ws(Event::Closed(_))) if *open => {
                        *open = false;
                        broker.handle_closed(now(), conn_id(*token));
                    }
                    _ => {}
                }
            }
        }

        // 5. The broker's outputs: bytes for sessions (fan-out reaches sockets that had no
        //    event of their own), and sessions it ended.
        drain_broker(&mut broker, &mut conns, &mut held, &mut touched);

        // 6. Transmit: write, re-register for the interest now needed, drop finished sockets.
        let mut finished = Vec::new();
        for (token, conn) in conns.iter_mut() {
            if touched.contains(token) || conn.socket.wants_write() {
                let _ = conn.socket.flush(poll.registry());
            }
            if conn.socket.is_finished() {
                finished.push(*token);
            }
        }
        // Sockets that made room take the broker's held-back bytes.
        let ready: Vec<Token> = held
            .iter()
            .copied()
            .filter(|t| conns.get(t).is_some_and(has_room))
            .collect();
        for token in ready {
            held.remove(&token);
            feed(&mut broker, &mut conns, token);
            if let Some(conn) = conns.get_mut(&token) {
                let _ = conn.socket.flush(poll.registry());
            }
        }
        for token in finished {
            if let Some(mut conn) = conns.remove(&token) {
                let _ = conn.socket.deregister(poll.registry());
                held.remove(&token);
                if let Service::Stomp { open: true } = conn.service {
                    broker.handle_closed(now(), conn_id(token));
                }
            }
        }
        drain_broker(&mut broker, &mut conns, &mut held, &mut touched);
    }
}

fn has_room(conn: &Conn) -> bool {
    conn.socket
        .connection()
        .is_some_and(|c| c.pending_transmit().len() < WRITE_ROOM)
}

/// Queue the broker's bytes for `token` on its socket, as one WebSocket message.
fn feed(broker: &mut Broker, conns: &mut HashMap<Token, Conn>, token: Token) {
    if let (Some(bytes), Some(conn)) = (broker.take_transmit(conn_id(token)), conns.get_mut(&token))
    {
        let _ = conn.socket.send(&Message::text_or_binary(bytes));
    }
}

fn drain_broker(
    broker: &mut Broker,
    conns: &mut HashMap<Token, Conn>,
    held: &mut BTreeSet<Token>,
    touched: &mut BTreeSet<Token>,
) {
    while let Some(output) = broker.poll_output() {
        match output {
            Output::Transmit(id) => {
                let token = Token(id.0 as usize);
                if conns.get(&token).is_some_and(has_room) {
                    feed(broker, conns, token);
                    touched.insert(token);
                } else {
                    // The broker counts what we have not taken against the slow-consumer limits.
                    held.insert(token);
                }
            }
            Output::Close(id) => {
                let token = Token(id.0 as usize);
                feed(broker, conns, token);
                if let Some(conn) = conns.get_mut(&token) {
                    let _ = conn.socket.close(CloseCode::NORMAL, "");
                    if let Service::Stomp { open } = &mut conn.service {
                        if *open {
                            *open = false;
                            broker.handle_closed(now(), id);
                        }
                    }
                    touched.insert(token);
                }
            }
            // No `/app` handlers registered here: register some with `broker.register_handler`.
            Output::AppMessage(_) => {}
        }
    }
}
