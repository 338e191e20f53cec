//! The delivery invariants, checked online from the observations (STOMP 1.2 §"SEND",
//! §"MESSAGE", §"ACK", §"NACK", §"RECEIPT"; spec-notes/broker.md rules 1, 3, 5–8, 17).
//!
//! Messages are named by their bodies: `t:{publisher}:{seq}|…` for topic messages, `q:{…}|…` for
//! queue messages. What is guaranteed, precisely, with faults:
//!
//! **Topics.** A SEND whose RECEIPT came back reaches every subscription whose own RECEIPT (for
//! the SUBSCRIBE) arrived before the SEND was made, exactly once — *if that subscriber's
//! connection is still up at the end* (a reset or a dead server loses bytes in flight, and the
//! broker is in memory). Per subscription, each publisher's messages arrive in publishing order
//! with no duplicate — always, faults or not (TCP is a prefix-preserving stream). Under the
//! `DropNewest` slow-consumer policy the broker may skip a slow subscriber: then the number of
//! misses may not exceed `BrokerStats::slow_consumer_drops`.
//!
//! **Queues.** While a consumer holds a message (delivered, not yet ACKed or NACKed) and the broker
//! has not let go of that consumer's connection, nobody else gets it; a message whose ACK was
//! confirmed (a later RECEIPT on the same connection) is never delivered again; a second
//! delivery carries `redelivered:true`. Every queue SEND whose RECEIPT came back, on the broker
//! process still running at the end, is eventually ACKed — or counted by the broker as dropped
//! (`redelivery_exhausted`, `queue_overflow`). A restart loses the queues (in-memory broker);
//! nothing from an earlier process may ever be delivered by a later one.

use crate::net::LinkId;
use crate::trace::Obs;
use crate::world::Observer;
use bytes::Bytes;
use duplex_core::broker::BrokerStats;
use duplex_core::Instant;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// The part of a body that names a message: everything before the first `|`.
pub fn tag_of(body: &Bytes) -> Option<(char, u64, u64)> {
    let end = body.iter().position(|b| *b == b'|')?;
    let text = std::str::from_utf8(&body[..end]).ok()?;
    let mut parts = text.split(':');
    let kind = parts.next()?.chars().next()?;
    let publisher = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    Some((kind, publisher, seq))
}

/// Where a SEND to `destination` ends up: `/app/chat/{room}` is published by the chat handler to
/// `/topic/chat/{room}`.
pub fn effective_destination(destination: &str) -> String {
    match destination.strip_prefix("/app/chat/") {
        Some(room) => format!("/topic/chat/{room}"),
        None => destination.to_owned(),
    }
}

type Tag = (u64, u64);

#[derive(Debug)]
struct LinkState {
    /// The client's session on it is over.
    closed: bool,
    /// The broker let go of it.
    released: bool,
    actions: u64,
    /// Receipt id → the action that asked for it.
    receipts: HashMap<String, (u64, Pending)>,
    /// Positive ACKs not yet confirmed: (action, message).
    acks: Vec<(u64, Tag)>,
}

#[derive(Clone, Debug)]
enum Pending {
    Topic(usize),
    Queue(Tag),
    Subscribe(String),
    Other,
}

#[derive(Debug)]
struct Sub {
    destination: String,
    confirmed_at: Option<Instant>,
    last: BTreeMap<u64, u64>,
    got: BTreeSet<Tag>,
}

#[derive(Debug)]
struct TopicSend {
    tag: Tag,
    destination: String,
    sent_at: Instant,
    receipted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QState {
    Pending,
    Held(LinkId),
    AckSent(LinkId),
    Done,
}

#[derive(Debug)]
struct QueueMsg {
    process: u32,
    receipted: bool,
    state: QState,
    deliveries: u32,
}

/// The delivery invariants. Share it with the world through [`SharedChecker`].
#[derive(Debug, Default)]
pub struct DeliveryChecker {
    process: u32,
    links: BTreeMap<LinkId, LinkState>,
    subs: BTreeMap<(LinkId, String), Sub>,
    topic_sends: Vec<TopicSend>,
    queue: BTreeMap<Tag, QueueMsg>,
    /// Messages checked (for reports).
    pub messages: u64,
}

/// What a checker saw, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// SENDs to topics / receipted ones.
    pub topic_sends: usize,
    /// … of which receipted.
    pub topic_receipted: usize,
    /// Queue messages sent.
    pub queue_sends: usize,
    /// Queue messages whose ACK was confirmed.
    pub queue_acked: usize,
    /// Queue messages delivered more than once.
    pub queue_redelivered: usize,
    /// MESSAGE frames.
    pub messages: u64,
}

/// A [`DeliveryChecker`] the world observes through while the scenario queries it.
pub type SharedChecker = Rc<RefCell<DeliveryChecker>>;

impl Observer for SharedChecker {
    fn observe(&mut self, now: Instant, obs: &Obs) -> Result<(), String> {
        self.borrow_mut().observe(now, obs)
    }
}

