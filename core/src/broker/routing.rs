//! What the broker does with each session event: SUBSCRIBE/UNSUBSCRIBE bookkeeping, SEND
//! routing (topic, queue, user, app), ACK/NACK, transactions, refusals and receipts.
//! A RECEIPT is sent only once the frame has been acted on (STOMP 1.2 §"RECEIPT").

use super::app::{AppMessage, HandlerContext, Reply};
use super::pattern::Pattern;
use super::{Broker, ConnId, Kind, Output, Route, SubKey, Subscription, TxOp};
use crate::stomp::{
    AckMode, Acknowledgement, Frame, ReceiptId, ServerEvent, SubscriptionId, TransactionId,
};
use crate::time::Instant;

/// SEND headers that describe the SEND itself, not the message: not copied to MESSAGE.
const NOT_PASSED_THROUGH: &[&str] = &[
    "destination",
    "receipt",
    "transaction",
    "content-length",
    "message-id",
    "subscription",
    "ack",
    "redelivered",
];

impl Broker {
    /// Act on every event the session of `id` has, then flush and dispatch.
    pub(crate) fn drain_session(&mut self, now: Instant, id: ConnId) {
        while let Some(event) = self.conns.get_mut(&id).and_then(|c| c.session.poll_event()) {
            self.on_event(now, id, event);
        }
        self.flush(now, id);
        self.run_dispatch(now);
    }

    fn on_event(&mut self, now: Instant, id: ConnId, event: ServerEvent) {
        if let ServerEvent::Closed = event {
            self.flush(now, id);
            self.detach(id, true);
            return;
        }
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.detached {
            // Frames parsed before we refused or dropped the session are not acted on.
            return;
        }
        match event {
            ServerEvent::Connected { principal, .. } => c.principal = Some(principal),
            ServerEvent::Subscribe {
                id: sub,
                destination,
                ack,
                receipt,
                ..
            } => self.on_subscribe(now, id, sub, &destination, ack, receipt),
            ServerEvent::Unsubscribe { id: sub, receipt } => {
                self.remove_subscription(id, &sub);
                self.run_dispatch(now);
                self.receipt(now, id, receipt);
            }
            ServerEvent::Send {
                destination,
                transaction,
                receipt,
                frame,
            } => self.on_send(now, id, destination, transaction, receipt, frame),
            ServerEvent::Ack(ack) => self.on_acknowledgement(now, id, ack, true),
            ServerEvent::Nack(ack) => self.on_acknowledgement(now, id, ack, false),
            ServerEvent::Begin {
                transaction,
                receipt,
            } => {
                c.transactions.insert(transaction, Vec::new());
                self.receipt(now, id, receipt);
            }
            ServerEvent::Commit {
                transaction,
                receipt,
            } => {
                let ops = c.transactions.remove(&transaction).unwrap_or_default();
                for op in ops {
                    match op {
                        TxOp::Send { destination, frame } => {
                            self.apply_send(now, id, &destination, frame)
                        }
                        TxOp::Ack(ack) => self.apply_acknowledgement(id, &ack, true),
                        TxOp::Nack(ack) => self.apply_acknowledgement(id, &ack, false),
                    }
                }
                self.run_dispatch(now);
                self.receipt(now, id, receipt);
            }
            ServerEvent::Abort {
                transaction,
                receipt,
            } => {
                c.transactions.remove(&transaction);
                self.receipt(now, id, receipt);
            }
            ServerEvent::TransactionsAborted(ids) => {
                for t in ids {
                    c.transactions.remove(&t);
                }
            }
            ServerEvent::Disconnect { receipt } => self.receipt(now, id, receipt),
            ServerEvent::HeartBeatTimeout => tracing::debug!(conn = %id, "heart-beat timeout"),
            ServerEvent::ProtocolError(error) => {
                tracing::debug!(conn = %id, %error, "protocol error")
            }
            ServerEvent::Closed => unreachable!("handled above"),
        }
    }

    fn principal(&self, id: ConnId) -> String {
        self.conns
            .get(&id)
            .and_then(|c| c.principal.clone())
            .unwrap_or_default()
    }

