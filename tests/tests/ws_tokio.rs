//! WebSocket behaviour over real loopback sockets on tokio: echo over ws:// and wss://, and bad
//! peers (garbage, slowloris, plain HTTP) ending in the documented code or status.

use std::time::Duration;

use duplex_core::ws::handshake::{HandshakeLimits, ServerConfig};
use duplex_core::ws::{CloseCode, Event, Message};
use duplex_tests::{client_trusting, self_signed};
use duplex_tokio::tls::server_config_from_pem;
use duplex_tokio::ws::{
    accept_with, binary, connect_with, text, AcceptOptions, ConnectOptions, Incoming,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// An echo server on an ephemeral port; returns its address.
async fn echo_server(options: AcceptOptions, tls: Option<TlsAcceptor>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let options = options.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        let stream = acceptor.accept(tcp).await.unwrap();
                        echo(stream, options).await
                    }
                    None => echo(tcp, options).await,
                }
            });
        }
    });
    addr
}

async fn echo<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: S,
    options: AcceptOptions,
) {
    let mut ws = match accept_with(stream, options).await {
        Ok(Incoming::WebSocket(ws, _)) => ws,
        Ok(Incoming::Http(_, responder)) => return responder.reject().await.unwrap(),
        Err(_) => return,
    };
    while let Ok(Some(event)) = ws.next_event().await {
        if let Event::Message(m) = event {
            let _ = ws.feed(&m);
        }
    }
}

async fn round_trip(url: &str, options: ConnectOptions) {
    let mut ws = connect_with(url, options).await.unwrap();
    let big = binary(vec![7u8; 300_000]);
    for m in [text("hello ✓"), binary(vec![1, 2, 3]), big] {
        ws.send(&m).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(m));
    }
    let info = ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    assert!(info.clean, "{info:?}");
    assert_eq!(info.code, CloseCode::NORMAL);
}

#[tokio::test]
async fn echo_over_plain_tcp() {
    let addr = echo_server(AcceptOptions::default(), None).await;
    round_trip(&format!("ws://{addr}/"), ConnectOptions::default()).await;
}

#[tokio::test]
async fn echo_over_tls_with_a_certificate_made_at_test_time() {
    let (cert, key) = self_signed();
    let config = server_config_from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    let addr = echo_server(AcceptOptions::default(), Some(config.into())).await;
    let options = ConnectOptions {
        tls: Some(client_trusting(&cert)),
        ..ConnectOptions::default()
    };
    round_trip(&format!("wss://localhost:{}/", addr.port()), options).await;
}

#[tokio::test]
async fn subprotocol_is_negotiated_by_server_preference() {
    let handshake = ServerConfig {
        protocols: vec!["v12.stomp".into(), "v11.stomp".into()],
        ..ServerConfig::default()
    };
    let addr = echo_server(
        AcceptOptions {
            handshake: handshake.into(),
            ..AcceptOptions::default()
        },
        None,
    )
    .await;
    let options = ConnectOptions {
        protocols: vec!["v11.stomp".into(), "v12.stomp".into()],
        ..ConnectOptions::default()
    };
    let ws = connect_with(&format!("ws://{addr}/"), options)
        .await
        .unwrap();
    assert_eq!(ws.protocol(), Some("v12.stomp"));
}

/// Send raw bytes after a valid handshake and read what the server answers until it closes.
async fn raw_session(addr: std::net::SocketAddr, after_handshake: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    tcp.write_all(after_handshake).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
        .await
        .expect("server closes")
        .unwrap();
    answer
}

fn after_head(answer: &[u8]) -> &[u8] {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    &answer[end..]
}

#[tokio::test]
async fn garbage_frames_get_close_1002_and_the_connection_ends() {
    let addr = echo_server(AcceptOptions::default(), None).await;
    let answer = raw_session(addr, &[0xff; 64]).await;
    assert!(answer.starts_with(b"HTTP/1.1 101"));
    let frames = after_head(&answer);
    assert_eq!(
        &frames[..4],
        &[0x88, frames[1], 0x03, 0xea],
        "a close frame with 1002"
    );
}

#[tokio::test]
async fn oversized_length_gets_1009_before_any_payload() {
    let options = AcceptOptions {
        config: duplex_core::ws::Config {
            max_message_size: 1024,
            ..Default::default()
        },
        ..AcceptOptions::default()
    };
    let addr = echo_server(options, None).await;
    // A masked binary frame claiming 2^40 bytes.
    let answer = raw_session(addr, &[0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]).await;
    let frames = after_head(&answer);
    assert_eq!(&frames[2..4], &[0x03, 0xf1], "close 1009");
}

#[tokio::test]
async fn slowloris_handshake_gets_408_at_the_handshake_timeout() {
    let handshake = ServerConfig {
        limits: HandshakeLimits {
            timeout: Duration::from_millis(300),
            ..HandshakeLimits::default()
        },
        ..ServerConfig::default()
    };
    let addr = echo_server(
        AcceptOptions {
            handshake: handshake.into(),
            ..AcceptOptions::default()
        },
        None,
    )
    .await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap(); // and never the end of the head
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn plain_http_request_gets_426() {
    let addr = echo_server(AcceptOptions::default(), None).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
    assert!(answer
        .to_ascii_lowercase()
        .contains("sec-websocket-version: 13"));
}

#[tokio::test]
async fn recv_is_cancel_safe_in_select() {
    let addr = echo_server(AcceptOptions::default(), None).await;
    let mut ws = connect_with(&format!("ws://{addr}/"), ConnectOptions::default())
        .await
        .unwrap();
    for i in 0..50u32 {
        ws.send(&text(&i.to_string())).await.unwrap();
        // Cancel a recv that is mid-wait half the time; the message must still arrive exactly once.
        if i % 2 == 0 {
            tokio::select! {
                biased;
                _ = std::future::ready(()) => {}
                _ = ws.recv() => panic!("ready branch is biased first"),
            }
        }
        assert_eq!(
            ws.recv().await.unwrap(),
            Some(Message::Text(i.to_string().into()))
        );
    }
}
