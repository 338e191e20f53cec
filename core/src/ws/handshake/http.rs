//! Writing small HTTP/1.1 responses (RFC 9112 §4 and §6): the handshake's `101`, its error answers,
//! and plain pages for callers that serve HTTP on the WebSocket port.

use bytes::{BufMut, Bytes, BytesMut};

/// An HTTP/1.1 response with `body`, ready to write: status line, `headers`, then
/// `Content-Length` and `Connection: close` unless `headers` already has them (names compared
/// ASCII case-insensitively), then the body.
///
/// For callers that answer plain HTTP requests on the WebSocket port (a web page, `/healthz`), see
/// [`ServerOutcome::HttpRequest`](super::ServerOutcome::HttpRequest). Names, values and `reason`
/// must not hold CR or LF; a header that does is left out (it would split the response).
pub fn http_response(status: u16, reason: &str, headers: &[(&str, &str)], body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(128 + body.len());
    write_status_line(&mut out, status, reason);
    let mut has_length = false;
    let mut has_connection = false;
    for &(name, value) in headers {
        has_length |= name.eq_ignore_ascii_case("content-length");
        has_connection |= name.eq_ignore_ascii_case("connection");
        write_header(&mut out, name, value);
    }
    if !has_length {
        write_header(&mut out, "Content-Length", &body.len().to_string());
    }
    if !has_connection {
        write_header(&mut out, "Connection", "close");
    }
    out.put_slice(b"\r\n");
    out.put_slice(body);
    out.freeze()
}

/// The reason phrase the handshake uses for `status` (RFC 9110 §15).
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

pub(crate) fn write_status_line(out: &mut BytesMut, status: u16, reason: &str) {
    let reason = if is_clean(reason) { reason } else { "" };
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.to_string().as_bytes());
    out.put_u8(b' ');
    out.put_slice(reason.as_bytes());
    out.put_slice(b"\r\n");
}

/// Writes `name: value\r\n`, or nothing if either would break the head.
pub(crate) fn write_header(out: &mut BytesMut, name: &str, value: &str) {
    if !is_token(name) || !is_clean(value) {
        tracing::warn!(
            name,
            "handshake: header with an invalid name or value left out"
        );
        return;
    }
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_slice(b"\r\n");
}

/// No CR, LF or NUL: the text cannot end a line or the head (RFC 9110 §5.5).
pub(crate) fn is_clean(text: &str) -> bool {
    !text.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

/// An RFC 9110 §5.6.2 token: a header name, a subprotocol name.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_length_and_close() {
        let r = http_response(200, "OK", &[("Content-Type", "text/plain")], b"hi");
        assert_eq!(
            &r[..],
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
        );
        let r = http_response(204, "No Content", &[("connection", "keep-alive")], b"");
        assert_eq!(
            &r[..],
            b"HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn refuses_to_split_the_head() {
        let r = http_response(
            200,
            "OK\r\nX: y",
            &[("A", "b\r\nEvil: 1"), ("B c", "d")],
            b"",
        );
        assert_eq!(
            &r[..],
            b"HTTP/1.1 200 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
}
