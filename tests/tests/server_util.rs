//! Helpers for the `server_*` suites: a `BrokerServer` on an ephemeral loopback port, raw
//! WebSocket clients that speak STOMP bytes by hand, and a failure guard. Included with
//! `#[path]`; compiled alone it is empty.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use duplex_core::stomp::{ClientConfig, Frame};
use duplex_core::ws::{CloseInfo, Event};
use duplex_tokio::broker::{BrokerHandle, Builder};
use duplex_tokio::stomp::StompClient;
use duplex_tokio::ws::{connect_with, handshake, ConnectOptions, WebSocket};
use duplex_tokio::MaybeTlsStream;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// Fails the test if `f` takes longer than `secs`: a guard against hangs, never a speed test.
pub async fn guard<T>(secs: u64, what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), f).await {
        Ok(t) => t,
        Err(_) => panic!("{what}: still waiting after {secs} s"),
    }
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub handle: BrokerHandle,
    pub served: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }
}

/// Build and serve on 127.0.0.1:0.
pub async fn start(builder: Builder) -> Running {
    let server = builder.build().expect("valid server");
    let handle = server.handle();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(server.serve(listener));
    Running {
        addr,
        handle,
        served,
    }
}

fn stomp_options() -> ConnectOptions {
    ConnectOptions {
        protocols: vec!["v12.stomp".into()],
        ..ConnectOptions::default()
    }
}

/// A WebSocket to the endpoint, STOMP subprotocol, nothing sent yet.
pub async fn raw_ws(running: &Running) -> WebSocket<MaybeTlsStream> {
    connect_with(&running.url(), stomp_options()).await.unwrap()
}

/// Like [`raw_ws`], with a tiny receive buffer so a client that stops reading backs up fast.
pub async fn raw_ws_small_buffer(running: &Running) -> WebSocket<TcpStream> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(running.addr).await.unwrap();
    let url = duplex_core::ws::WsUrl::parse(&running.url()).unwrap();
    handshake(tcp, &url, stomp_options()).await.unwrap()
}

/// Send STOMP `bytes` as one text message.
pub async fn send<S>(ws: &mut WebSocket<S>, bytes: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.send_text(bytes).await.unwrap();
}

/// CONNECT as `login` (1.2, no heart-beats) and wait for CONNECTED.
pub async fn connect<S>(ws: &mut WebSocket<S>, login: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    send(
        ws,
        &format!("CONNECT\naccept-version:1.2\nhost:h\nlogin:{login}\nheart-beat:0,0\n\n\0"),
    )
    .await;
    let frames = next_frames(ws).await.expect("CONNECTED");
    assert_eq!(frames[0].command.as_str(), "CONNECTED", "{frames:?}");
}

/// What came before the close, and the close.
#[derive(Debug, Default)]
pub struct Ending {
    pub frames: Vec<Frame>,
    pub close: Option<CloseInfo>,
}

impl Ending {
    pub fn commands(&self) -> Vec<&str> {
        self.frames.iter().map(|f| f.command.as_str()).collect()
    }
}

/// The STOMP frames in the next WebSocket message; `None` once the WebSocket is closed.
pub async fn next_frames<S>(ws: &mut WebSocket<S>) -> Option<Vec<Frame>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match ws.next_event().await {
            Ok(Some(Event::Message(m))) => return Some(parse(m.payload())),
            // After `Closed`, one more call lets the transport finish (the server closes
            // TCP first, we answer), as dropping the client would.
            Ok(Some(Event::Closed(_))) => {
                while let Ok(Some(_)) = ws.next_event().await {}
                return None;
            }
            Ok(None) | Err(_) => return None,
            Ok(Some(_)) => {}
        }
    }
}

/// Read to the end: every frame, and how the WebSocket closed.
pub async fn read_to_end<S>(ws: &mut WebSocket<S>) -> Ending
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut ending = Ending::default();
    while let Some(frames) = next_frames(ws).await {
        ending.frames.extend(frames);
    }
    ending.close = ws.close_info().cloned();
    ending
}

/// STOMP frames in `bytes` (heart-beat EOLs skipped).
pub fn parse(bytes: &[u8]) -> Vec<Frame> {
    let mut decoder =
        duplex_core::stomp::Decoder::new(duplex_core::stomp::Version::V1_2, Default::default());
    decoder.feed(bytes);
    let mut frames = Vec::new();
    while let Ok(Some(d)) = decoder.decode() {
        if let duplex_core::stomp::Decoded::Frame(f) = d {
            frames.push(f);
        }
    }
    frames
}

/// A connected STOMP client (the tokio client of `duplex-tokio`).
pub async fn stomp(running: &Running, login: &str) -> StompClient {
    let mut config = ClientConfig::new("localhost");
    config.login = Some(login.into());
    StompClient::connect_ws(&running.url(), config)
        .await
        .unwrap()
}
