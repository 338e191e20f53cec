//! The standard Autobahn client driver: asks the fuzzing server how many cases there are, runs
//! each one by echoing every message, then asks it to write its reports.
//!
//! `echo-client --runtime tokio --url ws://127.0.0.1:9001 --agent duplex-tokio`

use duplex_examples::{fail, Args, Runtime};
use duplex_tokio::duplex_core::ws::{Event, Message};
use duplex_tokio::ws::connect;

const USAGE: &str =
    "usage: echo-client [--runtime tokio|smol|mio] [--url ws://127.0.0.1:9001] [--agent duplex-tokio]";

fn main() {
    let args = Args::parse(USAGE);
    let url = args.get_or("url", "ws://127.0.0.1:9001");
    let agent = args.get_or("agent", "duplex-tokio");
    match Runtime::parse(&args.get_or("runtime", "tokio"), USAGE) {
        Runtime::Tokio => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            if let Err(e) = rt.block_on(drive(url.trim_end_matches('/'), &agent)) {
                fail(USAGE, &e.to_string());
            }
        }
        Runtime::Smol => duplex_examples::smol_rt::echo_client(url.trim_end_matches('/'), &agent)
            .unwrap_or_else(|e| fail(USAGE, &e)),
        Runtime::Mio => duplex_examples::mio_rt::echo_client(url.trim_end_matches('/'), &agent)
            .unwrap_or_else(|e| fail(USAGE, &e)),
    }
}

async fn drive(base: &str, agent: &str) -> Result<(), duplex_tokio::Error> {
    let mut ws = connect(&format!("{base}/getCaseCount")).await?;
    let count: u32 = match ws.recv().await? {
        Some(Message::Text(t)) => t.trim().parse().unwrap_or(0),
        other => fail(USAGE, &format!("unexpected case count answer {other:?}")),
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

async fn run_case(url: &str) -> Result<(), duplex_tokio::Error> {
    let mut ws = connect(url).await?;
    while let Some(event) = ws.next_event().await? {
        if let Event::Message(message) = event {
            let _ = ws.feed(&message);
        }
    }
    Ok(())
}
