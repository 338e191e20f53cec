//! The `duplex` binary on SIGTERM (and SIGINT), on each runtime: an open STOMP session gets a
//! 1001 close frame (no ERROR) and the process exits 0.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use duplex_core::ws::{CloseCode, Event};
use duplex_tokio::ws::{connect_with, ConnectOptions};

#[tokio::test]
async fn sigterm_closes_sessions_with_going_away_and_exits_zero() {
    stop_with_signal("tokio", "-TERM").await;
}

#[tokio::test]
async fn smol_sigterm_closes_sessions_with_going_away_and_exits_zero() {
    stop_with_signal("smol", "-TERM").await;
}

#[tokio::test]
async fn smol_sigint_closes_sessions_with_going_away_and_exits_zero() {
    stop_with_signal("smol", "-INT").await;
}

#[tokio::test]
async fn mio_sigterm_closes_sessions_with_going_away_and_exits_zero() {
    stop_with_signal("mio", "-TERM").await;
}

#[tokio::test]
async fn mio_sigint_closes_sessions_with_going_away_and_exits_zero() {
    stop_with_signal("mio", "-INT").await;
}

/// Start `duplex --runtime RUNTIME`, open a STOMP session, send `signal` (a `kill` option), and
/// expect a 1001 close without ERROR, then exit status 0.
async fn stop_with_signal(runtime: &str, signal: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_duplex"))
        .args(["--runtime", runtime, "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("a listening line").unwrap();
        if let Some(at) = line.find("http://") {
            let rest = &line[at + "http://".len()..];
            break rest[..rest.find('/').unwrap()].to_owned();
        }
    };
    let pid = child.id().to_string();
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        let options = ConnectOptions {
            protocols: vec!["v12.stomp".into()],
            ..ConnectOptions::default()
        };
        let mut ws = connect_with(&format!("ws://{addr}/ws"), options)
            .await
            .unwrap();
        ws.send_text("CONNECT\naccept-version:1.2\nhost:h\nheart-beat:0,0\n\n\0")
            .await
            .unwrap();
        match ws.next_event().await.unwrap() {
            Some(Event::Message(m)) => assert!(m.payload().starts_with(b"CONNECTED\n")),
            other => panic!("{other:?}"),
        }
        let killed = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(killed.success());
        let mut messages = Vec::new();
        while let Some(event) = ws.next_event().await.unwrap() {
            if let Event::Message(m) = event {
                messages.push(m);
            }
        }
        assert!(messages.is_empty(), "no ERROR: {messages:?}");
        assert_eq!(ws.close_info().unwrap().code, CloseCode::GOING_AWAY);
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "{status:?}");
    })
    .await;
    if outcome.is_err() {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("{runtime}: the server did not shut down within the guard");
    }
}
