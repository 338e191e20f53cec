//! The event-loop API: a server socket and a client socket in ONE `Poll`, driven by hand
//! (tokens, interest from the core's wants, deadlines), plain and TLS; and the hosted broker.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use duplex_mio::duplex_core::stomp::{AckMode, ClientConfig, ClientEvent};
use duplex_mio::duplex_core::ws::{CloseCode, Event, Message};
use duplex_mio::ws::{AcceptOptions, ConnectOptions, Socket, SocketEvent};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

const LISTENER: Token = Token(0);
const CLIENT: Token = Token(1);
const SERVER: Token = Token(2);

fn one_loop(accept: AcceptOptions, connect: ConnectOptions, scheme: &str) {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let url = format!("{scheme}://localhost:{port}/chat");
    let mut sockets: HashMap<Token, Socket> = HashMap::new();
    let mut client = Socket::connect(&url, connect).unwrap();
    client.register(poll.registry(), CLIENT).unwrap();
    sockets.insert(CLIENT, client);
    let (mut echoed, mut closed) = (Vec::new(), Vec::new());
    let give_up = Instant::now() + Duration::from_secs(20);
    while !sockets.is_empty() {
        assert!(Instant::now() < give_up, "stuck: {sockets:?}");
        let deadline = sockets.values().filter_map(Socket::next_deadline).min();
        poll.poll(&mut events, duplex_mio::time::poll_timeout(deadline))
            .unwrap();
        for event in events.iter() {
            if event.token() == LISTENER {
                let (tcp, _) = listener.accept().unwrap();
                let mut server = Socket::accept(tcp, &accept).unwrap();
                server.register(poll.registry(), SERVER).unwrap();
                sockets.insert(SERVER, server);
            } else if let Some(s) = sockets.get_mut(&event.token()) {
                s.handle_ready(poll.registry(), event).unwrap();
            }
        }
        for (token, socket) in sockets.iter_mut() {
            if socket.next_deadline().is_some_and(|t| t <= Instant::now()) {
                socket.handle_timeout();
            }
            while let Some(event) = socket.poll_event().unwrap() {
                match (*token, event) {
                    (CLIENT, SocketEvent::Open { .. }) => {
                        for i in 0..50 {
                            socket.send_text(&format!("m{i}")).unwrap();
                        }
                        socket.send_binary(&vec![1u8; 200_000]).unwrap();
                    }
                    (SERVER, SocketEvent::Open { request, .. }) => {
                        assert_eq!(request.unwrap().path, "/chat")
                    }
                    (SERVER, SocketEvent::Ws(Event::Message(m))) => socket.send(&m).unwrap(),
                    (CLIENT, SocketEvent::Ws(Event::Message(m))) => {
                        echoed.push(m);
                        if echoed.len() == 51 {
                            socket.close(CloseCode::NORMAL, "done").unwrap();
                        }
                    }
                    (t, SocketEvent::Ws(Event::Closed(info))) => closed.push((t, info)),
                    _ => {}
                }
            }
            socket.flush(poll.registry()).unwrap();
            // Interest follows the core: writable only while bytes wait.
            if !socket.wants_write() && !socket.is_finished() {
                assert!(!socket.interest().is_writable() || !socket.is_open());
            }
        }
        sockets.retain(|_, s| {
            if s.is_finished() {
                s.deregister(poll.registry()).unwrap();
            }
            !s.is_finished()
        });
    }
    assert_eq!(echoed.len(), 51);
    assert_eq!(echoed[7], Message::Text("m7".to_owned().into()));
    assert_eq!(echoed[50].payload().len(), 200_000);
    assert_eq!(closed.len(), 2);
    assert!(closed.iter().all(|(_, info)| info.clean), "{closed:?}");
}

#[test]
fn client_and_server_in_one_poll_plain() {
    one_loop(AcceptOptions::default(), ConnectOptions::default(), "ws");
}

#[test]
fn client_and_server_in_one_poll_tls() {
    let (server, client) = common::tls_pair();
    let accept = AcceptOptions {
        tls: Some(server),
        ..AcceptOptions::default()
    };
    let connect = ConnectOptions {
        tls: Some(client),
        ..ConnectOptions::default()
    };
    one_loop(accept, connect, "wss");
}

fn broker_round_trip(tls: bool) {
    let (server_tls, client_tls) = common::tls_pair();
    let mut builder = duplex_mio::broker::BrokerServer::builder().endpoint("/ws");
    if tls {
        builder = builder.tls(server_tls);
    }
    let server = builder.build().unwrap();
    let handle = server.handle();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = server.spawn(listener).unwrap();
    let scheme = if tls { "wss" } else { "ws" };
    let options = ConnectOptions {
        tls: Some(client_tls),
        ..ConnectOptions::default()
    };
    let mut c = duplex_mio::stomp::StompClient::connect_ws_with(
        &format!("{scheme}://localhost:{port}/ws"),
        options,
        ClientConfig::new("localhost"),
    )
    .unwrap();
    c.subscribe("/topic/news", AckMode::Auto, &[]).unwrap();
    let r = c
        .send("/topic/news", "from a client", &[], true)
        .unwrap()
        .unwrap();
    c.wait_receipt(&r).unwrap();
    handle
        .publish("/topic/news", &[], "from the handle")
        .unwrap();
    let mut bodies = Vec::new();
    while bodies.len() < 2 {
        match c.next_event_timeout(Duration::from_secs(10)).unwrap() {
            Some(ClientEvent::Message(m)) => bodies.push(m.body().clone()),
            Some(_) => {}
            None => panic!("closed"),
        }
    }
    assert_eq!(bodies, ["from a client", "from the handle"]);
    c.disconnect().unwrap();
    handle.shutdown();
    thread.join().unwrap().unwrap();
}

#[test]
fn hosted_broker_plain() {
    broker_round_trip(false);
}

#[test]
fn hosted_broker_tls() {
    broker_round_trip(true);
}
