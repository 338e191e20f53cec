//! WebSocket URIs, RFC 6455 §3: `ws://host[:port]/path?query` and `wss://…`.

use std::fmt;

/// A parsed `ws://` or `wss://` URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss` (TLS) or `ws`.
    pub secure: bool,
    /// The host: a name, an IPv4 address, or an IPv6 address without brackets.
    pub host: String,
    /// The port: given, or 80 for `ws` and 443 for `wss` (§3).
    pub port: u16,
    /// The resource name: path and query, at least `/` (§3). Fragments are refused (§3: MUST NOT).
    pub resource: String,
}

/// Why a URI is not a WebSocket URI.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid WebSocket URL {url:?}: {why}")]
pub struct UrlError {
    /// The URI given.
    pub url: String,
    /// What is wrong.
    pub why: &'static str,
}

impl WsUrl {
    /// Parse a WebSocket URI (§3). Schemes are case-insensitive; `http`/`https` are not accepted.
    pub fn parse(url: &str) -> Result<WsUrl, UrlError> {
        let err = |why| UrlError {
            url: url.to_owned(),
            why,
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| err("no scheme"))?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "ws" => false,
            "wss" => true,
            _ => return Err(err("scheme must be ws or wss")),
        };
        if rest.contains('#') {
            return Err(err("fragment identifiers are not allowed (RFC 6455 §3)"));
        }
        let (authority, resource) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return Err(err("user information is not supported"));
        }
        let default_port = if secure { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| err("unclosed IPv6 bracket"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| err("bad port"))?,
                None if after.is_empty() => default_port,
                None => return Err(err("junk after IPv6 address")),
            };
            (host.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| err("bad port"))?),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(err("no host"));
        }
        Ok(WsUrl {
            secure,
            host,
            port,
            resource,
        })
    }

    /// The `Host` header value (§4.1 item 4): the port is included when it is not the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.secure { 443 } else { 80 };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        write!(f, "{scheme}://{}{}", self.host_header(), self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_shapes() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/runCase?case=3&agent=x").unwrap();
        assert_eq!(
            (u.secure, u.host.as_str(), u.port),
            (false, "127.0.0.1", 9001)
        );
        assert_eq!(u.resource, "/runCase?case=3&agent=x");
        assert_eq!(u.host_header(), "127.0.0.1:9001");
        let u = WsUrl::parse("WSS://example.com").unwrap();
        assert_eq!((u.secure, u.port, u.resource.as_str()), (true, 443, "/"));
        assert_eq!(u.host_header(), "example.com");
        let u = WsUrl::parse("ws://[::1]:8080?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.resource.as_str()),
            ("::1", 8080, "/?x=1")
        );
        assert_eq!(u.host_header(), "[::1]:8080");
    }

    #[test]
    fn refuses_what_section_3_forbids() {
        for bad in [
            "http://x/",
            "ws://x/#frag",
            "ws://:80/",
            "ws://x:99999/",
            "x",
            "ws://u@x/",
        ] {
            assert!(WsUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