impl DeliveryChecker {
    fn link(&mut self, link: LinkId) -> &mut LinkState {
        self.links.entry(link).or_insert_with(|| LinkState {
            closed: false,
            released: false,
            actions: 0,
            receipts: HashMap::new(),
            acks: Vec::new(),
        })
    }

    fn action(&mut self, link: LinkId, receipt: &Option<String>, what: Pending) {
        let l = self.link(link);
        l.actions += 1;
        if let Some(r) = receipt {
            let n = l.actions;
            l.receipts.insert(r.clone(), (n, what));
        }
    }

    /// Check one observation.
    pub fn observe(&mut self, now: Instant, obs: &Obs) -> Result<(), String> {
        match obs {
            Obs::Connected { link, .. } => {
                self.link(*link);
            }
            Obs::Send {
                link,
                destination,
                body,
                receipt,
                ..
            } => {
                let what = match tag_of(body) {
                    Some(('t', p, s)) => {
                        self.topic_sends.push(TopicSend {
                            tag: (p, s),
                            destination: effective_destination(destination),
                            sent_at: now,
                            receipted: false,
                        });
                        Pending::Topic(self.topic_sends.len() - 1)
                    }
                    Some(('q', p, s)) => {
                        self.queue.insert(
                            (p, s),
                            QueueMsg {
                                process: self.process,
                                receipted: false,
                                state: QState::Pending,
                                deliveries: 0,
                            },
                        );
                        Pending::Queue((p, s))
                    }
                    _ => Pending::Other,
                };
                self.action(*link, receipt, what);
            }
            Obs::Subscribe {
                link,
                sub,
                destination,
                receipt,
                ..
            } => {
                self.subs.insert(
                    (*link, sub.clone()),
                    Sub {
                        destination: destination.clone(),
                        confirmed_at: None,
                        last: BTreeMap::new(),
                        got: BTreeSet::new(),
                    },
                );
                self.action(*link, receipt, Pending::Subscribe(sub.clone()));
            }
            Obs::Ack {
                link,
                body,
                positive,
                receipt,
                ..
            } => {
                self.action(*link, receipt, Pending::Other);
                let n = self.link(*link).actions;
                if let Some(('q', p, s)) = tag_of(body) {
                    if let Some(m) = self.queue.get_mut(&(p, s)) {
                        if m.state == QState::Held(*link) {
                            if *positive {
                                m.state = QState::AckSent(*link);
                                self.links
                                    .get_mut(link)
                                    .expect("known")
                                    .acks
                                    .push((n, (p, s)));
                            } else {
                                m.state = QState::Pending;
                            }
                        }
                    }
                }
            }
            Obs::Receipt { link, receipt, .. } => {
                let l = self.link(*link);
                // (The DISCONNECT's RECEIPT is the session's own: not tracked here.)
                let Some((n, what)) = l.receipts.remove(receipt) else {
                    return Ok(());
                };
                // A RECEIPT confirms every earlier frame on its connection (the broker acts on
                // frames in order before answering).
                let confirmed: Vec<Tag> = l
                    .acks
                    .iter()
                    .filter(|(a, _)| *a < n)
                    .map(|(_, t)| *t)
                    .collect();
                l.acks.retain(|(a, _)| *a >= n);
                for t in confirmed {
                    if let Some(m) = self.queue.get_mut(&t) {
                        if m.state == QState::AckSent(*link) {
                            m.state = QState::Done;
                        }
                    }
                }
                match what {
                    Pending::Topic(i) => self.topic_sends[i].receipted = true,
                    Pending::Queue(t) => {
                        if let Some(m) = self.queue.get_mut(&t) {
                            m.receipted = true;
                        }
                    }
                    Pending::Subscribe(sub) => {
                        if let Some(s) = self.subs.get_mut(&(*link, sub)) {
                            s.confirmed_at = Some(now);
                        }
                    }
                    Pending::Other => {}
                }
            }
            Obs::Message {
                link,
                sub,
                body,
                redelivered,
                ..
            } => {
                self.messages += 1;
                let Some((kind, p, s)) = tag_of(body) else {
                    return Ok(());
                };
                match kind {
                    't' => self.on_topic_message(*link, sub, (p, s))?,
                    'q' => self.on_queue_message(*link, (p, s), *redelivered)?,
                    _ => {}
                }
            }
            Obs::SessionClosed { link, .. } => self.link(*link).closed = true,
            Obs::Released { link } => self.link(*link).released = true,
            Obs::ServerDown => {
                self.process += 1;
                for l in self.links.values_mut() {
                    l.released = true;
                }
            }
            Obs::ServerUp | Obs::Fault(_) => {}
        }
        Ok(())
    }

