//! In-memory harness for the broker tests: N real `ClientSession`s wired to one `Broker` with
//! virtual time. Included by each `broker_*.rs` test with `#[path]`; compiled alone it is empty.
#![allow(dead_code)]

use duplex_core::broker::{
    AppMessage, Authorizer, Broker, BrokerConfig, ConnId, DefaultAuthorizer, Output,
};
use duplex_core::stomp::{ClientConfig, ClientEvent, ClientSession, Frame, Message, ReceiptId};
use duplex_core::{Instant, SeededRng};
use std::time::Duration;

pub struct Client {
    pub conn: ConnId,
    pub session: ClientSession,
    pub events: Vec<ClientEvent>,
    /// The transport does not take bytes from the broker (a slow or stuck reader).
    pub stalled: bool,
    /// The broker asked to close the transport and we did.
    pub transport_closed: bool,
}

pub struct Net {
    pub now: Instant,
    pub broker: Broker,
    pub clients: Vec<Client>,
    pub app: Vec<AppMessage>,
    next_conn: u64,
}

/// Anyone with a `login` gets in, as that principal; `passcode` must be `secret`.
pub fn authenticate(login: Option<&str>, pass: Option<&str>, _: &Frame) -> Result<String, String> {
    match (login, pass) {
        (Some(l), Some("secret")) => Ok(l.to_owned()),
        _ => Err("bad credentials".to_owned()),
    }
}

impl Net {
    pub fn new(config: BrokerConfig) -> Net {
        Net::with_authorizer(config, Box::new(DefaultAuthorizer::default()))
    }

    pub fn with_authorizer(config: BrokerConfig, authorizer: Box<dyn Authorizer>) -> Net {
        let now = Instant::from_nanos(1_000_000_000);
        Net {
            now,
            broker: Broker::new(
                now,
                config,
                Box::new(authenticate),
                authorizer,
                Box::new(SeededRng::new(42)),
            ),
            clients: Vec::new(),
            app: Vec::new(),
            next_conn: 1,
        }
    }

    /// Open a connection and CONNECT as `login`; returns the client index.
    pub fn connect(&mut self, login: &str) -> usize {
        let i = self.open(login);
        match self.clients[i].events.remove(0) {
            ClientEvent::Connected { .. } => {}
            e => panic!("expected Connected, got {e:?}"),
        }
        i
    }

    /// Open and CONNECT without checking the outcome.
    pub fn open(&mut self, login: &str) -> usize {
        let mut cfg = ClientConfig::new("localhost");
        cfg.login = Some(login.to_owned());
        cfg.passcode = Some("secret".to_owned());
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        self.broker.open(self.now, conn).unwrap();
        self.clients.push(Client {
            conn,
            session: ClientSession::new(self.now, cfg).unwrap(),
            events: Vec::new(),
            stalled: false,
            transport_closed: false,
        });
        self.drive();
        self.clients.len() - 1
    }

    pub fn c(&mut self, i: usize) -> &mut ClientSession {
        &mut self.clients[i].session
    }

    fn index(&self, conn: ConnId) -> usize {
        self.clients.iter().position(|c| c.conn == conn).unwrap()
    }

    /// Move bytes both ways until everything is quiet; panics on livelock.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            for cl in &mut self.clients {
                cl.events
                    .extend(std::iter::from_fn(|| cl.session.poll_event()));
                if cl.transport_closed {
                    continue;
                }
                if let Some(b) = cl.session.poll_transmit() {
                    // Split every write, as a WebSocket or TCP might.
                    let (a, z) = b.split_at(b.len() / 2);
                    self.broker.handle_input(self.now, cl.conn, a);
                    self.broker.handle_input(self.now, cl.conn, z);
                    progress = true;
                }
            }
            while let Some(out) = self.broker.poll_output() {
                progress = true;
                match out {
                    Output::Transmit(conn) => {
                        let i = self.index(conn);
                        if !self.clients[i].stalled {
                            self.deliver(i);
                        }
                    }
                    Output::Close(conn) => {
                        let i = self.index(conn);
                        if !self.clients[i].stalled {
                            self.deliver(i);
                        }
                        self.broker.handle_closed(self.now, conn);
                        self.clients[i].transport_closed = true;
                    }
                    Output::AppMessage(m) => self.app.push(m),
                }
            }
            if !progress {
                return;
            }
        }
        panic!("livelock: broker and clients kept talking");
    }

    fn deliver(&mut self, i: usize) {
        let conn = self.clients[i].conn;
        if let Some(b) = self.broker.take_transmit(conn) {
            self.clients[i].session.handle_input(self.now, &b);
        }
    }

    /// Let a stalled client read again.
    pub fn unstall(&mut self, i: usize) {
        self.clients[i].stalled = false;
        if !self.clients[i].transport_closed {
            self.deliver(i);
        }
        self.drive();
    }

    pub fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        self.broker.handle_timeout(self.now);
        for cl in &mut self.clients {
            cl.session.handle_timeout(self.now);
        }
        self.drive();
    }

    /// Drain and return client `i`'s MESSAGE events (other events stay).
    pub fn messages(&mut self, i: usize) -> Vec<Message> {
        let events = std::mem::take(&mut self.clients[i].events);
        let mut out = Vec::new();
        for e in events {
            match e {
                ClientEvent::Message(m) => out.push(m),
                other => self.clients[i].events.push(other),
            }
        }
        out
    }

    /// Bodies of client `i`'s messages, as strings.
    pub fn bodies(&mut self, i: usize) -> Vec<String> {
        self.messages(i)
            .iter()
            .map(|m| String::from_utf8(m.body().to_vec()).unwrap())
            .collect()
    }

    /// Drain client `i`'s receipts.
    pub fn receipts(&mut self, i: usize) -> Vec<ReceiptId> {
        let events = std::mem::take(&mut self.clients[i].events);
        let mut out = Vec::new();
        for e in events {
            match e {
                ClientEvent::Receipt(r) => out.push(r),
                other => self.clients[i].events.push(other),
            }
        }
        out
    }

    /// The ERROR frame client `i` got, if any.
    pub fn error(&self, i: usize) -> Option<&Frame> {
        self.clients[i].events.iter().find_map(|e| match e {
            ClientEvent::Error(f) => Some(f),
            _ => None,
        })
    }

    /// Publish `n` numbered bodies `"{prefix}{k}"` from client `i` to `destination`.
    pub fn send_n(&mut self, i: usize, destination: &str, prefix: &str, n: usize) {
        for k in 0..n {
            self.c(i)
                .send(destination, format!("{prefix}{k}"), &[], false)
                .unwrap();
        }
        self.drive();
    }
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
