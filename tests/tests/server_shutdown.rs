//! Graceful shutdown over real loopback sockets: a client that sent DISCONNECT still gets its
//! RECEIPT, every open WebSocket gets a close frame (1001 going away) and no STOMP ERROR, and
//! `serve` returns.

#[path = "server_util.rs"]
mod util;

use duplex_core::ws::CloseCode;
use duplex_tokio::broker::BrokerServer;
use util::{guard, start};

#[tokio::test]
async fn server_shutdown_sends_owed_receipts_and_going_away_closes() {
    let mut running = start(BrokerServer::builder()).await;
    let (handle, addr) = (running.handle.clone(), running.addr);
    guard(10, "shutdown", async {
        let mut leaving = util::raw_ws(&running).await;
        let mut idle = util::raw_ws(&running).await;
        let mut subscribed = util::raw_ws(&running).await;
        util::connect(&mut leaving, "leaving").await;
        util::connect(&mut idle, "idle").await;
        util::connect(&mut subscribed, "subscribed").await;
        util::send(
            &mut subscribed,
            "SUBSCRIBE\nid:0\ndestination:/topic/news\nreceipt:s\n\n\0",
        )
        .await;
        assert_eq!(
            util::next_frames(&mut subscribed).await.unwrap()[0]
                .command
                .as_str(),
            "RECEIPT"
        );
        // DISCONNECT goes out, and shutdown starts before anyone reads the answer.
        util::send(&mut leaving, "DISCONNECT\nreceipt:bye\n\n\0").await;
        running.handle.shutdown();

        let leaving = util::read_to_end(&mut leaving).await;
        assert_eq!(leaving.commands(), ["RECEIPT"], "{leaving:?}");
        assert_eq!(leaving.frames[0].get("receipt-id"), Some("bye"));
        let code = leaving.close.as_ref().unwrap().code;
        assert!(
            code == CloseCode::GOING_AWAY || code == CloseCode::NORMAL,
            "{leaving:?}"
        );
        for ws in [&mut idle, &mut subscribed] {
            let end = util::read_to_end(ws).await;
            assert!(end.frames.is_empty(), "no ERROR, nothing else: {end:?}");
            let close = end.close.unwrap();
            assert_eq!(close.code, CloseCode::GOING_AWAY);
            assert!(close.clean, "close handshake completed: {close:?}");
        }
        (&mut running.served).await.unwrap().unwrap();
    })
    .await;
    let stats = handle.stats();
    assert_eq!(stats.connections, 0);
    assert_eq!(stats.outbound_bytes, 0);
    // Nothing is accepted any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