    fn on_subscribe(
        &mut self,
        now: Instant,
        id: ConnId,
        sub: SubscriptionId,
        destination: &str,
        ack: AckMode,
        receipt: Option<ReceiptId>,
    ) {
        let principal = self.principal(id);
        if !self.authorizer.can_subscribe(&principal, destination) {
            let msg = format!("not authorized to subscribe to {destination}");
            return self.refuse(now, id, &msg, receipt.as_ref());
        }
        let sep = self.config.path_separator;
        let key = SubKey {
            conn: id,
            id: sub.clone(),
        };
        let route = match self.classify(destination) {
            Kind::Topic => {
                let p = Pattern::parse(destination, sep, false);
                if p.is_literal() {
                    self.topics_exact
                        .entry(destination.to_owned())
                        .or_default()
                        .insert(key.clone());
                } else {
                    self.topics_wild.insert(key.clone(), p.clone());
                }
                Route::Topic(p)
            }
            Kind::Queue => {
                if !Pattern::parse(destination, sep, false).is_literal() {
                    let msg = format!("queue subscriptions cannot use wildcards: {destination}");
                    return self.refuse(now, id, &msg, receipt.as_ref());
                }
                let q = self.queues.entry(destination.to_owned()).or_default();
                q.consumers.push(key.clone());
                self.dirty.insert(destination.to_owned());
                Route::Queue(destination.to_owned())
            }
            Kind::User => {
                // `/user/queue/x` always means the subscriber's own `/queue/x`.
                let rest = &destination[self.config.user_prefix.len()..];
                let p = Pattern::parse(rest, sep, false);
                self.users
                    .entry(principal)
                    .or_default()
                    .insert(key.clone(), p);
                Route::User
            }
            Kind::App | Kind::Unknown => {
                let msg = format!("cannot subscribe to {destination}: no such broker destination");
                return self.refuse(now, id, &msg, receipt.as_ref());
            }
        };
        if let Some(c) = self.conns.get_mut(&id) {
            c.subs.insert(
                sub,
                Subscription {
                    route,
                    ack,
                    unacked: 0,
                },
            );
        }
        self.run_dispatch(now);
        self.receipt(now, id, receipt);
    }

    fn on_send(
        &mut self,
        now: Instant,
        id: ConnId,
        destination: String,
        transaction: Option<TransactionId>,
        receipt: Option<ReceiptId>,
        frame: Frame,
    ) {
        let principal = self.principal(id);
        if !self.authorizer.can_send(&principal, &destination) {
            let msg = format!("not authorized to send to {destination}");
            return self.refuse(now, id, &msg, receipt.as_ref());
        }
        let routable = match self.classify(&destination) {
            Kind::Unknown => false,
            Kind::User => self.split_user_destination(&destination).is_some(),
            _ => true,
        };
        if !routable {
            let msg = format!("no route to destination {destination}");
            return self.refuse(now, id, &msg, receipt.as_ref());
        }
        if let Some(t) = transaction {
            return self.buffer(now, id, &t, TxOp::Send { destination, frame }, receipt);
        }
        self.apply_send(now, id, &destination, frame);
        self.run_dispatch(now);
        self.receipt(now, id, receipt);
    }

    /// Route a (committed) SEND from `id`.
    fn apply_send(&mut self, now: Instant, id: ConnId, destination: &str, frame: Frame) {
        if self.classify(destination) == Kind::App {
            self.stats.messages_in += 1;
            return self.run_app(now, id, destination, frame);
        }
        let headers = frame
            .headers
            .iter()
            .filter(|(n, _)| !NOT_PASSED_THROUGH.contains(n))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        self.route(now, destination, headers, frame.body);
    }

    /// The first matching handler runs now; otherwise the SEND goes out as
    /// [`Output::AppMessage`].
    fn run_app(&mut self, now: Instant, id: ConnId, destination: &str, frame: Frame) {
        let principal = self.principal(id);
        let session = self
            .conns
            .get(&id)
            .map(|c| c.session.session_id().to_owned())
            .unwrap_or_default();
        let mut message = AppMessage {
            conn: id,
            session,
            principal: principal.clone(),
            destination: destination.to_owned(),
            vars: Vec::new(),
            frame,
        };
        let found = self
            .handlers
            .iter()
            .enumerate()
            .find_map(|(i, (p, _))| p.captures(destination).map(|vars| (i, vars)));
        let Some((index, vars)) = found else {
            self.stats.app_messages_out += 1;
            self.outputs.push_back(Output::AppMessage(message));
            return;
        };
        message.vars = vars;
        let mut ctx = HandlerContext::new(id, &principal);
        (self.handlers[index].1)(&mut ctx, &message);
        for reply in ctx.replies {
            match reply {
                Reply::Publish {
                    destination,
                    headers,
                    body,
                } => {
                    if !self.route(now, &destination, headers, body) {
                        tracing::warn!(%destination, "handler published to an unroutable destination");
                    }
                }
                Reply::ToUser {
                    user,
                    destination,
                    headers,
                    body,
                } => {
                    self.stats.messages_in += 1;
                    self.publish_user(now, &user, None, &destination, &headers, &body);
                }
                Reply::ToSession {
                    conn,
                    destination,
                    headers,
                    body,
                } => {
                    self.stats.messages_in += 1;
                    self.publish_session(now, conn, &destination, &headers, &body);
                }
            }
        }
    }

