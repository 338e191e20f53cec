//! A minimal WebSocket client wire layer for the load generators (`loadgen`, `fanout`): the
//! opening handshake (RFC 6455 §4.1) and frame encoding/decoding (§5.2), written here rather than
//! taken from the code under test, so that the same client measures every server.
//!
//! It is deliberately small and fast: frames are parsed in place from one receive buffer, payloads
//! are handed out as slices, and nothing is allocated per frame once the buffer has grown.
//! Frames from the server may be masked or not: a raw TCP echo sends the client's masked frames
//! back byte for byte, and [`FrameBuf::next_frame`] accepts them (the payload is then still masked,
//! see [`Frame::mask`]).
//!
//! The handshake and the reads are generic over the stream: plain TCP or TLS ([`tls_connector`]).

use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// The fixed `Sec-WebSocket-Key` every connection sends (the value from RFC 6455 §1.3). A load
/// generator does not need fresh keys; servers must not care.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The GET request that opens a WebSocket on `path`, offering `protocols` (comma-separated) when
/// given.
pub fn upgrade_request(host: &str, path: &str, protocols: Option<&str>) -> Vec<u8> {
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(p) = protocols {
        req.push_str("Sec-WebSocket-Protocol: ");
        req.push_str(p);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.into_bytes()
}

/// Send `request` and read the response head; `101` or an error. Bytes read past the head are
/// left in `buf` (a server may send frames right after its 101).
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    buf: &mut FrameBuf,
) -> io::Result<()> {
    stream.write_all(request).await?;
    stream.flush().await?;
    loop {
        if let Some(end) = find(buf.filled(), b"\r\n\r\n") {
            let head = &buf.filled()[..end];
            let ok = head.starts_with(b"HTTP/1.1 101");
            if !ok {
                let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
                return Err(io::Error::other(format!(
                    "handshake refused: {}",
                    String::from_utf8_lossy(line)
                )));
            }
            buf.consume(end + 4);
            return Ok(());
        }
        if buf.read_from(stream).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// The first index of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// XOR `buf` with `key` (RFC 6455 §5.3), starting at key byte 0.
pub fn mask(buf: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes(c.try_into().expect("8 bytes")) ^ wide;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// Append one final, masked frame with `opcode` and `payload` to `out`.
pub fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], key: [u8; 4]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
    let start = out.len();
    out.extend_from_slice(payload);
    mask(&mut out[start..], key);
}

/// One decoded frame, borrowed from a [`FrameBuf`].
#[derive(Debug)]
pub struct Frame<'a> {
    /// FIN bit.
    pub fin: bool,
    /// The opcode's 4 bits.
    pub opcode: u8,
    /// The masking key, if the frame was masked (a raw echo of our own frames): `payload` is
    /// then still masked with it.
    pub mask: Option<[u8; 4]>,
    /// The payload as received.
    pub payload: &'a [u8],
    /// Header plus payload: the bytes this frame took on the wire.
    pub wire_len: usize,
}

/// A receive buffer that frames are parsed from in place.
#[derive(Debug)]
pub struct FrameBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Read size: how much free room to ask the kernel to fill per read.
    chunk: usize,
}

impl FrameBuf {
    /// A buffer that reads up to `chunk` bytes at a time (it grows for larger frames).
    pub fn new(chunk: usize) -> Self {
        FrameBuf {
            buf: vec![0; chunk],
            start: 0,
            end: 0,
            chunk,
        }
    }

