//! The demo application: a chat room and a live ticker whose filter each user sets.
//!
//! - `/app/chat` (JSON `{kind: join|say|leave, nick, text}`) → `/topic/chat`, the nick checked
//!   against the sender's principal;
//! - `/app/filter` (JSON `{symbols: [...]}`) stores the sender's filter; the ticker sends each
//!   user only the ticks that match it, to `/user/queue/ticks`;
//! - `/app/echo` replies to the sending session only, on `/user/queue/echo`, with the same
//!   body and `content-type`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use duplex_core::broker::{AppMessage, HandlerContext};

use crate::host::Host;

/// The symbols the built-in ticker quotes.
pub const SYMBOLS: [&str; 6] = ["ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI", "STARK"];

/// Filters by principal.
pub type Filters = Arc<Mutex<HashMap<String, Vec<String>>>>;

/// A synchronous `/app` handler, as every runtime's `Builder::handler` takes it.
pub type Handler = Box<dyn FnMut(&mut HandlerContext, &AppMessage) + Send>;

/// The chat, filter and echo handlers with their destinations (`"/app/echo"` …), for any
/// runtime's builder.
pub fn handlers(filters: Filters) -> Vec<(&'static str, Handler)> {
    vec![
        ("/app/chat", Box::new(chat)),
        (
            "/app/filter",
            Box::new(move |_: &mut HandlerContext, m: &AppMessage| filter(&filters, m)),
        ),
        ("/app/echo", Box::new(echo)),
    ]
}

/// `/app/chat`: `{kind, text}` → `/topic/chat` as `{kind, nick, text}`, the nick being the
/// sender's principal (nobody speaks for someone else).
fn chat(ctx: &mut HandlerContext, m: &AppMessage) {
    let Ok(text) = std::str::from_utf8(m.body()) else {
        return;
    };
    let kind = json_str(text, "kind").unwrap_or_default();
    if !matches!(kind.as_str(), "join" | "say" | "leave") {
        return;
    }
    let said = json_str(text, "text").unwrap_or_default();
    let body = format!(
        "{{\"kind\":{},\"nick\":{},\"text\":{}}}",
        json_quote(&kind),
        json_quote(&m.principal),
        json_quote(&said)
    );
    ctx.publish("/topic/chat", body);
}

/// `/app/filter`: `{symbols: [...]}` becomes the sender's ticker filter.
fn filter(filters: &Filters, m: &AppMessage) {
    let Ok(text) = std::str::from_utf8(m.body()) else {
        return;
    };
    let wanted: Vec<String> = SYMBOLS
        .iter()
        .filter(|s| text.contains(&format!("\"{s}\"")))
        .map(|s| s.to_string())
        .collect();
    filters.lock().unwrap().insert(m.principal.clone(), wanted);
}

/// `/app/echo`: the same body and `content-type` back to the sending session only, on
/// `/user/queue/echo`.
fn echo(ctx: &mut HandlerContext, m: &AppMessage) {
    let mut headers = Vec::new();
    if let Some(ct) = m.header("content-type") {
        headers.push(("content-type", ct));
    }
    ctx.reply_to_session("/queue/echo", &headers, m.body().clone());
}

/// The demo ticker: each [`tick`](Self::tick) moves one price and sends the quote to the users
/// whose filter lists its symbol. The runtime's timer calls it every `ticker_ms`.
#[derive(Debug)]
pub struct Ticker {
    filters: Filters,
    prices: Vec<f64>,
    step: u64,
}

impl Ticker {
    /// Every price at its start, the filters shared with `/app/filter`.
    pub fn new(filters: Filters) -> Self {
        Ticker {
            filters,
            prices: (0..SYMBOLS.len())
                .map(|i| 100.0 + 10.0 * i as f64)
                .collect(),
            step: 0x2545_f491_4f6c_dd1d,
        }
    }

