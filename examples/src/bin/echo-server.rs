//! Echoes every text and binary message: the Autobahn "fuzzingclient" target.
//!
//! `echo-server --runtime tokio --listen 127.0.0.1:9001 [--tls-cert cert.pem --tls-key key.pem]`
//!
//! On tokio, `--threads 1` runs a current-thread runtime (what `scripts/bench` uses, like the peer
//! servers it compares with); `--threads N` a multi-thread runtime with N workers; the default is
//! tokio's multi-thread runtime with one worker per core.

use duplex_examples::{fail, Args, Runtime};
use duplex_tokio::duplex_core::ws::Event;
use duplex_tokio::ws::{accept_with, AcceptOptions, Incoming};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

const USAGE: &str = "usage: echo-server [--runtime tokio|smol|mio] [--listen 127.0.0.1:9001] [--tls-cert FILE --tls-key FILE] [--threads N (tokio)]";

fn main() {
    let args = Args::parse(USAGE);
    let listen = args.get_or("listen", "127.0.0.1:9001");
    match Runtime::parse(&args.get_or("runtime", "tokio"), USAGE) {
        Runtime::Tokio => {
            let rt = match args.get("threads").map(|t| t.parse::<usize>()) {
                None => tokio::runtime::Runtime::new(),
                Some(Ok(1)) => tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build(),
                Some(Ok(n)) if n > 1 => tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(n)
                    .enable_all()
                    .build(),
                Some(_) => fail(USAGE, "--threads: a number of threads, at least 1"),
            }
            .expect("tokio runtime");
            if let Err(e) = rt.block_on(serve_tokio(&listen, &args)) {
                fail(USAGE, &e.to_string());
            }
        }
        Runtime::Smol => {
            duplex_examples::smol_rt::echo_server(&args).unwrap_or_else(|e| fail(USAGE, &e))
        }
        Runtime::Mio => {
            duplex_examples::mio_rt::echo_server(&args).unwrap_or_else(|e| fail(USAGE, &e))
        }
    }
}

async fn serve_tokio(listen: &str, args: &Args) -> Result<(), duplex_tokio::Error> {
    let tls = match (args.get("tls-cert"), args.get("tls-key")) {
        (Some(cert), Some(key)) => Some(duplex_tokio::tls::acceptor_from_pem_files(cert, key)?),
        (None, None) => None,
        _ => fail(USAGE, "--tls-cert and --tls-key go together"),
    };
    let listener = TcpListener::bind(listen).await?;
    eprintln!(
        "echo-server (tokio) listening on {}",
        listener.local_addr()?
    );
    let options = AcceptOptions::default();
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let options = options.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
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
        });
    }
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    options: AcceptOptions,
) -> Result<(), duplex_tokio::Error> {
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