    /// The received bytes not yet consumed.
    pub fn filled(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Drop `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// One `read` from `stream` into the free room (made by moving what is left to the front, or
    /// by growing); the number of bytes read, 0 at end of stream.
    pub async fn read_from<S: AsyncRead + Unpin>(&mut self, stream: &mut S) -> io::Result<usize> {
        self.make_room(self.chunk);
        let n = stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    /// Ensure at least `want` free bytes after `end`.
    fn make_room(&mut self, want: usize) {
        if self.buf.len() - self.end >= want {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < want {
            self.buf.resize(self.end + want, 0);
        }
    }

    /// The next complete frame, consumed, or `None` if more bytes are needed. When a frame is
    /// larger than what the buffer can hold the buffer grows on the next read.
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        let data = &self.buf[self.start..self.end];
        let (header, len, mask) = parse_header(data)?;
        let total = header + len;
        if data.len() < total {
            if self.buf.len() - self.start < total {
                // grow so the whole frame fits after the next reads
                let need = total - data.len();
                self.make_room(need.max(self.chunk));
            }
            return None;
        }
        let b0 = self.buf[self.start];
        let payload_start = self.start + header;
        self.start += total;
        let frame = Frame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0f,
            mask,
            payload: &self.buf[payload_start..payload_start + len],
            wire_len: total,
        };
        if self.start == self.end {
            // nothing left: the next read starts at the front again (the slice stays valid:
            // only indices moved)
            self.start = 0;
            self.end = 0;
        }
        Some(frame)
    }
}

/// Header length, payload length and mask key of the frame at the front of `data`, if the header
/// is complete.
fn parse_header(data: &[u8]) -> Option<(usize, usize, Option<[u8; 4]>)> {
    if data.len() < 2 {
        return None;
    }
    let masked = data[1] & 0x80 != 0;
    let (mut header, len) = match data[1] & 0x7f {
        126 => {
            let b = data.get(2..4)?;
            (4, u16::from_be_bytes([b[0], b[1]]) as usize)
        }
        127 => {
            let b = data.get(2..10)?;
            (10, u64::from_be_bytes(b.try_into().ok()?) as usize)
        }
        n => (2, n as usize),
    };
    let mask = if masked {
        let k = data.get(header..header + 4)?;
        header += 4;
        Some([k[0], k[1], k[2], k[3]])
    } else {
        None
    };
    Some((header, len, mask))
}

/// Connect to `addr` with `TCP_NODELAY` set.
pub async fn connect(addr: &str) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A TLS client (rustls with the ring provider) that trusts exactly the certificate in the PEM
/// file `cert_pem`: the server must present that very certificate (compared byte for byte), and
/// its handshake signatures are checked with that certificate's key. Chain building is skipped on
/// purpose: a self-signed certificate made by `openssl req -x509` carries `CA:TRUE`, which webpki
/// refuses as an end-entity certificate. [`tls_handshake`] connects with SNI `localhost`.
pub fn tls_connector(cert_pem: &str) -> io::Result<TlsConnector> {
    let cert = CertificateDer::from_pem_file(cert_pem)
        .map_err(|e| io::Error::other(format!("{cert_pem}: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedCert {
        cert,
        algorithms: provider.signature_verification_algorithms,
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The TLS client handshake over `tcp`, with SNI `localhost`.
pub async fn tls_handshake(
    tcp: TcpStream,
    tls: &TlsConnector,
) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let name = ServerName::try_from("localhost").expect("a DNS name");
    tls.connect(name, tcp).await
}

/// Trusts one certificate, nothing else (see [`tls_connector`]).
#[derive(Debug)]
struct PinnedCert {
    cert: CertificateDer<'static>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_masked_and_unmasked() {
        let mut wire = Vec::new();
        encode_frame(&mut wire, OP_BINARY, b"hello", [1, 2, 3, 4]);
        encode_frame(&mut wire, OP_BINARY, &[7u8; 300], [9, 9, 9, 9]);
        // an unmasked server frame
        wire.extend_from_slice(&[0x82, 3, b'a', b'b', b'c']);
        let mut fb = FrameBuf::new(16);
        fb.buf = wire.clone();
        fb.end = wire.len();
        let f = fb.next_frame().unwrap();
        let mut p = f.payload.to_vec();
        mask(&mut p, f.mask.unwrap());
        assert_eq!(p, b"hello");
        let f = fb.next_frame().unwrap();
        assert_eq!(f.payload.len(), 300);
        assert_eq!(f.wire_len, 2 + 2 + 4 + 300);
        let f = fb.next_frame().unwrap();
        assert_eq!(
            (f.opcode, f.mask, f.payload),
            (OP_BINARY, None, &b"abc"[..])
        );
        assert!(fb.next_frame().is_none());
    }

    #[test]
    fn partial_header_waits() {
        let mut fb = FrameBuf::new(16);
        fb.buf[..1].copy_from_slice(&[0x82]);
        fb.end = 1;
        assert!(fb.next_frame().is_none());
    }
}
