//! Two ready-made [`Authenticator`]s for a broker's CONNECT: a fixed user table, and "any login"
//! for demos. Anonymous sessions get a unique `anon-N` principal, so two anonymous clients
//! never share `/user/` destinations.

use crate::stomp::{Authenticator, Frame};
use std::collections::HashMap;

/// Principals of anonymous sessions start with this; logins that do are refused, so nobody can
/// pose as an anonymous session.
pub const ANONYMOUS_PREFIX: &str = "anon-";

/// A fixed table of users (login → passcode). A CONNECT with a known login and its passcode
/// gets that login as its principal; anything else is refused with ERROR "bad credentials".
/// A CONNECT without a login is refused too, unless [`allow_anonymous`](Self::allow_anonymous),
/// in which case it gets a unique `anon-N` principal.
#[derive(Clone, Debug, Default)]
pub struct Users {
    passcodes: HashMap<String, String>,
    allow_anonymous: bool,
    next_anonymous: u64,
}

impl Users {
    /// No users: every CONNECT is refused (until [`add`](Self::add) or
    /// [`allow_anonymous`](Self::allow_anonymous)).
    pub fn new() -> Self {
        Users::default()
    }

    /// Add (or replace) a user.
    pub fn add(mut self, login: impl Into<String>, passcode: impl Into<String>) -> Self {
        self.passcodes.insert(login.into(), passcode.into());
        self
    }

    /// Also let in CONNECTs without a `login` header, each as a unique `anon-N`.
    pub fn allow_anonymous(mut self, allow: bool) -> Self {
        self.allow_anonymous = allow;
        self
    }

    /// How many users are configured.
    pub fn len(&self) -> usize {
        self.passcodes.len()
    }

    /// Whether no users are configured.
    pub fn is_empty(&self) -> bool {
        self.passcodes.is_empty()
    }
}

impl Authenticator for Users {
    fn authenticate(
        &mut self,
        login: Option<&str>,
        passcode: Option<&str>,
        _: &Frame,
    ) -> Result<String, String> {
        match login {
            None | Some("") if self.allow_anonymous => Ok(anonymous(&mut self.next_anonymous)),
            None | Some("") => Err("login required".to_owned()),
            Some(login) => match self.passcodes.get(login) {
                Some(expected) if same(expected.as_bytes(), passcode.unwrap_or("").as_bytes()) => {
                    Ok(login.to_owned())
                }
                _ => Err("bad credentials".to_owned()),
            },
        }
    }
}

/// Any non-empty `login` is accepted as the principal, without a passcode; no login gives a
/// unique `anon-N`. For demos and trusted networks only: anyone can claim any name.
#[derive(Clone, Debug, Default)]
pub struct AnyLogin {
    next_anonymous: u64,
}

impl Authenticator for AnyLogin {
    fn authenticate(
        &mut self,
        login: Option<&str>,
        _: Option<&str>,
        _: &Frame,
    ) -> Result<String, String> {
        match login.map(str::trim) {
            Some(l) if !l.is_empty() && !l.starts_with(ANONYMOUS_PREFIX) => Ok(l.to_owned()),
            _ => Ok(anonymous(&mut self.next_anonymous)),
        }
    }
}

fn anonymous(next: &mut u64) -> String {
    *next += 1;
    format!("{ANONYMOUS_PREFIX}{next}")
}

/// Equal, in time that depends only on the lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stomp::Command;

    fn auth(
        a: &mut impl Authenticator,
        login: Option<&str>,
        pass: Option<&str>,
    ) -> Result<String, String> {
        a.authenticate(login, pass, &Frame::new(Command::Connect))
    }

    #[test]
    fn users_need_the_right_passcode_and_anonymous_only_when_allowed() {
        let mut u = Users::new().add("alice", "s3cret");
        assert_eq!(
            auth(&mut u, Some("alice"), Some("s3cret")),
            Ok("alice".into())
        );
        assert!(auth(&mut u, Some("alice"), Some("s3cre")).is_err());
        assert!(auth(&mut u, Some("alice"), None).is_err());
        assert!(auth(&mut u, Some("bob"), Some("s3cret")).is_err());
        assert!(auth(&mut u, None, None).is_err());
        assert!(auth(&mut u, Some("anon-1"), None).is_err());
        let mut u = u.allow_anonymous(true);
        assert_eq!(auth(&mut u, None, None), Ok("anon-1".into()));
        assert_eq!(auth(&mut u, Some(""), None), Ok("anon-2".into()));
    }

    #[test]
    fn any_login_gives_anonymous_sessions_distinct_principals() {
        let mut a = AnyLogin::default();
        assert_eq!(auth(&mut a, Some("bob"), None), Ok("bob".into()));
        assert_eq!(auth(&mut a, None, None), Ok("anon-1".into()));
        assert_eq!(auth(&mut a, Some("anon-1"), None), Ok("anon-2".into()));
    }
}