    fn on_acknowledgement(
        &mut self,
        now: Instant,
        id: ConnId,
        ack: Acknowledgement,
        positive: bool,
    ) {
        if let Some(t) = ack.transaction.clone() {
            let receipt = ack.receipt.clone();
            let op = if positive {
                TxOp::Ack(ack)
            } else {
                TxOp::Nack(ack)
            };
            return self.buffer(now, id, &t, op, receipt);
        }
        self.apply_acknowledgement(id, &ack, positive);
        self.run_dispatch(now);
        self.receipt(now, id, ack.receipt);
    }

    /// ACK: forget the message(s); NACK: give them back for redelivery. `client` mode covers
    /// every earlier unacked message of the subscription; `client-individual` exactly one.
    /// Unknown ids (already acked, topic messages, auto subscriptions) are ignored.
    fn apply_acknowledgement(&mut self, id: ConnId, ack: &Acknowledgement, positive: bool) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(&seq) = c.in_flight_ids.get(&ack.id) else {
            return;
        };
        let Some(sub) = c.in_flight.get(&seq).map(|f| f.sub.clone()) else {
            return;
        };
        let Some(s) = c.subs.get(&sub) else {
            return;
        };
        let seqs: Vec<u64> = if s.ack == AckMode::Client {
            c.in_flight
                .range(..=seq)
                .filter(|(_, f)| f.sub == sub)
                .map(|(k, _)| *k)
                .collect()
        } else {
            vec![seq]
        };
        let queue = match &s.route {
            Route::Queue(q) => Some(q.clone()),
            _ => None,
        };
        let mut returned = Vec::new();
        for k in seqs {
            if let Some(f) = c.in_flight.remove(&k) {
                returned.push(f.message);
            }
            c.in_flight_ids
                .remove(&super::delivery::message_id(&self.id_prefix, k));
        }
        if let Some(s) = c.subs.get_mut(&sub) {
            s.unacked = s.unacked.saturating_sub(returned.len());
        }
        if let Some(q) = queue {
            self.dirty.insert(q);
        }
        if !positive {
            let key = SubKey { conn: id, id: sub };
            for message in returned.into_iter().rev() {
                self.requeue(message, Some(key.clone()));
            }
        }
    }

    /// Hold a SEND/ACK/NACK until COMMIT; too many → ERROR and close.
    fn buffer(
        &mut self,
        now: Instant,
        id: ConnId,
        transaction: &TransactionId,
        op: TxOp,
        receipt: Option<ReceiptId>,
    ) {
        let max = self.config.max_transaction_frames;
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        let ops = c.transactions.entry(transaction.clone()).or_default();
        if ops.len() >= max {
            let msg = format!("transaction {transaction} holds more than {max} frames");
            return self.refuse(now, id, &msg, receipt.as_ref());
        }
        ops.push(op);
        self.receipt(now, id, receipt);
    }

    /// ERROR and close (STOMP has no per-frame error that keeps the connection).
    pub(crate) fn refuse(
        &mut self,
        now: Instant,
        id: ConnId,
        message: &str,
        receipt: Option<&ReceiptId>,
    ) {
        if let Some(c) = self.conns.get_mut(&id) {
            if c.session.send_error(message, "", receipt).is_err() {
                tracing::debug!(conn = %id, "session already closed");
            }
        }
        self.flush(now, id);
        self.detach(id, true);
    }

    fn receipt(&mut self, now: Instant, id: ConnId, receipt: Option<ReceiptId>) {
        let Some(r) = receipt else {
            return;
        };
        if let Some(c) = self.conns.get_mut(&id).filter(|c| !c.detached) {
            if c.session.send_receipt(&r).is_err() {
                tracing::debug!(conn = %id, "no RECEIPT: session closed");
            }
            self.flush(now, id);
        }
    }
}
