//! Test your app deterministically: your `/app` handler and your client logic, run by the
//! simulator on virtual time over a seeded, faulty network, with a fault injected on purpose.
//!
//! `cargo run -p duplex-sim --example deterministic_app` (`DUPLEX_SEED=N` picks another seed).

use bytes::Bytes;
use duplex_core::broker::{AppMessage, Broker, HandlerContext};
use duplex_core::stomp::{AckMode, ClientConfig, ClientEvent, HeartBeat};
use duplex_sim::{ClientCx, ClientLogic, SimConfig, World};
use std::time::Duration;

/// The server side of the app: `/app/greet` answers on `/topic/greetings`.
fn register(broker: &mut Broker) {
    broker
        .register_handler("/app/greet", |ctx: &mut HandlerContext, m: &AppMessage| {
            let name = String::from_utf8_lossy(m.body()).into_owned();
            ctx.publish("/topic/greetings", format!("hello, {name}"));
        })
        .expect("under /app");
}

/// The client side: subscribe, then greet every 200 ms; count the answers.
#[derive(Default)]
struct Greeter {
    greetings: usize,
}

impl ClientLogic for Greeter {
    fn on_connected(&mut self, cx: &mut ClientCx<'_>) {
        cx.subscribe("/topic/greetings", AckMode::Auto, true)
            .unwrap();
        let at = cx.now() + Duration::from_millis(200);
        cx.wake_at(at);
    }

    fn on_event(&mut self, _cx: &mut ClientCx<'_>, event: &ClientEvent) {
        if let ClientEvent::Message(m) = event {
            assert!(m.body().starts_with(b"hello, "));
            self.greetings += 1;
        }
    }

    fn on_wake(&mut self, cx: &mut ClientCx<'_>) {
        if cx.is_connected() {
            let name = format!("client{}", cx.client());
            let _ = cx.send("/app/greet", Bytes::from(name), true);
        }
        let at = cx.now() + Duration::from_millis(200);
        cx.wake_at(at);
    }
}

fn main() {
    let seed = std::env::var("DUPLEX_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut config = SimConfig::new(seed);
    config.broker.session.heart_beat = HeartBeat::from_millis(500, 500);
    let mut world = World::new(config, register);
    for _ in 0..3 {
        let mut stomp = ClientConfig::new("sim");
        stomp.heart_beat = HeartBeat::from_millis(500, 500);
        world.add_client(Greeter::default(), stomp);
    }
    let run = (|| {
        world.run_for(Duration::from_secs(2))?;
        world.reset(0); // client 0's connection drops; its logic reconnects
        world.pause_client(1, Duration::from_secs(3)); // past its heart-beat deadline
        world.run_for(Duration::from_secs(5))?;
        world.restart_server(Duration::from_millis(300)); // everyone reconnects
        world.run_for(Duration::from_secs(5))
    })();
    if let Err(e) = run {
        eprintln!("{e}"); // ends with "reproduce with DUPLEX_SEED=…"
        std::process::exit(1);
    }
    for i in 0..world.client_count() {
        println!("client {i}: {} greetings", world.client(i).greetings);
        assert!(world.client(i).greetings > 0);
    }
    println!(
        "seed {seed}: {:?} (run it again: the same trace hash)",
        world.stats()
    );
}
