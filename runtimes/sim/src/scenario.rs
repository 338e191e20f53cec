//! The built-in scenario: a chat server (rooms over `/app/chat/{room}` and `/topic/chat/{room}`)
//! with a work queue (`/queue/work`, `client-individual` ACKs, NACKs now and then), many clients,
//! and faults — with options drawn per seed, VOPR-style, and a schedule of [`Op`]s that proptest
//! can shrink.

use crate::checker::{Coverage, DeliveryChecker, SharedChecker};
use crate::client::{ClientCx, ClientLogic};
use crate::net::NetConfig;
use crate::rng::SimRng;
use crate::world::{SimConfig, SimError, Stats, World};
use bytes::{BufMut, Bytes, BytesMut};
use duplex_core::broker::{AppMessage, Broker, HandlerContext, SlowConsumerPolicy};
use duplex_core::stomp::{AckMode, ClientConfig, ClientEvent, HeartBeat, Message};
use duplex_core::Instant;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

/// Everything about a run that is drawn from its seed (and can be overridden).
#[derive(Clone, Debug)]
pub struct Options {
    /// Client hosts.
    pub clients: usize,
    /// Chat rooms.
    pub rooms: u8,
    /// How many clients also consume `/queue/work`.
    pub consumers: usize,
    /// Largest message body.
    pub max_body: usize,
    /// Client heart-beat offer (ms): can send, wants.
    pub client_heart_beat: (u64, u64),
    /// Server heart-beat offer (ms).
    pub server_heart_beat: (u64, u64),
    /// The network.
    pub net: NetConfig,
    /// Broker outbound limit per session.
    pub outbound_max_bytes: usize,
    /// Slow-consumer policy for topics.
    pub topic_policy: SlowConsumerPolicy,
    /// Broker redelivery limit.
    pub redelivery_limit: u32,
    /// Per mille of queue messages a consumer NACKs.
    pub nack_per_mille: u32,
    /// Scheduled operations.
    pub ops: usize,
    /// Per mille of operations that are faults.
    pub fault_per_mille: u32,
    /// Longest gap between operations (ms).
    pub max_gap_ms: u64,
}

impl Options {
    /// Draw options for `seed`. `clients` overrides the client count.
    pub fn draw(seed: u64, clients: Option<usize>) -> Self {
        let mut rng = SimRng::stream(seed, 3);
        let clients = clients.unwrap_or_else(|| rng.range_usize(2, 8));
        let hb = |rng: &mut SimRng| {
            if rng.chance(200) {
                (0, 0)
            } else {
                (rng.range(100, 1500), rng.range(100, 1500))
            }
        };
        let latency_max = Duration::from_micros(rng.range(200, 30_000));
        let max_body = *rng.pick(&[64, 512, 4096, 32 * 1024]);
        // One-byte segments cost one event per byte: only with small bodies.
        let segments: &[usize] = if max_body <= 512 {
            &[1, 7, 100, 1460, 16 * 1024]
        } else {
            &[100, 1460, 16 * 1024]
        };
        Options {
            clients,
            rooms: rng.range(1, 3) as u8,
            consumers: rng.range_usize(1, clients.clamp(1, 3)),
            max_body,
            client_heart_beat: hb(&mut rng),
            server_heart_beat: hb(&mut rng),
            net: NetConfig {
                latency_min: latency_max / 4,
                latency_max,
                max_segment: *rng.pick(segments),
                max_read: if max_body <= 512 {
                    *rng.pick(&[5, 1000, 16 * 1024, 64 * 1024])
                } else {
                    *rng.pick(&[1000, 16 * 1024, 64 * 1024])
                },
                window: *rng.pick(&[4 * 1024, 32 * 1024, 256 * 1024]),
            },
            outbound_max_bytes: *rng.pick(&[32 * 1024, 256 * 1024, 4 << 20]),
            topic_policy: if rng.chance(750) {
                SlowConsumerPolicy::Disconnect
            } else {
                SlowConsumerPolicy::DropNewest
            },
            redelivery_limit: rng.range(2, 6) as u32,
            nack_per_mille: *rng.pick(&[0, 100, 300]) as u32,
            ops: rng.range_usize(50, 250),
            fault_per_mille: *rng.pick(&[0, 20, 60, 150]) as u32,
            max_gap_ms: *rng.pick(&[5, 50, 200]),
        }
    }
}

