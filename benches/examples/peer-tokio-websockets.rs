//! `tokio-websockets` echo server, as its own `echo_server` example writes it: `next` then `send`
//! in an unconstrained task, with frame-size and message limits lifted.
//!
//! `cargo run --release -p duplex-bench --example peer-tokio-websockets -- --listen 127.0.0.1:9001`

use duplex_bench::peer::PeerArgs;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_websockets::{Config, Limits, ServerBuilder};

fn main() -> std::io::Result<()> {
    let args = PeerArgs::parse("peer-tokio-websockets");
    args.run(async {
        let listener = TcpListener::bind(&args.listen).await?;
        eprintln!(
            "peer-tokio-websockets listening on {}",
            listener.local_addr()?
        );
        loop {
            let (tcp, _) = listener.accept().await?;
            let _ = tcp.set_nodelay(true);
            tokio::spawn(tokio::task::unconstrained(async move {
                let Ok((_request, mut ws)) = ServerBuilder::new()
                    .config(Config::default().frame_size(usize::MAX))
                    .limits(Limits::unlimited())
                    .accept(tcp)
                    .await
                else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                        break;
                    }
                }
            }));
        }
    })
}
