//! What the peer echo servers (`examples/peer-*.rs`) share: their two flags and the runtime, so
//! that every server in a comparison runs on the same tokio flavour as Duplex's `echo-server`.
//!
//! `peer-NAME [--listen 127.0.0.1:9001] [--threads N]`: `--threads 1` (the default) is a
//! current-thread runtime; more is a multi-thread runtime with that many workers.

use std::future::Future;

/// Parsed peer flags.
#[derive(Clone, Debug)]
pub struct PeerArgs {
    /// Address to listen on.
    pub listen: String,
    /// Runtime worker threads.
    pub threads: usize,
}

impl PeerArgs {
    /// Parse the process arguments; exits with a usage message on anything else.
    pub fn parse(name: &str) -> PeerArgs {
        let usage = format!("usage: {name} [--listen 127.0.0.1:9001] [--threads N]");
        let mut args = PeerArgs {
            listen: String::from("127.0.0.1:9001"),
            threads: 1,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next().unwrap_or_else(|| {
                    eprintln!("{flag} needs a value\n{usage}");
                    std::process::exit(2)
                })
            };
            match flag.as_str() {
                "--listen" => args.listen = value(),
                "--threads" => {
                    args.threads = value().parse().unwrap_or_else(|_| {
                        eprintln!("--threads: a number\n{usage}");
                        std::process::exit(2)
                    })
                }
                _ => {
                    eprintln!("unexpected argument {flag:?}\n{usage}");
                    std::process::exit(2)
                }
            }
        }
        args
    }

    /// Run `server` on the runtime the flags ask for.
    pub fn run<F: Future>(&self, server: F) -> F::Output {
        let rt = if self.threads <= 1 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(self.threads)
                .enable_all()
                .build()
        };
        rt.expect("tokio runtime").block_on(server)
    }
}