/// A fault, as scheduled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Reset the client's connection.
    Reset(usize),
    /// The client half-closes its connection.
    HalfClose(usize),
    /// The client reads nothing for this many ms.
    Stall(usize, u64),
    /// The client's link is slow for this many ms (extra latency in ms).
    Slow(usize, u64, u64),
    /// The client host pauses for this many ms.
    PauseClient(usize, u64),
    /// The server host pauses for this many ms.
    PauseServer(u64),
    /// The server crashes and is back after this many ms.
    Restart(u64),
    /// The client disconnects gracefully (and reconnects later).
    Disconnect(usize),
}

/// What happens at one point of the schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Client says something in a room: through the `/app` handler or straight to the topic.
    Say {
        /// Who.
        client: usize,
        /// Which room.
        room: u8,
        /// Body size.
        size: usize,
        /// Through `/app/chat/{room}`.
        via_app: bool,
        /// Ask for a RECEIPT.
        receipt: bool,
    },
    /// Client puts a job on `/queue/work` (with a RECEIPT).
    Work {
        /// Who.
        client: usize,
        /// Body size.
        size: usize,
    },
    /// A fault.
    Fault(Fault),
}

/// One scheduled operation: wait `delay_ms`, then act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// Virtual milliseconds before it.
    pub delay_ms: u64,
    /// What happens.
    pub action: Action,
}

/// The schedule for `seed` under `options`.
pub fn schedule(seed: u64, options: &Options) -> Vec<Op> {
    let mut rng = SimRng::stream(seed, 4);
    let n = options.clients;
    let hb = options
        .client_heart_beat
        .0
        .max(options.server_heart_beat.1)
        .max(200);
    (0..options.ops)
        .map(|_| {
            let client = rng.below(n as u64) as usize;
            let action = if rng.chance(options.fault_per_mille) {
                Action::Fault(match rng.below(8) {
                    0 => Fault::Reset(client),
                    1 => Fault::HalfClose(client),
                    2 => Fault::Stall(client, rng.range(50, 3 * hb)),
                    3 => Fault::Slow(client, rng.range(100, 2000), rng.range(10, 300)),
                    4 => Fault::PauseClient(client, rng.range(50, 4 * hb)),
                    5 => Fault::PauseServer(rng.range(50, 4 * hb)),
                    6 if rng.chance(300) => Fault::Restart(rng.range(10, 2000)),
                    _ => Fault::Disconnect(client),
                })
            } else if rng.chance(250) {
                Action::Work {
                    client,
                    size: rng.range_usize(1, options.max_body),
                }
            } else {
                Action::Say {
                    client,
                    room: rng.below(u64::from(options.rooms)) as u8,
                    size: rng.range_usize(1, options.max_body),
                    via_app: rng.chance(500),
                    receipt: rng.chance(800),
                }
            };
            Op {
                delay_ms: rng.range(0, options.max_gap_ms),
                action,
            }
        })
        .collect()
}

/// A chat client: joins its rooms, maybe consumes the work queue, reconnects when dropped.
#[derive(Debug)]
pub struct ChatClient {
    rooms: Vec<u8>,
    consumer: bool,
    nack_per_mille: u32,
    seq: u64,
    acks: VecDeque<(Instant, Message, bool)>,
    offline: bool,
}

impl ChatClient {
    /// A client in `rooms`, consuming the queue when `consumer`.
    pub fn new(rooms: Vec<u8>, consumer: bool, nack_per_mille: u32) -> Self {
        ChatClient {
            rooms,
            consumer,
            nack_per_mille,
            seq: 0,
            acks: VecDeque::new(),
            offline: false,
        }
    }

    fn body(&mut self, kind: char, client: usize, size: usize) -> Bytes {
        self.seq += 1;
        let mut b = BytesMut::with_capacity(size + 24);
        b.put_slice(format!("{kind}:{client}:{}|", self.seq).as_bytes());
        while b.len() < size {
            b.put_u8(b'a' + (b.len() % 26) as u8);
        }
        b.freeze()
    }