    /// One quote, to `/user/queue/ticks` of each user who asked for its symbol.
    pub fn tick(&mut self, host: &impl Host) {
        let step = &mut self.step;
        *step ^= *step << 13;
        *step ^= *step >> 7;
        *step ^= *step << 17;
        let i = (*step % SYMBOLS.len() as u64) as usize;
        self.prices[i] *= 1.0 + ((*step >> 8) % 200) as f64 / 10_000.0 - 0.01;
        let symbol = SYMBOLS[i];
        let body = Bytes::from(format!(
            "{{\"symbol\":\"{symbol}\",\"price\":{:.2}}}",
            self.prices[i]
        ));
        let users: Vec<String> = self
            .filters
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, wanted)| wanted.iter().any(|w| w == symbol))
            .map(|(user, _)| user.clone())
            .collect();
        for user in &users {
            host.send_to_user(
                user,
                "/queue/ticks",
                &[("content-type", "application/json")],
                body.clone(),
            );
        }
    }
}

/// The string value of `"key": "…"` in a flat JSON object (enough for the page's messages).
fn json_str(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('\u{fffd}'),
                    );
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// `s` as a JSON string literal.
fn json_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use duplex_core::broker::{Broker, BrokerConfig, ConnId, DefaultAuthorizer};
    use duplex_core::stomp::Frame;
    use duplex_core::{Instant, SeededRng};

    fn broker() -> Broker {
        let auth = |login: Option<&str>, _: Option<&str>, _: &Frame| -> Result<String, String> {
            Ok(login.unwrap_or("anon").to_owned())
        };
        let mut b = Broker::new(
            Instant::ZERO,
            BrokerConfig::default(),
            Box::new(auth),
            Box::new(DefaultAuthorizer::default()),
            Box::new(SeededRng::new(7)),
        );
        b.register_handler("/app/echo", echo).unwrap();
        b
    }

    /// Everything queued for `conn`, as text.
    fn take(b: &mut Broker, conn: ConnId) -> String {
        while b.poll_output().is_some() {}
        let bytes = b.take_transmit(conn).unwrap_or_default();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn echo_replies_to_the_sending_session_only_with_body_and_content_type() {
        let mut b = broker();
        let now = Instant::ZERO;
        let (sender, other) = (ConnId(1), ConnId(2));
        for conn in [sender, other] {
            b.open(now, conn).unwrap();
            // Same login on both: the echo must still reach only the sender.
            b.handle_input(
                now,
                conn,
                b"CONNECT\naccept-version:1.2\nhost:h\nlogin:alice\n\n\0\
                  SUBSCRIBE\nid:0\ndestination:/user/queue/echo\n\n\0",
            );
            assert!(take(&mut b, conn).starts_with("CONNECTED\n"));
        }
        b.handle_input(
            now,
            sender,
            b"SEND\ndestination:/app/echo\ncontent-type:application/json\n\
              receipt:r1\ncontent-length:9\n\n{\"a\":\"\0\"}\0",
        );
        let out = take(&mut b, sender);
        let (message, receipt) = out.split_once("\0RECEIPT").expect("MESSAGE, then RECEIPT");
        assert!(message.starts_with("MESSAGE\n"), "{out:?}");
        assert!(
            message.contains("\ndestination:/user/queue/echo\n"),
            "{out:?}"
        );
        assert!(
            message.contains("\ncontent-type:application/json\n"),
            "{out:?}"
        );
        assert!(
            message.ends_with("\n\n{\"a\":\"\0\"}"),
            "body kept byte for byte: {out:?}"
        );
        assert!(receipt.starts_with("\nreceipt-id:r1\n"), "{out:?}");
        assert_eq!(take(&mut b, other), "");
    }

    #[test]
    fn json_round_trip_of_awkward_text() {
        let text = "say \"hi\" \\ and\nbye ✓";
        let doc = format!("{{\"kind\":\"say\",\"text\":{}}}", json_quote(text));
        assert_eq!(json_str(&doc, "text").as_deref(), Some(text));
        assert_eq!(json_str(&doc, "kind").as_deref(), Some("say"));
        assert_eq!(json_str(&doc, "nick"), None);
    }
}
