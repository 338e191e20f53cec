//! The blocking layer's engine: a private `Poll` with one socket in it.

use std::io;

use mio::{Events, Poll, Registry, Token};

use crate::time::{earliest, poll_timeout};
use crate::Error;

/// The token of the one socket in a private poll.
const TOKEN: Token = Token(0);

/// What a private poll drives: the event-loop sockets of this crate.
pub(crate) trait Pollable {
    fn register(&mut self, registry: &Registry, token: Token) -> Result<(), Error>;
    fn handle_ready(&mut self, registry: &Registry, event: &mio::event::Event)
        -> Result<(), Error>;
    fn handle_timeout(&mut self);
    fn next_deadline(&self) -> Option<std::time::Instant>;
}

/// A private `Poll` for one socket.
#[derive(Debug)]
pub(crate) struct Driver {
    poll: Poll,
    events: Events,
}

impl Driver {
    /// A poll with `socket` registered in it.
    pub(crate) fn new(socket: &mut impl Pollable) -> Result<Driver, Error> {
        let poll = Poll::new()?;
        socket.register(poll.registry(), TOKEN)?;
        Ok(Driver {
            poll,
            events: Events::with_capacity(8),
        })
    }

    pub(crate) fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    /// Block until the socket is ready or its deadline (or `until`) passes, then hand it what
    /// happened. `Err` with [`Error::is_timeout`] when `until` has passed.
    pub(crate) fn wait(
        &mut self,
        socket: &mut impl Pollable,
        until: Option<std::time::Instant>,
    ) -> Result<(), Error> {
        if until.is_some_and(|u| u <= std::time::Instant::now()) {
            return Err(Error::timed_out());
        }
        let timeout = poll_timeout(earliest(socket.next_deadline(), until));
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        for event in self.events.iter() {
            socket.handle_ready(self.poll.registry(), event)?;
        }
        if socket
            .next_deadline()
            .is_some_and(|at| at <= std::time::Instant::now())
        {
            socket.handle_timeout();
        }
        Ok(())
    }
}

/// `now + timeout`.
pub(crate) fn deadline_after(timeout: std::time::Duration) -> std::time::Instant {
    std::time::Instant::now() + timeout
}
