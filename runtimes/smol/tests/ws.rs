//! duplex-smol over real loopback sockets: echo over ws:// and wss://, a plain HTTP request
//! answered 426, and cancel-safety of `recv`. (The cross-runtime suite in `tests/` covers the
//! rest against every other runtime.)

use async_net::{TcpListener, TcpStream};
use duplex_core::ws::{CloseCode, Event, Message};
use duplex_smol::tls::server_config_from_pem;
use duplex_smol::ws::{
    accept_with, binary, connect_with, text, AcceptOptions, ConnectOptions, Incoming,
};
use futures_lite::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_rustls::TlsAcceptor;
use rustls::pki_types::pem::PemObject;

fn self_signed() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (cert.cert.pem(), cert.key_pair.serialize_pem())
}

async fn echo_server(tls: Option<TlsAcceptor>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    smol::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = tls.clone();
            smol::spawn(async move {
                match tls {
                    Some(acceptor) => echo(acceptor.accept(tcp).await.unwrap()).await,
                    None => echo(tcp).await,
                }
            })
            .detach();
        }
    })
    .detach();
    addr
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let mut ws = match accept_with(stream, AcceptOptions::default()).await {
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
    for m in [
        text("hello ✓"),
        binary(vec![1, 2, 3]),
        binary(vec![7u8; 300_000]),
    ] {
        ws.send(&m).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(m));
    }
    let info = ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    assert!(info.clean, "{info:?}");
    assert_eq!(info.code, CloseCode::NORMAL);
}

#[test]
fn echo_over_plain_tcp() {
    smol::block_on(async {
        let addr = echo_server(None).await;
        round_trip(&format!("ws://{addr}/"), ConnectOptions::default()).await;
    })
}

#[test]
fn echo_over_tls() {
    smol::block_on(async {
        let (cert, key) = self_signed();
        let config = server_config_from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
        let addr = echo_server(Some(TlsAcceptor::from(config))).await;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let options = ConnectOptions {
            tls: Some(duplex_smol::tls::client_config_with_roots(roots)),
            ..ConnectOptions::default()
        };
        round_trip(&format!("wss://localhost:{}/", addr.port()), options).await;
    })
}

#[test]
fn plain_http_request_gets_426() {
    smol::block_on(async {
        let addr = echo_server(None).await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
    })
}

#[test]
fn recv_is_cancel_safe() {
    smol::block_on(async {
        let addr = echo_server(None).await;
        let mut ws = connect_with(&format!("ws://{addr}/"), ConnectOptions::default())
            .await
            .unwrap();
        for i in 0..50u32 {
            ws.send(&text(&i.to_string())).await.unwrap();
            // Poll a recv once, then drop it (the other branch is ready at once) half the time;
            // the message must still arrive exactly once.
            if i % 2 == 0 {
                let raced =
                    futures_lite::future::or(async { Some(ws.recv().await) }, async { None }).await;
                if let Some(early) = raced {
                    assert_eq!(early.unwrap(), Some(Message::Text(i.to_string().into())));
                    continue;
                }
            }
            assert_eq!(
                ws.recv().await.unwrap(),
                Some(Message::Text(i.to_string().into()))
            );
        }
    })
}
