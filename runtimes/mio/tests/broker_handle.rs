//! The hosted broker's handle on mio, as tokio's and smol's: `publish`'s result,
//! `send_to_session`, `with_broker`, `is_shutting_down`, the host counters and `metrics()`
//! (also from the HTTP callback, on the loop's thread).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use duplex_mio::broker::{BrokerServer, HostStats};
use duplex_mio::duplex_core::broker::{AppMessage, BrokerError, ConnId, HandlerContext};
use duplex_mio::duplex_core::stomp::{AckMode, ClientConfig, ClientEvent};
use duplex_mio::duplex_core::ws::handshake::http_response;
use duplex_mio::stomp::StompClient;

/// A STOMP client logged in as `login`, subscribed to `/user/queue/private`; its `ConnId` as
/// the `/app/whoami` handler saw it.
fn client(port: u16, login: &str, seen: &Mutex<Option<ConnId>>) -> (StompClient, ConnId) {
    let mut config = ClientConfig::new("localhost");
    config.login = Some(login.to_owned());
    let mut c = StompClient::connect_ws(&format!("ws://localhost:{port}/ws"), config).unwrap();
    c.subscribe("/user/queue/private", AckMode::Auto, &[])
        .unwrap();
    let r = c.send("/app/whoami", "", &[], true).unwrap().unwrap();
    c.wait_receipt(&r).unwrap();
    let id = seen.lock().unwrap().take().expect("whoami ran");
    (c, id)
}

fn next_body(c: &mut StompClient) -> String {
    loop {
        match c.next_event_timeout(Duration::from_secs(10)).unwrap() {
            Some(ClientEvent::Message(m)) => {
                return String::from_utf8(m.body().to_vec()).unwrap();
            }
            Some(_) => {}
            None => panic!("closed"),
        }
    }
}

/// One plain HTTP request; the whole answer.
fn http_get(port: u16, path: &str) -> String {
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn send_to_session_metrics_and_counters() {
    let seen = Arc::new(Mutex::new(None));
    let server = BrokerServer::builder()
        .endpoint("/ws")
        .handler("/app/whoami", {
            let seen = seen.clone();
            move |_ctx: &mut HandlerContext, m: &AppMessage| {
                *seen.lock().unwrap() = Some(m.conn);
            }
        })
        .http(|request, handle| match request.path.as_str() {
            "/metrics" => Some(http_response(
                200,
                "OK",
                &[("Content-Type", "text/plain")],
                handle.metrics().as_bytes(),
            )),
            _ => None,
        })
        .build()
        .unwrap();
    let handle = server.handle();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = server.spawn(listener).unwrap();

    // Two sessions of one user: send_to_session reaches one, send_to_user both.
    let (mut a, a_id) = client(port, "alice", &seen);
    let (mut b, b_id) = client(port, "alice", &seen);
    assert_ne!(a_id, b_id);
    handle.send_to_session(b_id, "/queue/private", &[], "for b only");
    handle.send_to_user("alice", "/queue/private", &[], "for both");
    assert_eq!(next_body(&mut a), "for both");
    assert_eq!(next_body(&mut b), "for b only");
    assert_eq!(next_body(&mut b), "for both");

    // publish answers with the broker's verdict.
    assert!(handle.publish("/topic/news", &[], "nobody listens").is_ok());
    assert!(matches!(
        handle.publish("/nowhere", &[], "x"),
        Err(BrokerError::Unroutable(_))
    ));
    // with_broker: the broker itself.
    assert_eq!(handle.with_broker(|b| b.stats().clone()), handle.stats());

    // A WebSocket to an unknown path is a handshake failure; /metrics is an HTTP request,
    // answered on the loop's thread through the handle.
    let wrong = StompClient::connect_ws(
        &format!("ws://localhost:{port}/elsewhere"),
        ClientConfig::new("localhost"),
    );
    assert!(wrong.is_err());
    let metrics = http_get(port, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("duplex_accepted_total 4\n"), "{metrics}");
    assert!(
        metrics.contains("duplex_http_requests_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("duplex_handshake_failures_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("duplex_refused_over_limit_total 0\n"),
        "{metrics}"
    );
    // The broker's own rows come first, as on tokio.
    let broker_rows = handle.stats().prometheus();
    let first = broker_rows.lines().next().unwrap();
    assert!(metrics.contains(first), "{metrics}");
    assert_eq!(
        handle.host_stats(),
        HostStats {
            accepted: 4,
            handshake_failures: 1,
            http_requests: 1,
            ..HostStats::default()
        }
    );

    assert!(!handle.is_shutting_down());
    a.disconnect().unwrap();
    b.disconnect().unwrap();
    handle.shutdown();
    assert!(handle.is_shutting_down());
    thread.join().unwrap().unwrap();
}

#[test]
fn refused_over_limit_is_counted() {
    let server = BrokerServer::builder().max_connections(0).build().unwrap();
    let handle = server.handle();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = server.spawn(listener).unwrap();
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Closed at accept: end of stream (or a reset), never an answer.
    let mut buf = [0u8; 16];
    assert!(matches!(tcp.read(&mut buf), Ok(0) | Err(_)));
    let stats = handle.host_stats();
    assert_eq!((stats.accepted, stats.refused_over_limit), (1, 1));
    assert!(handle
        .metrics()
        .contains("duplex_refused_over_limit_total 1\n"));
    handle.shutdown();
    thread.join().unwrap().unwrap();
}
