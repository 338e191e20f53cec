//! Replay one seed of the chat scenario and print its options, statistics and coverage (or the
//! failure): `cargo run -p duplex-sim --example replay -- 42` (or `DUPLEX_SEED=42`).

use duplex_sim::scenario::{run_chat, schedule, Options};

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DUPLEX_SEED").ok())
        .and_then(|s| s.parse().ok())
        .expect("usage: replay SEED");
    let clients = std::env::args().nth(2).and_then(|n| n.parse().ok());
    let options = Options::draw(seed, clients);
    println!("{options:#?}");
    let ops = schedule(seed, &options);
    match run_chat(seed, &options, &ops) {
        Ok(r) => println!("{:#?}\n{:#?}", r.stats, r.coverage),
        Err(e) => {
            println!("{e}");
            std::process::exit(1);
        }
    }
}
