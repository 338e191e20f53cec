//! Runs the STOMP client through a fixed scenario against a real broker (RabbitMQ, or our own
//! `duplex` server): connect with heart-beats, subscribe, send with receipts, receive,
//! client-individual ACK and NACK (redelivery), a transaction, heart-beats held through silence,
//! and a graceful disconnect. Prints one line per step; exit status 0 when all pass.
//!
//! The scenario is written once (`duplex_examples::stomp_scenario`) and runs on the runtime that
//! `--runtime` picks.
//!
//! `stomp-interop [--runtime tokio|smol|mio] --tcp 127.0.0.1:61613 | --ws ws://127.0.0.1:15674/ws
//! [--host /] [--login guest --passcode guest] [--hold-secs 10] [--queue-prefix /queue/]`

use std::time::Duration;

use duplex_core::stomp::{ClientConfig, HeartBeat};
use duplex_examples::stomp_scenario::{self, ScenarioClient, ScenarioOptions, Target, TokioClient};
use duplex_examples::{fail, Args, Runtime};

const USAGE: &str = "usage: stomp-interop [--runtime tokio|smol|mio] (--tcp HOST:PORT | --ws URL) [--host VHOST] [--login L --passcode P] [--hold-secs N] [--queue-prefix /queue/] [--topic-prefix /topic/]";

fn main() {
    let args = Args::parse(USAGE);
    let runtime = Runtime::parse(&args.get_or("runtime", "tokio"), USAGE);
    match run(&args, runtime) {
        Ok(()) => println!("stomp-interop ({runtime:?}): all steps OK"),
        Err(why) => {
            println!("stomp-interop ({runtime:?}): FAILED: {why}");
            std::process::exit(1);
        }
    }
}

fn run(args: &Args, runtime: Runtime) -> Result<(), String> {
    let target = match (args.get("tcp"), args.get("ws")) {
        (Some(addr), None) => Target::Tcp(addr),
        (None, Some(url)) => Target::Ws(url),
        _ => fail(USAGE, "give exactly one of --tcp and --ws"),
    };
    let mut config = ClientConfig::new(args.get_or("host", "/"));
    config.login = args.get("login");
    config.passcode = args.get("passcode");
    config.heart_beat = HeartBeat {
        can_send: Duration::from_millis(1000),
        want_receive: Duration::from_millis(1000),
    };
    let tag = std::process::id();
    let options = ScenarioOptions {
        hold: Duration::from_secs(args.get_or("hold-secs", "10").parse().unwrap_or(10)),
        queue: format!(
            "{}duplex-interop-{tag}",
            args.get_or("queue-prefix", "/queue/")
        ),
        topic: format!(
            "{}duplex-interop-{tag}",
            args.get_or("topic-prefix", "/topic/")
        ),
    };
    let client: Box<dyn ScenarioClient> = match runtime {
        Runtime::Tokio => TokioClient::connect(&target, config)?,
        Runtime::Smol => duplex_examples::smol_rt::SmolClient::connect(&target, config)?,
        Runtime::Mio => duplex_examples::mio_rt::MioClient::connect(&target, config)?,
    };
    stomp_scenario::run(client, &options)
}
