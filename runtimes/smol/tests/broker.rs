//! `duplex_smol::broker` over loopback: a synchronous and an async `/app` handler, a publish
//! from the handle, and a graceful shutdown that ends connected sessions and returns from
//! `serve`. (Topic and queue semantics across runtimes: `tests/tests/cross_runtime.rs`.)

use std::time::Duration;

use duplex_core::broker::{AppMessage, HandlerContext};
use duplex_core::stomp::{AckMode, ClientConfig, ClientEvent};
use duplex_smol::broker::BrokerServer;
use duplex_smol::stomp::StompClient;
use futures_lite::future;
use smol::net::TcpListener;

/// The next MESSAGE body within 5 s.
async fn next_body(c: &mut StompClient) -> Vec<u8> {
    let wait = async {
        loop {
            match c.next_event().await.unwrap() {
                Some(ClientEvent::Message(m)) => return m.body().to_vec(),
                Some(ClientEvent::Receipt(_)) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    future::or(wait, async {
        smol::Timer::after(Duration::from_secs(5)).await;
        panic!("no message within 5 s")
    })
    .await
}

#[test]
fn handlers_publish_and_graceful_shutdown() {
    smol::block_on(async {
        let server = BrokerServer::builder()
            .endpoint("/ws")
            .handler("/app/shout", |ctx: &mut HandlerContext, m: &AppMessage| {
                ctx.publish("/topic/shouts", m.body().to_ascii_uppercase());
            })
            .async_handler("/app/count", |m, ctx| async move {
                smol::Timer::after(Duration::from_millis(10)).await;
                ctx.reply_to_user("/queue/answers", &[], format!("{} bytes", m.body().len()));
            })
            .shutdown_grace(Duration::from_secs(2))
            .build()
            .unwrap();
        let handle = server.handle();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = smol::spawn(server.serve(listener));

        let mut config = ClientConfig::new("localhost");
        config.login = Some("carol".into());
        let mut c = StompClient::connect_ws(&format!("ws://{addr}/ws"), config)
            .await
            .unwrap();
        c.subscribe("/topic/shouts", AckMode::Auto, &[])
            .await
            .unwrap();
        c.subscribe("/user/queue/answers", AckMode::Auto, &[])
            .await
            .unwrap();
        let r = c
            .send("/app/shout", "hello", &[], true)
            .await
            .unwrap()
            .unwrap();
        c.wait_receipt(&r).await.unwrap();
        assert_eq!(next_body(&mut c).await, b"HELLO");
        c.send("/app/count", "four", &[], false).await.unwrap();
        assert_eq!(next_body(&mut c).await, b"4 bytes");
        handle
            .publish("/topic/shouts", &[], "from the handle")
            .unwrap();
        assert_eq!(next_body(&mut c).await, b"from the handle");

        // Shutdown: the session ends (no ERROR), and `serve` returns.
        handle.shutdown();
        assert!(handle.is_shutting_down());
        let ended = future::or(
            async {
                loop {
                    match c.next_event().await {
                        Ok(Some(ClientEvent::Error(f))) => panic!("ERROR on shutdown: {f:?}"),
                        Ok(Some(_)) => continue,
                        Ok(None) | Err(_) => return true,
                    }
                }
            },
            async {
                smol::Timer::after(Duration::from_secs(10)).await;
                false
            },
        )
        .await;
        assert!(ended, "the session did not end on shutdown");
        serving.await.unwrap();
        assert_eq!(handle.host_stats().accepted, 1);
    })
}
