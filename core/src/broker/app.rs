//! Application destinations (`/app/**`): the SEND as handlers see it, and the context through
//! which a handler replies.

use super::ConnId;
use crate::stomp::Frame;
use bytes::Bytes;

/// A SEND to an application destination, as a handler (or the application, through
/// [`Output::AppMessage`](super::Output::AppMessage)) sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppMessage {
    /// The connection it came from.
    pub conn: ConnId,
    /// The STOMP session id of that connection.
    pub session: String,
    /// The authenticated principal of the sender.
    pub principal: String,
    /// The `destination` header (with the app prefix).
    pub destination: String,
    /// Path variables (`{room}`) of the matching handler pattern, in pattern order. Empty in an
    /// [`Output::AppMessage`](super::Output::AppMessage).
    pub vars: Vec<(String, String)>,
    /// The whole SEND frame (headers and body).
    pub frame: Frame,
}

impl AppMessage {
    /// The path variable `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first header `name` of the SEND.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.frame.get(name)
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.frame.body
    }
}

/// What a handler asked the broker to do; applied in order once the handler returns, before
/// the SEND's RECEIPT.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    Publish {
        destination: String,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    ToUser {
        user: String,
        destination: String,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// Like `ToUser` for the sender's principal, but only to the sending connection.
    ToSession {
        conn: ConnId,
        destination: String,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
}

/// Handed to a synchronous handler: replies are collected and routed when the handler returns.
#[derive(Debug)]
pub struct HandlerContext {
    conn: ConnId,
    principal: String,
    pub(crate) replies: Vec<Reply>,
}

impl HandlerContext {
    pub(crate) fn new(conn: ConnId, principal: &str) -> Self {
        HandlerContext {
            conn,
            principal: principal.to_owned(),
            replies: Vec::new(),
        }
    }

    /// Publish to a topic or queue destination (e.g. `/topic/chat.lobby`). A destination that
    /// is neither is dropped and counted in [`BrokerStats::unroutable`](super::BrokerStats::unroutable).
    pub fn publish(&mut self, destination: &str, body: impl Into<Bytes>) {
        self.publish_with_headers(destination, &[], body);
    }

    /// [`publish`](Self::publish) with extra headers for the MESSAGE.
    pub fn publish_with_headers(
        &mut self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.replies.push(Reply::Publish {
            destination: destination.to_owned(),
            headers: owned(headers),
            body: body.into(),
        });
    }

    /// Send to the sender's own user destination: `reply_to_user("/queue/reply", …)` reaches
    /// the sender's sessions subscribed to `/user/queue/reply`.
    pub fn reply_to_user(&mut self, destination: &str, body: impl Into<Bytes>) {
        let user = self.principal.clone();
        self.send_to_user(&user, destination, body);
    }

    /// Send to the sending session only (not the sender's other sessions): it reaches that
    /// session's subscriptions to `/user{destination}` — Spring's
    /// `@SendToUser(broadcast = false)`.
    pub fn reply_to_session(
        &mut self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.replies.push(Reply::ToSession {
            conn: self.conn,
            destination: destination.to_owned(),
            headers: owned(headers),
            body: body.into(),
        });
    }

    /// [`reply_to_user`](Self::reply_to_user) with extra headers for the MESSAGE.
    pub fn reply_to_user_with_headers(
        &mut self,
        destination: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) {
        self.replies.push(Reply::ToUser {
            user: self.principal.clone(),
            destination: destination.to_owned(),
            headers: owned(headers),
            body: body.into(),
        });
    }

    /// Send to `user`'s sessions subscribed to `/user{destination}`.
    pub fn send_to_user(&mut self, user: &str, destination: &str, body: impl Into<Bytes>) {
        self.replies.push(Reply::ToUser {
            user: user.to_owned(),
            destination: destination.to_owned(),
            headers: Vec::new(),
            body: body.into(),
        });
    }
}

fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

/// A synchronous `/app` handler.
pub(crate) type Handler = Box<dyn FnMut(&mut HandlerContext, &AppMessage) + Send>;
