//! Parsed HTTP heads (RFC 9112 §2–5 as RFC 6455 §4 uses them), read with `httparse`.
//!
//! A head is kept as owned strings: it is read once per connection, and the caller gets it in the
//! handshake's outcome. Header names keep the case they were sent in; lookups ignore case
//! (RFC 9110 §5.1).

use super::HandshakeError;

/// A request line and its headers: what a client sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request-target as sent, including any query: `/chat?room=1`.
    pub path: String,
    /// Header lines in the order they came, names as sent.
    pub headers: Vec<(String, String)>,
}

/// A status line and its headers: what a server answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code, e.g. 101.
    pub status: u16,
    /// The reason phrase, possibly empty.
    pub reason: String,
    /// Header lines in the order they came, names as sent.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The value of the first header called `name` (ASCII case-insensitive), RFC 9110 §5.1.
    pub fn header(&self, name: &str) -> Option<&str> {
        first(&self.headers, name)
    }

    /// The values of every header line called `name`, in order. A list-valued header (RFC 9110
    /// §5.3) may come on several lines; see [`header_tokens`](Self::header_tokens) to split them.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        all(&self.headers, name)
    }

    /// The comma-separated elements of every header line called `name`, trimmed, empty elements
    /// skipped (RFC 9110 §5.6.1): `Connection: keep-alive, Upgrade` gives `keep-alive`, `Upgrade`.
    pub fn header_tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        tokens(&self.headers, name)
    }
}

impl ResponseHead {
    /// The value of the first header called `name` (ASCII case-insensitive), RFC 9110 §5.1.
    pub fn header(&self, name: &str) -> Option<&str> {
        first(&self.headers, name)
    }

    /// The values of every header line called `name`, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        all(&self.headers, name)
    }

    /// The comma-separated elements of every header line called `name`, trimmed, empty elements
    /// skipped (RFC 9110 §5.6.1).
    pub fn header_tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        tokens(&self.headers, name)
    }
}

fn first<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn all<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn tokens<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    all(headers, name)
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Whether the comma list in header `name` holds `token` (ASCII case-insensitive), as RFC 6455
/// §4.2.1 asks of `Upgrade` and `Connection`.
pub(crate) fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token))
}

/// Header values are kept as text; bytes that are not UTF-8 (RFC 9110 obs-text) become U+FFFD.
fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value).trim().to_owned();
            (h.name.to_owned(), value)
        })
        .collect()
}

/// Room for every header line of `head`: one slot per line feed, so httparse never runs out.
fn header_slots(head: &[u8]) -> Vec<httparse::Header<'static>> {
    let lines = head.iter().filter(|&&b| b == b'\n').count();
    vec![httparse::EMPTY_HEADER; lines + 1]
}

/// Parse a complete request head (it ends with the empty line). Returns the head and the minor
/// HTTP version (0 for HTTP/1.0, 1 for HTTP/1.1).
pub(crate) fn parse_request(head: &[u8]) -> Result<(RequestHead, u8), HandshakeError> {
    let mut slots = header_slots(head);
    let mut req = httparse::Request::new(&mut slots);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(HandshakeError::Malformed("incomplete request head".into()))
        }
        Err(e) => return Err(HandshakeError::Malformed(e.to_string())),
    }
    let parsed = RequestHead {
        method: req.method.unwrap_or_default().to_owned(),
        path: req.path.unwrap_or_default().to_owned(),
        headers: owned_headers(req.headers),
    };
    Ok((parsed, req.version.unwrap_or_default()))
}

/// Parse a complete response head. Returns the head and the minor HTTP version.
pub(crate) fn parse_response(head: &[u8]) -> Result<(ResponseHead, u8), HandshakeError> {
    let mut slots = header_slots(head);
    let mut res = httparse::Response::new(&mut slots);
    match res.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(HandshakeError::Malformed("incomplete response head".into()))
        }
        Err(e) => return Err(HandshakeError::Malformed(e.to_string())),
    }
    let parsed = ResponseHead {
        status: res.code.unwrap_or_default(),
        reason: res.reason.unwrap_or_default().to_owned(),
        headers: owned_headers(res.headers),
    };
    Ok((parsed, res.version.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_split_lists() {
        let (head, version) = parse_request(
            b"GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nconnection: keep-alive, Upgrade\r\n\
              Sec-WebSocket-Protocol: a, b\r\nsec-websocket-protocol: c\r\n\r\n",
        )
        .unwrap();
        assert_eq!(version, 1);
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/chat?x=1");
        assert_eq!(head.header("HOST"), Some("a"));
        assert_eq!(head.header("Sec-WebSocket-Protocol"), Some("a, b"));
        let all: Vec<_> = head.header_values("sec-websocket-protocol").collect();
        assert_eq!(all, ["a, b", "c"]);
        let toks: Vec<_> = head.header_tokens("sec-websocket-protocol").collect();
        assert_eq!(toks, ["a", "b", "c"]);
        assert!(has_token(&head.headers, "Connection", "upgrade"));
        assert!(!has_token(&head.headers, "Connection", "close"));
        assert_eq!(head.header("missing"), None);
    }

    #[test]
    fn response_and_errors() {
        let (head, _) =
            parse_response(b"HTTP/1.1 101 Switching Protocols\r\nA: b\r\n\r\n").unwrap();
        assert_eq!(head.status, 101);
        assert_eq!(head.reason, "Switching Protocols");
        assert_eq!(head.header("a"), Some("b"));
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"),
            Err(HandshakeError::Malformed(_))
        ));
        assert!(matches!(
            parse_response(b"HTTP/1.1 10x OK\r\n\r\n"),
            Err(HandshakeError::Malformed(_))
        ));
    }
}