    /// Say something (ignored while offline).
    pub fn say(
        &mut self,
        cx: &mut ClientCx<'_>,
        room: u8,
        size: usize,
        via_app: bool,
        receipt: bool,
    ) {
        if !cx.is_connected() {
            return;
        }
        let body = self.body('t', cx.client(), size);
        let destination = if via_app {
            format!("/app/chat/{room}")
        } else {
            format!("/topic/chat/{room}")
        };
        let _ = cx.send(&destination, body, receipt);
    }

    /// Queue a job (ignored while offline).
    pub fn work(&mut self, cx: &mut ClientCx<'_>, size: usize) {
        if cx.is_connected() {
            let body = self.body('q', cx.client(), size);
            let _ = cx.send("/queue/work", body, true);
        }
    }

    /// Stay offline once the connection ends.
    pub fn go_offline(&mut self) {
        self.offline = true;
    }
}

impl ClientLogic for ChatClient {
    fn on_connected(&mut self, cx: &mut ClientCx<'_>) {
        for room in self.rooms.clone() {
            let _ = cx.subscribe(&format!("/topic/chat/{room}"), AckMode::Auto, true);
        }
        if self.consumer {
            let _ = cx.subscribe("/queue/work", AckMode::ClientIndividual, true);
        }
    }

    fn on_event(&mut self, cx: &mut ClientCx<'_>, event: &ClientEvent) {
        if let ClientEvent::Message(m) = event {
            if m.destination() == Some("/queue/work") {
                let due = cx.now() + cx.rng().millis(0, 30);
                let positive = !cx.rng().chance(self.nack_per_mille);
                self.acks.push_back((due, m.clone(), positive));
                let first = self.acks.iter().map(|a| a.0).min().unwrap_or(due);
                cx.wake_at(first);
            }
        }
    }

    fn on_wake(&mut self, cx: &mut ClientCx<'_>) {
        let now = cx.now();
        let mut acked = false;
        while let Some(i) = self.acks.iter().position(|a| a.0 <= now) {
            let (_, m, positive) = self.acks.remove(i).expect("found");
            acked |= cx.ack(&m, positive).is_ok();
        }
        if acked {
            // A RECEIPT for a later frame confirms the ACKs (frames are acted on in order).
            let _ = cx.send("/topic/sim.sync", Bytes::new(), true);
        }
        if let Some(next) = self.acks.iter().map(|a| a.0).min() {
            cx.wake_at(next);
        }
    }

    fn on_disconnected(&mut self, cx: &mut ClientCx<'_>) -> Option<Duration> {
        self.acks.clear();
        (!self.offline).then(|| cx.rng().millis(20, 800))
    }
}

/// The `/app/chat/{room}` handler: publish the SEND's body to `/topic/chat/{room}`.
pub fn register_chat(broker: &mut Broker) {
    broker
        .register_handler(
            "/app/chat/{room}",
            |ctx: &mut HandlerContext, m: &AppMessage| {
                let room = m.var("room").unwrap_or("0").to_owned();
                ctx.publish(&format!("/topic/chat/{room}"), m.body().clone());
            },
        )
        .expect("/app/chat/{room} is under /app");
}

/// What one run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// World statistics (including the trace hash).
    pub stats: Stats,
    /// MESSAGE frames the checker saw.
    pub messages: u64,
    /// What the delivery checker covered.
    pub coverage: Coverage,
}

fn sim_config(seed: u64, o: &Options) -> SimConfig {
    let mut config = SimConfig::new(seed);
    config.net = o.net.clone();
    config.broker.outbound.max_bytes = o.outbound_max_bytes;
    config.broker.slow_consumer.topic = o.topic_policy;
    config.broker.redelivery_limit = o.redelivery_limit;
    config.broker.session.heart_beat =
        HeartBeat::from_millis(o.server_heart_beat.0, o.server_heart_beat.1);
    config.broker.session.connect_timeout = Duration::from_secs(5);
    config.max_frame = o.max_body + 1024;
    if let Some(n) = std::env::var("DUPLEX_TRACE_TAIL")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        config.keep_trace = n;
    }
    config
}

