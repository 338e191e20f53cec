//! The blocking layer over loopback: client ↔ server, plain and TLS.

mod common;

use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use duplex_mio::duplex_core::ws::{CloseCode, Event, Message};
use duplex_mio::ws::{accept_with, connect_with, AcceptOptions, ConnectOptions, Incoming};

fn echo_server(options: AcceptOptions) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let Incoming::WebSocket(mut ws, request) = accept_with(tcp, options).unwrap() else {
            panic!("expected an upgrade");
        };
        assert_eq!(request.path, "/echo");
        while let Some(event) = ws.next_event().unwrap() {
            if let Event::Message(m) = event {
                ws.send(&m).unwrap();
            }
        }
    });
    (format!("{addr}"), handle)
}

fn round_trip(scheme: &str, accept: AcceptOptions, connect: ConnectOptions) {
    let (addr, server) = echo_server(accept);
    let url = format!("{scheme}://{}/echo", addr.replace("127.0.0.1", "localhost"));
    let mut ws = connect_with(&url, connect).unwrap();
    ws.send_text("hello").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Some(Message::Text("hello".to_owned().into()))
    );
    let big = vec![7u8; 300_000];
    ws.send_binary(&big).unwrap();
    match ws.recv().unwrap() {
        Some(Message::Binary(b)) => assert_eq!(&b[..], &big[..]),
        other => panic!("unexpected {other:?}"),
    }
    // Nothing arrives: the timeout fires and nothing is lost.
    let err = ws
        .next_event_timeout(Duration::from_millis(50))
        .unwrap_err();
    assert!(err.is_timeout());
    for i in 0..100 {
        ws.feed(&duplex_mio::ws::text(&format!("m{i}"))).unwrap();
    }
    ws.flush().unwrap();
    for i in 0..100 {
        assert_eq!(
            ws.recv().unwrap(),
            Some(duplex_mio::ws::text(&format!("m{i}")))
        );
    }
    let info = ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(info.clean, "{info:?}");
    assert_eq!(ws.next_event().unwrap(), None);
    server.join().unwrap();
}

#[test]
fn plain_round_trip() {
    round_trip("ws", AcceptOptions::default(), ConnectOptions::default());
}

#[test]
fn tls_round_trip() {
    let (server, client) = common::tls_pair();
    let accept = AcceptOptions {
        tls: Some(server),
        ..AcceptOptions::default()
    };
    let connect = ConnectOptions {
        tls: Some(client),
        ..ConnectOptions::default()
    };
    round_trip("wss", accept, connect);
}

#[test]
fn refused_connection_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    assert!(duplex_mio::ws::connect(&format!("ws://{addr}/")).is_err());
}

#[test]
fn plain_http_gets_426() {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        assert!(duplex_mio::ws::accept(tcp).is_err());
    });
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
    drop(tcp);
    server.join().unwrap();
}
