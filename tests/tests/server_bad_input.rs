//! Bad clients against the hosting API over real loopback sockets, all at once: some never send
//! CONNECT, some send garbage or oversized frames, one floods SENDs without reading, one
//! subscribes and stops reading. Meanwhile a well-behaved subscriber receives every message of
//! a normal publisher, in order; the broker's own count of buffered bytes stays under the
//! configured bounds; the non-reading subscriber is closed as a slow consumer and counted.
//!
//! Nothing here asserts speed: timeouts are failure guards only.

#[path = "server_util.rs"]
mod util;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use duplex_core::broker::{BrokerConfig, SlowConsumerPolicy};
use duplex_core::stomp::{AckMode, ClientEvent};
use duplex_core::ws::CloseCode;
use duplex_tokio::broker::BrokerServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use util::{guard, start};

const OUTBOUND_MAX: usize = 64 * 1024;
const MAX_FRAME: usize = 16 * 1024;
const BODY: usize = 1024;
/// Messages the publisher may have ahead of the good subscriber: well under `OUTBOUND_MAX`,
/// so a subscriber that keeps reading is never a slow consumer.
const WINDOW: u64 = 32;

fn config() -> BrokerConfig {
    let mut c = BrokerConfig::default();
    c.session.connect_timeout = Duration::from_millis(300);
    c.session.limits.max_frame = MAX_FRAME;
    c.session.limits.max_body = MAX_FRAME / 2;
    c.outbound.max_bytes = OUTBOUND_MAX;
    c.slow_consumer.topic = SlowConsumerPolicy::Disconnect;
    c.max_queue_depth = 100;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_bad_clients_do_not_hurt_good_ones_and_memory_stays_bounded() {
    let running = start(BrokerServer::builder().config(config())).await;
    let handle = running.handle.clone();
    // Per session: the limit, one message past it, and an ERROR.
    let per_session = (OUTBOUND_MAX + MAX_FRAME + 1024) as u64;

    guard(30, "bad input", async {
        // The well-behaved pair.
        let mut good = util::stomp(&running, "good").await;
        good.subscribe("/topic/news", AckMode::Auto, &[]).await.unwrap();
        let r = good.send("/topic/sync", "", &[], true).await.unwrap().unwrap();
        good.wait_receipt(&r).await.unwrap();
        let mut publisher = util::stomp(&running, "publisher").await;

        // (a) Never CONNECT.
        let mut silent = Vec::new();
        for _ in 0..3 {
            silent.push(util::raw_ws(&running).await);
        }
        // (b) Garbage: not STOMP, an oversized frame, not HTTP at all.
        let mut garbage = util::raw_ws(&running).await;
        util::send(&mut garbage, "HELLO\nthere:1\n\n\0").await;
        let mut oversized = util::raw_ws(&running).await;
        util::connect(&mut oversized, "big").await;
        let big = format!("SEND\ndestination:/topic/news\n\n{}\0", "x".repeat(MAX_FRAME + 1));
        util::send(&mut oversized, &big).await;
        let mut not_http = tokio::net::TcpStream::connect(running.addr).await.unwrap();
        not_http.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n\r\n").await.unwrap();

        // (c) A flood of SENDs (each asking for a RECEIPT) from a client that never reads.
        let mut flooder = util::raw_ws(&running).await;
        util::connect(&mut flooder, "flooder").await;
        let flooding = Arc::new(AtomicBool::new(true));
        let flood_sent = Arc::new(AtomicU64::new(0));
        let flood = {
            let (flooding, flood_sent) = (flooding.clone(), flood_sent.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while flooding.load(Ordering::Relaxed) {
                    let mut batch = String::new();
                    for _ in 0..50 {
                        n += 1;
                        batch.push_str(&format!(
                            "SEND\ndestination:/queue/flood\nreceipt:{n}\n\n{}\0",
                            "f".repeat(200)
                        ));
                    }
                    if flooder.send_text(&batch).await.is_err() {
                        break;
                    }
                    flood_sent.store(n, Ordering::Relaxed);
                }
            })
        };

        // (d) Subscribes, then never reads again (tiny receive buffer).
        let mut slow = util::raw_ws_small_buffer(&running).await;
        util::connect(&mut slow, "slow").await;
        util::send(&mut slow, "SUBSCRIBE\nid:0\ndestination:/topic/news\nreceipt:s\n\n\0").await;
        assert_eq!(util::next_frames(&mut slow).await.unwrap()[0].command.as_str(), "RECEIPT");

        // The good subscriber counts what it gets, checking order.
        let received = Arc::new(AtomicU64::new(0));
        let reader = {
            let received = received.clone();
            tokio::spawn(async move {
                loop {
                    match good.next_event().await.unwrap() {
                        Some(ClientEvent::Message(m)) => {
                            let seq: u64 = m.frame.get("seq").unwrap().parse().unwrap();
                            let expected = received.load(Ordering::Relaxed);
                            assert_eq!(seq, expected, "good subscriber: gap or reorder");
                            received.store(seq + 1, Ordering::Relaxed);
                            if m.frame.get("last").is_some() {
                                return good;
                            }
                        }
                        Some(ClientEvent::Receipt(_)) => {}
                        other => panic!("good subscriber: {other:?}"),
                    }
                }
            })
        };

        // A normal publisher: until the slow subscriber is cut off, then 200 more.
        let body = "p".repeat(BODY);
        let mut sent = 0u64;
        let mut peak_sampled = 0u64;
        let mut more = None::<u64>;
        loop {
            while sent >= received.load(Ordering::Relaxed) + WINDOW {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let stats = handle.stats();
            peak_sampled = peak_sampled.max(stats.outbound_bytes);
            assert!(
                stats.outbound_bytes <= stats.connections * per_session,
                "broker buffers {} bytes for {} connections",
                stats.outbound_bytes,
                stats.connections
            );
            if more.is_none() && stats.slow_consumer_disconnects > 0 {
                more = Some(sent + 200);
            }
            assert!(sent < 100_000, "the slow subscriber was never cut off");
            let last = more == Some(sent + 1);
            let seq = sent.to_string();
            let mut headers = vec![("seq", seq.as_str())];
            if last {
                headers.push(("last", "1"));
            }
            publisher.send("/topic/news", body.clone(), &headers, false).await.unwrap();
            sent += 1;
            if last {
                break;
            }
        }
        let _good = reader.await.unwrap();
        assert_eq!(received.load(Ordering::Relaxed), sent, "every message, in order");
        flooding.store(false, Ordering::Relaxed);

        // What each bad client saw.
        for mut ws in silent {
            let end = util::read_to_end(&mut ws).await;
            assert_eq!(end.commands(), ["ERROR"], "{end:?}");
            assert_eq!(end.frames[0].get("message"), Some("connect timeout"));
        }
        let end = util::read_to_end(&mut garbage).await;
        assert_eq!(end.commands(), ["ERROR"], "{end:?}");
        let end = util::read_to_end(&mut oversized).await;
        assert_eq!(end.commands(), ["ERROR"], "{end:?}");
        assert!(end.frames[0].get("message").unwrap().contains("larger than"), "{end:?}");
        let mut answer = Vec::new();
        not_http.read_to_end(&mut answer).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&answer));

        // The slow subscriber, reading again at last: its backlog, the ERROR, the close.
        let end = util::read_to_end(&mut slow).await;
        let error = end.frames.last().unwrap();
        assert_eq!(error.command.as_str(), "ERROR", "{:?}", end.commands().last());
        assert!(error.get("message").unwrap().starts_with("slow consumer"), "{error:?}");
        assert_eq!(end.close.unwrap().code, CloseCode::NORMAL);
        let delivered = end.frames.len() as u64 - 1;
        assert!(delivered < sent, "it was cut off: {delivered} of {sent}");

        // The flooder got through some SENDs, and the queue it filled stayed bounded.
        // It may be stuck writing (we stop reading a peer whose output is stuck): just drop it.
        flood.abort();
        assert!(flood_sent.load(Ordering::Relaxed) > 0);
        let stats = handle.stats();
        assert!(stats.queue_overflow > 0, "{stats:?}");
        assert!(stats.slow_consumer_disconnects >= 1);
        assert!(
            stats.outbound_peak <= per_session,
            "one session's backlog peaked at {} > {per_session}",
            stats.outbound_peak
        );
        eprintln!(
            "published {sent}, slow subscriber got {delivered} before the cut; flooder sent {} SENDs; \
             broker outbound peak {} B per session, {peak_sampled} B all sessions (sampled)",
            flood_sent.load(Ordering::Relaxed),
            stats.outbound_peak
        );
    })
    .await;
}
