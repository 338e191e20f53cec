//! [`impl_adapter_glue!`]: the [`Host`](super::Host), [`Dial`](super::Dial),
//! [`StompTransport`](crate::stomp::StompTransport),
//! [`HttpAnswer`](super::HttpAnswer) and [`MessageSocket`](super::MessageSocket) impls of an async
//! runtime crate laid out like `duplex-tokio` and `duplex-smol`. Those crates have the same
//! shape — `ws::{accept_with, connect_with, WebSocket, HttpResponder, Incoming}`,
//! `ws::Io` (its streams as a [`ByteStream`](crate::ws::ByteStream)), `MaybeTlsStream::{Plain,
//! Tls}`, `stomp::Transport::{Stream, WebSocket}`, `Error` — and their
//! socket and TLS types have the same method names, so the impls differ only in the types named.

/// Implement the hosting and dialing traits for `runtime` in a crate laid out like
/// `duplex-tokio` (`ws::{accept_with, connect_with, WebSocket, HttpResponder, Incoming, Io}`,
/// `MaybeTlsStream::{Plain, Tls}`, `stomp::Transport::{Stream, WebSocket}`, `Error`): `listener` and `tcp` are its TCP types,
/// `tls_acceptor` its rustls acceptor (`accept(tcp)`, whose stream converts into the TLS
/// variant of `MaybeTlsStream`).
// `crate::…` names the calling adapter crate's items, on purpose.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! impl_adapter_glue {
    (runtime: $rt:ty, listener: $listener:ty, tcp: $tcp:ty, tls_acceptor: $acceptor:ty $(,)?) => {
        $crate::impl_message_socket!(crate::ws::WebSocket<crate::MaybeTlsStream>);

        impl $crate::runtime::HttpAnswer for crate::ws::HttpResponder<crate::MaybeTlsStream> {
            async fn respond(
                self,
                response: $crate::__private::Bytes,
            ) -> Result<(), $crate::Error> {
                crate::ws::HttpResponder::respond(self, response).await
            }

            async fn reject(self) -> Result<(), $crate::Error> {
                crate::ws::HttpResponder::reject(self).await
            }
        }

        impl $crate::runtime::Host for $rt {
            type Listener = $listener;
            type Tcp = $tcp;
            type Stream = crate::MaybeTlsStream;
            type TlsAcceptor = $acceptor;
            type Socket = crate::ws::WebSocket<crate::MaybeTlsStream>;
            type Responder = crate::ws::HttpResponder<crate::MaybeTlsStream>;

            async fn accept(
                listener: &$listener,
            ) -> ::std::io::Result<($tcp, ::std::net::SocketAddr)> {
                let (tcp, peer) = listener.accept().await?;
                let _ = tcp.set_nodelay(true);
                Ok((tcp, peer))
            }

            fn plain(tcp: $tcp) -> crate::MaybeTlsStream {
                crate::MaybeTlsStream::Plain(tcp)
            }

            async fn tls_accept(
                acceptor: &$acceptor,
                tcp: $tcp,
            ) -> ::std::io::Result<crate::MaybeTlsStream> {
                let stream = acceptor.accept(tcp).await?;
                Ok(crate::MaybeTlsStream::Tls(Box::new(stream.into())))
            }

            async fn accept_ws(
                stream: crate::MaybeTlsStream,
                options: $crate::AcceptOptions,
            ) -> Result<$crate::runtime::Accepted<Self::Socket, Self::Responder>, $crate::Error>
            {
                use crate::ws::Incoming;
                use $crate::runtime::Accepted;
                Ok(match crate::ws::accept_with(stream, options).await? {
                    Incoming::WebSocket(ws, request) => Accepted::WebSocket(*ws, request),
                    Incoming::Http(request, responder) => Accepted::Http(request, *responder),
                })
            }
        }

        impl $crate::stomp::StompTransport for crate::stomp::Transport {
            fn protocol(&self) -> Option<&str> {
                match self {
                    Self::Stream(_) => None,
                    Self::WebSocket(ws) => $crate::runtime::MessageSocket::protocol(ws.as_ref()),
                }
            }

            async fn read(
                &mut self,
                scratch: &mut [u8],
                buf: &mut $crate::__private::BytesMut,
            ) -> Result<usize, $crate::Error> {
                match self {
                    Self::Stream(s) => {
                        $crate::stomp::read_stream(&mut crate::ws::Io(s), scratch, buf).await
                    }
                    Self::WebSocket(ws) => $crate::stomp::read_ws(ws.as_mut(), buf).await,
                }
            }

            async fn write(&mut self, data: $crate::__private::Bytes) -> Result<(), $crate::Error> {
                match self {
                    Self::Stream(s) => {
                        $crate::stomp::write_stream(&mut crate::ws::Io(s), data).await
                    }
                    Self::WebSocket(ws) => $crate::stomp::write_ws(ws.as_mut(), data).await,
                }
            }

            async fn close(&mut self) -> Result<(), $crate::Error> {
                match self {
                    Self::Stream(s) => $crate::stomp::close_stream(&mut crate::ws::Io(s)).await,
                    Self::WebSocket(ws) => $crate::stomp::close_ws(ws.as_mut()).await,
                }
            }
        }

        impl $crate::runtime::Dial for $rt {
            type Transport = crate::stomp::Transport;

            async fn connect_tcp(addr: &str) -> Result<crate::stomp::Transport, $crate::Error> {
                let tcp = <$tcp>::connect(addr).await?;
                tcp.set_nodelay(true)?;
                Ok(crate::stomp::Transport::Stream(
                    crate::MaybeTlsStream::Plain(tcp),
                ))
            }

            async fn connect_ws(
                url: &str,
                options: $crate::ConnectOptions,
            ) -> Result<crate::stomp::Transport, $crate::Error> {
                let ws = crate::ws::connect_with(url, options).await?;
                Ok(crate::stomp::Transport::WebSocket(Box::new(ws)))
            }
        }
    };
}