    fn on_topic_message(&mut self, link: LinkId, sub: &str, tag: Tag) -> Result<(), String> {
        if !self.topic_sends.iter().any(|t| t.tag == tag) {
            return Err(format!(
                "{link:?} {sub}: topic message {tag:?} was never sent"
            ));
        }
        let Some(s) = self.subs.get_mut(&(link, sub.to_owned())) else {
            return Err(format!("{link:?}: MESSAGE for unknown subscription {sub}"));
        };
        let (publisher, seq) = tag;
        if let Some(last) = s.last.get(&publisher) {
            if *last >= seq {
                return Err(format!(
                    "{link:?} {sub}: message {publisher}:{seq} after {publisher}:{last} \
                     (duplicate or out of publisher order)"
                ));
            }
        }
        s.last.insert(publisher, seq);
        s.got.insert(tag);
        Ok(())
    }

    fn on_queue_message(
        &mut self,
        link: LinkId,
        tag: Tag,
        redelivered: bool,
    ) -> Result<(), String> {
        let process = self.process;
        let released = |links: &BTreeMap<LinkId, LinkState>, l: LinkId| {
            links.get(&l).map_or(true, |s| s.released)
        };
        let Some(m) = self.queue.get(&tag) else {
            return Err(format!("{link:?}: queue message {tag:?} was never sent"));
        };
        if released(&self.links, link) {
            // Sent before the broker let go of this connection, read late (a paused or stalled
            // reader): the broker has already put it back, so it is not a new delivery.
            return Ok(());
        }
        if m.process != process {
            return Err(format!(
                "{link:?}: queue message {tag:?} from an earlier server process delivered again"
            ));
        }
        match m.state {
            QState::Done => {
                return Err(format!(
                    "{link:?}: queue message {tag:?} delivered again after its ACK was confirmed"
                ))
            }
            QState::Held(h) | QState::AckSent(h) if !released(&self.links, h) => {
                return Err(format!(
                    "{link:?}: queue message {tag:?} delivered while {h:?} still holds it \
                     ({:?}, not released by the broker)",
                    m.state
                ))
            }
            _ => {}
        }
        if m.deliveries > 0 && !redelivered {
            return Err(format!(
                "{link:?}: queue message {tag:?} delivered again without redelivered:true"
            ));
        }
        let m = self.queue.get_mut(&tag).expect("checked");
        m.state = QState::Held(link);
        m.deliveries += 1;
        Ok(())
    }

    fn link_up(&self, link: LinkId) -> bool {
        self.links
            .get(&link)
            .is_some_and(|l| !l.closed && !l.released)
    }

    /// What was checked.
    pub fn coverage(&self) -> Coverage {
        Coverage {
            topic_sends: self.topic_sends.len(),
            topic_receipted: self.topic_sends.iter().filter(|t| t.receipted).count(),
            queue_sends: self.queue.len(),
            queue_acked: self
                .queue
                .values()
                .filter(|m| m.state == QState::Done)
                .count(),
            queue_redelivered: self.queue.values().filter(|m| m.deliveries > 1).count(),
            messages: self.messages,
        }
    }

    /// Receipted topic messages not (yet) received by a subscription that must get them.
    pub fn topic_missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for t in self.topic_sends.iter().filter(|t| t.receipted) {
            for ((link, sub), s) in &self.subs {
                let eligible = s.destination == t.destination
                    && s.confirmed_at.is_some_and(|c| c <= t.sent_at)
                    && self.link_up(*link);
                if eligible && !s.got.contains(&t.tag) {
                    missing.push(format!("{link:?} {sub} lacks {:?}", t.tag));
                }
            }
        }
        missing
    }

    /// Receipted queue messages of the running process not ACKed (confirmed) yet.
    pub fn queue_missing(&self) -> Vec<String> {
        self.queue
            .iter()
            .filter(|(_, m)| m.process == self.process && m.receipted)
            .filter(|(_, m)| match m.state {
                QState::Done => false,
                // The ACK went out and the connection died before its confirmation: the broker
                // may or may not have applied it, and it will not say.
                QState::AckSent(h) => !self.links.get(&h).is_some_and(|l| l.released),
                _ => true,
            })
            .map(|(t, m)| format!("{t:?} {:?}", m.state))
            .collect()
    }

    /// Whether everything that must arrive has, given what the broker counted as dropped.
    /// `Err` lists what is missing.
    pub fn settled(&self, stats: &BrokerStats, topic_drops_allowed: bool) -> Result<(), String> {
        let topic = self.topic_missing();
        let allowed = if topic_drops_allowed {
            stats.slow_consumer_drops as usize
        } else {
            0
        };
        if topic.len() > allowed {
            return Err(format!(
                "{} receipted topic deliveries missing (broker counted {} slow-consumer drops): {}",
                topic.len(),
                stats.slow_consumer_drops,
                topic.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
            ));
        }
        let queue = self.queue_missing();
        let dropped = (stats.redelivery_exhausted + stats.queue_overflow) as usize;
        if queue.len() > dropped {
            return Err(format!(
                "{} receipted queue messages never ACKed (broker counted {dropped} dropped): {}",
                queue.len(),
                queue.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
            ));
        }
        Ok(())
    }
}
