//! The plain HTTP side of the port: the page, its scripts, `/healthz` and `/metrics` (the same
//! on every runtime).

use bytes::Bytes;
use duplex_core::ws::handshake::{http_response, RequestHead};

use crate::host::Host;

const INDEX: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");
const STOMP_CLIENT_JS: &str = include_str!("../static/stomp-client.js");

/// The answer to one plain HTTP request.
pub fn respond<H: Host>(request: &RequestHead, handle: &H) -> Option<Bytes> {
    Some(answer(request, handle))
}

fn answer<H: Host>(request: &RequestHead, handle: &H) -> Bytes {
    let path = request.path.split('?').next().unwrap_or("/");
    if request.method != "GET" && request.method != "HEAD" {
        return http_response(
            405,
            "Method Not Allowed",
            &[("Allow", "GET")],
            b"method not allowed\n",
        );
    }
    match path {
        "/" | "/index.html" => ok("text/html; charset=utf-8", INDEX.as_bytes()),
        "/app.js" => ok("text/javascript; charset=utf-8", APP_JS.as_bytes()),
        "/stomp-client.js" => ok("text/javascript; charset=utf-8", STOMP_CLIENT_JS.as_bytes()),
        "/vendor/stomp.umd.min.js" => match std::env::var_os("DUPLEX_STOMPJS") {
            // For the browser tests: the real @stomp/stompjs bundle, from a path the test gives.
            Some(file) => match std::fs::read(file) {
                Ok(js) => ok("text/javascript; charset=utf-8", &js),
                Err(_) => not_found(),
            },
            None => not_found(),
        },
        "/healthz" => ok("text/plain; charset=utf-8", b"ok\n"),
        "/metrics" => ok("text/plain; version=0.0.4", handle.metrics().as_bytes()),
        _ => not_found(),
    }
}

fn ok(content_type: &str, body: &[u8]) -> Bytes {
    http_response(
        200,
        "OK",
        &[
            ("Content-Type", content_type),
            ("Cache-Control", "no-store"),
        ],
        body,
    )
}

fn not_found() -> Bytes {
    http_response(
        404,
        "Not Found",
        &[("Content-Type", "text/plain")],
        b"not found\n",
    )
}
