//! The client side of the opening handshake (RFC 6455 §4.1) over a stream the runtime opened.

use duplex_core::ws::handshake::{ClientHandshake, ClientOutcome, ClientRequest};
use duplex_core::ws::{Connection, WsUrl};

use super::handshake::drive;
use super::{ByteStream, ConnectOptions};
use crate::runtime::Clock;
use crate::Error;

/// What a completed client handshake leaves for the runtime's `WebSocket`.
#[derive(Debug)]
pub struct ClientParts {
    /// The client connection machine.
    pub conn: Connection,
    /// The subprotocol the server selected.
    pub protocol: Option<String>,
    /// What was read past the handshake head.
    pub leftover: bytes::BytesMut,
}

/// Run the client handshake for `url` over `io`, mask keys and `Sec-WebSocket-Key` from `rng`.
pub async fn client_handshake<B: ByteStream, C: Clock>(
    io: &mut B,
    url: &WsUrl,
    options: ConnectOptions,
    clock: C,
    mut rng: duplex_core::SeededRng,
) -> Result<ClientParts, Error> {
    let mut request = ClientRequest::new(url.host_header(), url.resource.clone());
    request.protocols = options.protocols;
    request.origin = options.origin;
    request.extra_headers = options.headers;
    let mut machine = ClientHandshake::new(clock.now(), request, &mut rng);
    match drive(&mut machine, io, clock).await? {
        ClientOutcome::Accepted {
            protocol, leftover, ..
        } => Ok(ClientParts {
            conn: Connection::client(clock.now(), options.config, Box::new(rng)),
            protocol,
            leftover,
        }),
        ClientOutcome::Failed(e) => Err(e.into()),
    }
}
