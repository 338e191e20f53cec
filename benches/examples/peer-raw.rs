//! The ceiling: a raw TCP echo server that does no WebSocket work at all. It sends every byte back
//! as it arrived, so the load generator's masked frames come back byte-identical (`loadgen --raw`
//! skips the handshake and accepts masked frames).
//!
//! `cargo run --release -p duplex-bench --example peer-raw -- --listen 127.0.0.1:9001`

use duplex_bench::peer::PeerArgs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let args = PeerArgs::parse("peer-raw");
    args.run(async {
        let listener = TcpListener::bind(&args.listen).await?;
        eprintln!("peer-raw listening on {}", listener.local_addr()?);
        loop {
            let (mut tcp, _) = listener.accept().await?;
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if tcp.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    })
}
