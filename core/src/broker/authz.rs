//! Who may subscribe and send where, and the authenticator shared by every session.

use crate::stomp::{Authenticator, Frame};
use std::sync::{Arc, Mutex};

/// Decides per frame whether a connected principal may SUBSCRIBE to or SEND to a destination.
/// A refusal sends ERROR (with `receipt-id` when asked) and closes the session: STOMP has no
/// per-frame error that keeps the connection.
pub trait Authorizer: Send {
    /// May `principal` subscribe to `destination` (as written in the SUBSCRIBE frame)?
    fn can_subscribe(&self, principal: &str, destination: &str) -> bool;
    /// May `principal` send to `destination` (as written in the SEND frame)?
    fn can_send(&self, principal: &str, destination: &str) -> bool;
}

/// Everyone may do everything, including sending to other users' `/user/{name}/…`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PermitAll;

impl Authorizer for PermitAll {
    fn can_subscribe(&self, _: &str, _: &str) -> bool {
        true
    }
    fn can_send(&self, _: &str, _: &str) -> bool {
        true
    }
}

/// The default: every topic, queue and app destination is open; a SEND to
/// `/user/{name}/…` is allowed only when `name` is the sender's own principal.
///
/// Subscriptions to `/user/…` need no check: they always resolve to the subscriber's own user
/// (`/user/queue/x` means "my `/queue/x`"), so nobody can subscribe to another user's messages.
#[derive(Clone, Debug)]
pub struct DefaultAuthorizer {
    user_prefix: String,
}

impl DefaultAuthorizer {
    /// With user destinations under `user_prefix` (the broker default is `/user`).
    pub fn new(user_prefix: impl Into<String>) -> Self {
        DefaultAuthorizer {
            user_prefix: user_prefix.into(),
        }
    }
}

impl Default for DefaultAuthorizer {
    fn default() -> Self {
        DefaultAuthorizer::new("/user")
    }
}

impl Authorizer for DefaultAuthorizer {
    fn can_subscribe(&self, _: &str, _: &str) -> bool {
        true
    }

    fn can_send(&self, principal: &str, destination: &str) -> bool {
        match destination
            .strip_prefix(self.user_prefix.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
        {
            Some(rest) => rest.split('/').next() == Some(principal),
            None => true,
        }
    }
}

/// One authenticator behind every session of the broker.
#[derive(Clone)]
pub(crate) struct SharedAuthenticator(pub(crate) Arc<Mutex<Box<dyn Authenticator>>>);

impl Authenticator for SharedAuthenticator {
    fn authenticate(
        &mut self,
        login: Option<&str>,
        passcode: Option<&str>,
        frame: &Frame,
    ) -> Result<String, String> {
        let mut auth = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        auth.authenticate(login, passcode, frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_authorizer_guards_other_users_only() {
        let a = DefaultAuthorizer::default();
        assert!(a.can_send("alice", "/user/alice/queue/x"));
        assert!(!a.can_send("bob", "/user/alice/queue/x"));
        assert!(!a.can_send("anonymous", "/user/alice/queue/x"));
        assert!(a.can_send("bob", "/topic/x"));
        assert!(a.can_send("bob", "/username/x"));
        assert!(a.can_subscribe("bob", "/user/queue/x"));
    }
}
