//! The examples on `duplex-smol`: echo server (Autobahn target), echo client (Autobahn driver).

use crate::Args;

/// `echo-server --runtime smol`: serve WebSocket echo on `--listen` (wss with `--tls-cert/--tls-key`).
pub fn echo_server(_args: &Args) -> Result<(), String> {
    Err("echo-server is not available on smol yet".into())
}

/// `echo-client --runtime smol`: drive an Autobahn fuzzing server at `url` as `agent`.
pub fn echo_client(_url: &str, _agent: &str) -> Result<(), String> {
    Err("echo-client is not available on smol yet".into())
}
