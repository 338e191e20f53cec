//! The entry points: opening client connections (`ws://`, `wss://`, RFC 6455 §4.1) and
//! accepting server ones (RFC 6455 §4.2), with plain HTTP requests handed back to the caller so
//! one port can serve a page and a WebSocket endpoint. Written once for every async runtime
//! ([`duplex_rt_common::ws_entry_points!`]), over this crate's I/O traits and TCP stream.

duplex_rt_common::ws_entry_points! {
    read: futures_lite::io::AsyncRead,
    write: futures_lite::io::AsyncWrite,
    tcp: async_net::TcpStream,
    clock: crate::rt::SmolClock,
    rt: crate::Smol,
}
