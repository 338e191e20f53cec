//! The examples on `duplex-smol`: echo server (Autobahn target), echo client (Autobahn driver).
//! They mirror the tokio versions in `src/bin/echo-server.rs` and `src/bin/echo-client.rs`.

use std::time::Duration;

use duplex_smol::duplex_core::stomp::{
    AckMode, ClientConfig, Message as StompMessage, Negotiated, ReceiptId, SubscriptionId,
    TransactionId, Version,
};
use duplex_smol::duplex_core::ws::{Event, Message};
use duplex_smol::ws::{accept_with, connect, AcceptOptions, Incoming};
use smol::io::{AsyncRead, AsyncWrite};
use smol::net::TcpListener;

use crate::stomp_scenario::{message_or_error, ScenarioClient, Target};
use crate::Args;

/// `echo-server --runtime smol`: serve WebSocket echo on `--listen` (wss with `--tls-cert/--tls-key`).
pub fn echo_server(args: &Args) -> Result<(), String> {
    let listen = args.get_or("listen", "127.0.0.1:9001");
    let tls = match (args.get("tls-cert"), args.get("tls-key")) {
        (Some(cert), Some(key)) => {
            Some(duplex_smol::tls::acceptor_from_pem_files(cert, key).map_err(|e| e.to_string())?)
        }
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    smol::block_on(async {
        let listener = TcpListener::bind(listen.as_str())
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "echo-server (smol) listening on {}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let options = AcceptOptions::default();
        loop {
            let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let _ = tcp.set_nodelay(true);
            let options = options.clone();
            let tls = tls.clone();
            smol::spawn(async move {
                // The TLS branch is boxed: a spawned future is as large as its largest branch, and an
                // inline TLS stream would make every plain connection pay for it (~7 KiB idle).
                let result = match tls {
                    Some(acceptor) => {
                        Box::pin(async move {
                            match acceptor.accept(tcp).await {
                                Ok(stream) => echo(stream, options).await,
                                Err(e) => Err(e.into()),
                            }
                        })
                        .await
                    }
                    None => echo(tcp, options).await,
                };
                if let Err(e) = result {
                    eprintln!("connection: {e}");
                }
            })
            .detach();
        }
    })
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    options: AcceptOptions,
) -> Result<(), duplex_smol::Error> {
    let mut ws = match accept_with(stream, options).await? {
        Incoming::WebSocket(ws, _) => ws,
        Incoming::Http(_, responder) => return responder.reject().await,
    };
    while let Some(event) = ws.next_event().await? {
        if let Event::Message(message) = event {
            // Queued now, written by the next `next_event` once the batch is drained: one write
            // for every message that arrived in one read. After a close, feeding is refused.
            let _ = ws.feed(&message);
        }
    }
    Ok(())
}

/// `echo-client --runtime smol`: drive an Autobahn fuzzing server at `url` as `agent`.
pub fn echo_client(url: &str, agent: &str) -> Result<(), String> {
    smol::block_on(drive(url, agent)).map_err(|e| e.to_string())
}

async fn drive(base: &str, agent: &str) -> Result<(), duplex_smol::Error> {
    let mut ws = connect(&format!("{base}/getCaseCount")).await?;
    let count: u32 = match ws.recv().await? {
        Some(Message::Text(t)) => t.trim().parse().unwrap_or(0),
        other => {
            return Err(duplex_smol::Error::Io(std::io::Error::other(format!(
                "unexpected case count answer {other:?}"
            ))))
        }
    };
    while ws.next_event().await?.is_some() {}
    eprintln!("{count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&format!("{base}/runCase?case={case}&agent={agent}")).await {
            eprintln!("case {case}: {e}");
        }
    }
    let mut ws = connect(&format!("{base}/updateReports?agent={agent}")).await?;
    while ws.next_event().await?.is_some() {}
    eprintln!("reports updated");
    Ok(())
}

async fn run_case(url: &str) -> Result<(), duplex_smol::Error> {
    let mut ws = connect(url).await?;
    while let Some(event) = ws.next_event().await? {
        if let Event::Message(message) = event {
            let _ = ws.feed(&message);
        }
    }
    Ok(())
}

/// [`ScenarioClient`](crate::stomp_scenario::ScenarioClient) on `duplex-smol`: `smol::block_on`
/// per call.
pub struct SmolClient {
    client: duplex_smol::stomp::StompClient,
}

impl SmolClient {
    /// Connect to `target` and complete CONNECT/CONNECTED.
    pub fn connect(
        target: &Target,
        config: ClientConfig,
    ) -> Result<Box<dyn ScenarioClient>, String> {
        use duplex_smol::stomp::StompClient;
        let client = smol::block_on(async {
            match target {
                Target::Tcp(addr) => StompClient::connect_tcp(addr, config).await,
                Target::Ws(url) => StompClient::connect_ws(url, config).await,
            }
        })
        .map_err(|e| format!("connect: {e}"))?;
        Ok(Box::new(SmolClient { client }))
    }
}

fn e(err: impl std::fmt::Display) -> String {
    err.to_string()
}

impl ScenarioClient for SmolClient {
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
        smol::block_on(self.client.subscribe(destination, ack, headers)).map_err(e)
    }
    fn unsubscribe(&mut self, id: &SubscriptionId) -> Result<(), String> {
        smol::block_on(self.client.unsubscribe(id)).map_err(e)
    }
    fn send(
        &mut self,
        destination: &str,
        body: &str,
        headers: &[(&str, &str)],
        receipt: bool,
    ) -> Result<Option<ReceiptId>, String> {
        let body = bytes::Bytes::copy_from_slice(body.as_bytes());
        smol::block_on(self.client.send(destination, body, headers, receipt)).map_err(e)
    }
    fn wait_receipt(&mut self, receipt: &ReceiptId) -> Result<(), String> {
        smol::block_on(self.client.wait_receipt(receipt)).map_err(e)
    }
    fn next_message(&mut self, within: Duration) -> Result<Option<StompMessage>, String> {
        let client = &mut self.client;
        smol::block_on(async {
            let deadline = std::time::Instant::now() + within;
            loop {
                // `next_event` is cancel-safe: losing the race to the timer drops nothing.
                let event = smol::future::or(async { Some(client.next_event().await) }, async {
                    smol::Timer::at(deadline).await;
                    None
                })
                .await;
                match event {
                    None => return Ok(None),
                    Some(event) => {
                        if let Some(result) = message_or_error(event.map_err(e)) {
                            return result;
                        }
                    }
                }
            }
        })
    }
    fn ack(&mut self, message: &StompMessage, tx: Option<&TransactionId>) -> Result<(), String> {
        smol::block_on(self.client.ack(message, tx)).map_err(e)
    }
    fn nack(&mut self, message: &StompMessage, tx: Option<&TransactionId>) -> Result<(), String> {
        smol::block_on(self.client.nack(message, tx)).map_err(e)
    }
    fn begin(&mut self) -> Result<TransactionId, String> {
        smol::block_on(self.client.begin()).map_err(e)
    }
    fn commit(&mut self, tx: &TransactionId) -> Result<(), String> {
        smol::block_on(self.client.commit(tx)).map_err(e)
    }
    fn abort(&mut self, tx: &TransactionId) -> Result<(), String> {
        smol::block_on(self.client.abort(tx)).map_err(e)
    }
    fn disconnect(self: Box<Self>) -> Result<(), String> {
        smol::block_on(self.client.disconnect()).map_err(e)
    }
}
