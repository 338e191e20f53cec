//! `tokio-tungstenite` echo server, as its own `echo-server` example writes it: the read half
//! forwarded into the write half (`forward` feeds while messages are ready and flushes when the
//! stream would wait, so bursts share a write).
//!
//! `cargo run --release -p duplex-bench --example peer-tungstenite -- --listen 127.0.0.1:9001`

use duplex_bench::peer::PeerArgs;
use futures_util::{future, StreamExt, TryStreamExt};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let args = PeerArgs::parse("peer-tungstenite");
    args.run(async {
        let listener = TcpListener::bind(&args.listen).await?;
        eprintln!("peer-tungstenite listening on {}", listener.local_addr()?);
        loop {
            let (tcp, _) = listener.accept().await?;
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let (write, read) = ws.split();
                let _ = read
                    .try_filter(|m| future::ready(m.is_text() || m.is_binary()))
                    .forward(write)
                    .await;
            });
        }
    })
}