/// Run the chat scenario for `seed` with `options` and `ops`; check every invariant.
pub fn run_chat(seed: u64, options: &Options, ops: &[Op]) -> Result<Report, SimError> {
    let mut world = World::new(sim_config(seed, options), register_chat);
    let checker: SharedChecker = Rc::new(RefCell::new(DeliveryChecker::default()));
    world.add_observer(Box::new(checker.clone()));
    let mut rng = SimRng::stream(seed, 5);
    for i in 0..options.clients {
        let rooms: Vec<u8> = (0..options.rooms).filter(|_| rng.chance(600)).collect();
        let logic = ChatClient::new(rooms, i < options.consumers, options.nack_per_mille);
        let mut stomp = ClientConfig::new("sim");
        stomp.login = Some(format!("user{i}"));
        stomp.heart_beat =
            HeartBeat::from_millis(options.client_heart_beat.0, options.client_heart_beat.1);
        stomp.connect_timeout = Duration::from_secs(5);
        stomp.disconnect_timeout = Duration::from_secs(2);
        world.add_client(logic, stomp);
    }
    world.run_for(Duration::from_millis(500))?;
    let mut calm_after = world.now();
    for op in ops {
        world.run_for(Duration::from_millis(op.delay_ms))?;
        apply(&mut world, &op.action, &mut calm_after);
    }
    // Heal: let every pause and outage end, then wait for quiescence.
    world.run_until(calm_after.max(world.now()) + Duration::from_millis(100))?;
    let drops_ok = options.topic_policy == SlowConsumerPolicy::DropNewest;
    let deadline = world.now() + Duration::from_secs(60);
    let mut last = Ok(());
    while world.now() < deadline {
        world.run_for(Duration::from_millis(100))?;
        let all_up = (0..world.client_count()).all(|i| world.is_connected(i));
        last = match world.broker() {
            Some(b) if all_up => checker.borrow().settled(b.stats(), drops_ok),
            _ => Err("clients not all connected".to_owned()),
        };
        if last.is_ok() {
            break;
        }
    }
    if let Err(why) = last {
        return Err(world.fail(format!("no quiescence within 60 s of healing: {why}")));
    }
    // Everyone leaves gracefully; every connection must close.
    for i in 0..world.client_count() {
        world.with_client(i, |logic, cx| {
            logic.go_offline();
            let _ = cx.disconnect();
        });
    }
    world.run_for(Duration::from_secs(10))?;
    let open = world.broker().map_or(0, |b| b.stats().connections);
    if open != 0 || (0..world.client_count()).any(|i| world.is_connected(i)) {
        return Err(world.fail(format!(
            "{open} broker connections still open 10 s after every client disconnected"
        )));
    }
    let coverage = checker.borrow().coverage();
    Ok(Report {
        stats: world.stats(),
        messages: coverage.messages,
        coverage,
    })
}

fn apply(world: &mut World<ChatClient>, action: &Action, calm_after: &mut Instant) {
    let now = world.now();
    let ms = Duration::from_millis;
    let mut until = |d: Duration| *calm_after = (*calm_after).max(now + d);
    match action {
        Action::Say {
            client,
            room,
            size,
            via_app,
            receipt,
        } => world.with_client(*client, |l, cx| l.say(cx, *room, *size, *via_app, *receipt)),
        Action::Work { client, size } => world.with_client(*client, |l, cx| l.work(cx, *size)),
        Action::Fault(f) => match *f {
            Fault::Reset(c) => world.reset(c),
            Fault::HalfClose(c) => world.half_close(c),
            Fault::Stall(c, d) => {
                until(ms(d));
                world.stall_reader(c, ms(d));
            }
            Fault::Slow(c, d, extra) => {
                until(ms(d));
                world.slow_link(c, ms(d), ms(extra));
            }
            Fault::PauseClient(c, d) => {
                until(ms(d));
                world.pause_client(c, ms(d));
            }
            Fault::PauseServer(d) => {
                until(ms(d));
                world.pause_server(ms(d));
            }
            Fault::Restart(d) => {
                until(ms(d));
                world.restart_server(ms(d));
            }
            Fault::Disconnect(c) => world.with_client(c, |_, cx| {
                let _ = cx.disconnect();
            }),
        },
    }
}
