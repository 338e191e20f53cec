//! The tokio hosting API (`duplex_tokio::broker::BrokerServer`) over real loopback sockets:
//! sync and async `/app` handlers, replies to topics, users and the sending session only,
//! plain HTTP on the same port, the endpoint path, and a timer that is not woken by traffic.

#[path = "server_util.rs"]
mod util;

use duplex_core::broker::{AppMessage, HandlerContext};
use duplex_core::stomp::{AckMode, ClientEvent};
use duplex_core::ws::handshake::http_response;
use duplex_tokio::broker::BrokerServer;
use duplex_tokio::stomp::StompClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use util::{guard, start};

/// The bodies of the next `n` MESSAGEs.
async fn bodies(c: &mut StompClient, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        match c.next_event().await.unwrap() {
            Some(ClientEvent::Message(m)) => {
                out.push(String::from_utf8_lossy(&m.frame.body).into_owned())
            }
            Some(ClientEvent::Receipt(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

#[tokio::test]
async fn server_sync_and_async_handlers_reply_to_topic_user_and_session() {
    let running = start(
        BrokerServer::builder()
            .handler(
                "/app/shout/{room}",
                |ctx: &mut HandlerContext, m: &AppMessage| {
                    let room = m.var("room").unwrap().to_owned();
                    let text = String::from_utf8_lossy(m.body()).to_uppercase();
                    ctx.publish(&format!("/topic/{room}"), text);
                },
            )
            .async_handler("/app/later", |m, ctx| async move {
                tokio::task::yield_now().await;
                let body = format!("later: {}", String::from_utf8_lossy(m.body()));
                ctx.reply_to_user("/queue/replies", &[], body.clone());
                ctx.reply_to_session("/queue/mine", &[], body);
            })
            .http(|request, handle| {
                (request.path == "/metrics").then(|| {
                    http_response(
                        200,
                        "OK",
                        &[("Content-Type", "text/plain")],
                        handle.metrics().as_bytes(),
                    )
                })
            }),
    )
    .await;
    guard(10, "handlers", async {
        let mut a1 = util::stomp(&running, "alice").await;
        let mut a2 = util::stomp(&running, "alice").await;
        let mut bob = util::stomp(&running, "bob").await;
        for c in [&mut a1, &mut a2, &mut bob] {
            c.subscribe("/topic/lobby", AckMode::Auto, &[])
                .await
                .unwrap();
            c.subscribe("/user/queue/replies", AckMode::Auto, &[])
                .await
                .unwrap();
            c.subscribe("/user/queue/mine", AckMode::Auto, &[])
                .await
                .unwrap();
            let r = c.send("/topic/sync", "", &[], true).await.unwrap().unwrap();
            c.wait_receipt(&r).await.unwrap();
        }
        bob.send("/app/shout/lobby", "hi", &[], false)
            .await
            .unwrap();
        for c in [&mut a1, &mut a2, &mut bob] {
            assert_eq!(bodies(c, 1).await, ["HI"]);
        }
        a1.send("/app/later", "x", &[], false).await.unwrap();
        let mut got = bodies(&mut a1, 2).await;
        got.sort();
        assert_eq!(got, ["later: x", "later: x"], "user-wide and session-only");
        assert_eq!(bodies(&mut a2, 1).await, ["later: x"], "user-wide only");
        // Bob hears nothing of Alice's: a SEND he gets next proves nothing came before it.
        running
            .handle
            .publish("/topic/lobby", &[], "fence")
            .unwrap();
        assert_eq!(bodies(&mut bob, 1).await, ["fence"]);

        // Plain HTTP on the same port: the handler's answer, 404 for None.
        for (path, status) in [("/metrics", "200"), ("/nope", "404")] {
            let mut tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap();
            tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut answer = String::new();
            tcp.read_to_string(&mut answer).await.unwrap();
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {status}")),
                "{answer}"
            );
            if status == "200" {
                assert!(answer.contains("duplex_messages_out_total"), "{answer}");
                assert!(answer.contains("duplex_http_requests_total"), "{answer}");
            }
        }
        // A WebSocket to another path is closed with 1008.
        let url = format!("ws://{}/elsewhere", running.addr);
        let mut ws = duplex_tokio::ws::connect(&url).await.unwrap();
        let end = util::read_to_end(&mut ws).await;
        assert_eq!(
            end.close.unwrap().code,
            duplex_core::ws::CloseCode::POLICY_VIOLATION
        );
    })
    .await;
    assert!(running.handle.host_stats().http_requests >= 2);
}

#[tokio::test]
async fn server_timer_task_is_not_woken_by_traffic() {
    let running = start(BrokerServer::builder()).await;
    guard(10, "traffic", async {
        let mut sub = util::stomp(&running, "sub").await;
        let mut publisher = util::stomp(&running, "pub").await;
        sub.subscribe("/topic/t", AckMode::Auto, &[]).await.unwrap();
        let r = sub
            .send("/topic/sync", "", &[], true)
            .await
            .unwrap()
            .unwrap();
        sub.wait_receipt(&r).await.unwrap();
        let before = running.handle.host_stats().timer_wakeups;
        for i in 0..300 {
            publisher
                .send("/topic/t", format!("{i}"), &[], false)
                .await
                .unwrap();
        }
        assert_eq!(bodies(&mut sub, 300).await.last().unwrap(), "299");
        // No session has a deadline (no heart-beats, all connected): nothing to wake for.
        assert_eq!(running.handle.host_stats().timer_wakeups, before);
        // A new connection has a CONNECT deadline later than none: one wake-up at most.
        let _third = util::stomp(&running, "third").await;
        assert!(running.handle.host_stats().timer_wakeups <= before + 1);
    })
    .await;
}
