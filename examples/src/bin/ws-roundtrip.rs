//! Connects to an echo server, sends a text and a 64 KiB binary message, checks they come back
//! byte for byte, and closes with 1000. Exit status 0 on success.
//!
//! `ws-roundtrip --url ws://127.0.0.1:9003`

use duplex_examples::{fail, Args};
use duplex_tokio::duplex_core::ws::{CloseCode, Message};
use duplex_tokio::ws::{binary, connect, text};

const USAGE: &str = "usage: ws-roundtrip --url ws://HOST:PORT/PATH";

fn main() {
    let args = Args::parse(USAGE);
    let url = args
        .get("url")
        .unwrap_or_else(|| fail(USAGE, "--url is required"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(roundtrip(&url)) {
        Ok(()) => println!("ws-roundtrip: OK"),
        Err(why) => {
            eprintln!("ws-roundtrip: FAILED: {why}");
            std::process::exit(1);
        }
    }
}

async fn roundtrip(url: &str) -> Result<(), String> {
    let mut ws = connect(url).await.map_err(|e| e.to_string())?;
    let big: Vec<u8> = (0..64 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    for message in [text("hello ✓"), binary(big)] {
        ws.send(&message).await.map_err(|e| e.to_string())?;
        match ws.recv().await.map_err(|e| e.to_string())? {
            Some(echo) if echo == message => {}
            Some(other) => {
                return Err(format!(
                    "echo differs: sent {} bytes, got {:?}",
                    message.payload().len(),
                    short(&other)
                ))
            }
            None => return Err("closed before the echo".into()),
        }
    }
    let info = ws
        .close(CloseCode::NORMAL, "done")
        .await
        .map_err(|e| e.to_string())?;
    if !info.clean || info.code != CloseCode::NORMAL {
        return Err(format!("close was not clean: {info:?}"));
    }
    Ok(())
}

fn short(m: &Message) -> String {
    format!("{:?} of {} bytes", m.kind(), m.payload().len())
}
