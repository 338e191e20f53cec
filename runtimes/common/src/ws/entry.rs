//! [`ws_entry_points!`](crate::ws_entry_points): the public WebSocket entry points of an async
//! adapter — `connect`, `connect_with`, `handshake`, `Incoming`, `HttpResponder`, `accept`,
//! `accept_with` — written once. They differ between tokio and smol only in the I/O traits and
//! TCP type they name; the handshake itself is [`client_handshake`](super::client_handshake) and
//! [`server_handshake`](super::server_handshake).

/// Define the WebSocket entry points of an adapter crate laid out like `duplex-tokio` (see
/// [`impl_adapter_glue!`](crate::impl_adapter_glue)): `read`/`write` are its I/O traits, `tcp` its
/// TCP stream, `clock` its [`Clock`](crate::runtime::Clock) (a wrapper whose field `0` is the clock
/// its `WebSocket::from_parts` takes), `rt` its [`Runtime`](crate::runtime::Runtime). Expands to
/// items for the crate's `ws` module; it needs `crate::ws::{WebSocket, Io}`, `crate::tls::connector`,
/// `crate::MaybeTlsStream` and `crate::Error`.
// `crate::…` names the calling adapter crate's items, on purpose.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! ws_entry_points {
    (
        read: $read:path,
        write: $write:path,
        tcp: $tcp:ty,
        clock: $clock:ty,
        rt: $rt:ty $(,)?
    ) => {
        pub use $crate::{AcceptOptions, ConnectOptions};

        /// Connect to a `ws://` or `wss://` URL with default options.
        pub async fn connect(
            url: &str,
        ) -> Result<crate::ws::WebSocket<crate::MaybeTlsStream>, crate::Error> {
            connect_with(url, ConnectOptions::default()).await
        }

        /// Connect to a `ws://` or `wss://` URL.
        pub async fn connect_with(
            url: &str,
            options: ConnectOptions,
        ) -> Result<crate::ws::WebSocket<crate::MaybeTlsStream>, crate::Error> {
            let url = $crate::duplex_core::ws::WsUrl::parse(url)?;
            let tcp = <$tcp>::connect((url.host.as_str(), url.port)).await?;
            tcp.set_nodelay(true)?;
            let stream = if url.secure {
                let config = options
                    .tls
                    .clone()
                    .unwrap_or_else($crate::tls::client_config_webpki);
                let name = $crate::tls::server_name(&url.host)?;
                let tls = crate::tls::connector(config).connect(name, tcp).await?;
                crate::MaybeTlsStream::Tls(Box::new(tls.into()))
            } else {
                crate::MaybeTlsStream::Plain(tcp)
            };
            handshake(stream, &url, options).await
        }

        /// Run the client handshake over a stream you opened yourself.
        pub async fn handshake<S: $read + $write + Unpin>(
            mut io: S,
            url: &$crate::duplex_core::ws::WsUrl,
            options: ConnectOptions,
        ) -> Result<crate::ws::WebSocket<S>, crate::Error> {
            let clock = <$clock as $crate::runtime::Clock>::start();
            let rng = <$rt as $crate::runtime::Runtime>::rng();
            let parts =
                $crate::ws::client_handshake(&mut crate::ws::Io(&mut io), url, options, clock, rng)
                    .await?;
            Ok(crate::ws::WebSocket::from_parts(
                io,
                parts.conn,
                clock.0,
                parts.protocol,
                &parts.leftover,
            ))
        }

        /// What arrived on an accepted stream.
        #[derive(Debug)]
        pub enum Incoming<S> {
            /// A WebSocket upgrade, accepted.
            WebSocket(
                Box<crate::ws::WebSocket<S>>,
                $crate::duplex_core::ws::handshake::RequestHead,
            ),
            /// A plain HTTP request: answer it with [`HttpResponder::respond`].
            Http(
                $crate::duplex_core::ws::handshake::RequestHead,
                Box<HttpResponder<S>>,
            ),
        }

        /// Answers one plain HTTP request, then closes the stream.
        #[derive(Debug)]
        pub struct HttpResponder<S> {
            io: S,
            machine: Box<$crate::duplex_core::ws::handshake::ServerHandshake>,
        }

        impl<S: $read + $write + Unpin> HttpResponder<S> {
            /// Write `response` (see
            /// [`http_response`]($crate::duplex_core::ws::handshake::http_response)) and close.
            pub async fn respond(
                mut self,
                response: $crate::__private::Bytes,
            ) -> Result<(), crate::Error> {
                let io = &mut crate::ws::Io(&mut self.io);
                $crate::ws::answer_http(io, &mut self.machine, Some(response)).await
            }

            /// Answer `426 Upgrade Required` and close.
            pub async fn reject(mut self) -> Result<(), crate::Error> {
                let io = &mut crate::ws::Io(&mut self.io);
                $crate::ws::answer_http(io, &mut self.machine, None).await
            }
        }

        /// Accept a WebSocket connection with default options; a plain HTTP request gets `426`.
        pub async fn accept<S: $read + $write + Unpin>(
            io: S,
        ) -> Result<crate::ws::WebSocket<S>, crate::Error> {
            match accept_with(io, AcceptOptions::default()).await? {
                Incoming::WebSocket(ws, _) => Ok(*ws),
                Incoming::Http(_, responder) => {
                    responder.reject().await?;
                    Err(crate::Error::Handshake(
                        $crate::duplex_core::ws::handshake::HandshakeError::NotUpgrade,
                    ))
                }
            }
        }

        /// Run the server handshake. Refused requests are answered (400, 403, 408, 426, 431…)
        /// and end in `Err(Error::Handshake)`.
        pub async fn accept_with<S: $read + $write + Unpin>(
            mut io: S,
            options: AcceptOptions,
        ) -> Result<Incoming<S>, crate::Error> {
            use $crate::ws::ServerParts;
            let clock = <$clock as $crate::runtime::Clock>::start();
            let parts =
                $crate::ws::server_handshake(&mut crate::ws::Io(&mut io), options, clock).await?;
            Ok(match parts {
                ServerParts::Upgraded {
                    conn,
                    request,
                    protocol,
                    leftover,
                } => Incoming::WebSocket(
                    Box::new(crate::ws::WebSocket::from_parts(
                        io, *conn, clock.0, protocol, &leftover,
                    )),
                    request,
                ),
                ServerParts::Http(request, machine) => {
                    Incoming::Http(request, Box::new(HttpResponder { io, machine }))
                }
            })
        }
    };
}
