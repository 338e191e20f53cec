//! Drives the core's handshake machines over a [`ByteStream`]: write what the machine queues,
//! read, fire its timer, until it has an outcome.

use duplex_core::ws::handshake::{ClientHandshake, ClientOutcome, ServerHandshake, ServerOutcome};
use duplex_core::Instant;

use super::ByteStream;
use crate::runtime::{until, Clock};
use crate::Error;

/// The handshake operations the driver needs, common to both roles.
pub(crate) trait Handshake {
    type Outcome;
    fn handle_input(&mut self, now: Instant, data: &[u8]);
    fn handle_timeout(&mut self, now: Instant);
    fn handle_eof(&mut self);
    fn poll_timeout(&self) -> Option<Instant>;
    fn poll_transmit(&mut self) -> Option<bytes::Bytes>;
    fn poll_outcome(&mut self) -> Option<Self::Outcome>;
}

macro_rules! impl_handshake {
    ($machine:ty, $outcome:ty) => {
        impl Handshake for $machine {
            type Outcome = $outcome;
            fn handle_input(&mut self, now: Instant, data: &[u8]) {
                <$machine>::handle_input(self, now, data)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$machine>::handle_timeout(self, now)
            }
            fn handle_eof(&mut self) {
                <$machine>::handle_eof(self)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$machine>::poll_timeout(self)
            }
            fn poll_transmit(&mut self) -> Option<bytes::Bytes> {
                <$machine>::poll_transmit(self)
            }
            fn poll_outcome(&mut self) -> Option<$outcome> {
                <$machine>::poll_outcome(self)
            }
        }
    };
}

impl_handshake!(ClientHandshake, ClientOutcome);
impl_handshake!(ServerHandshake, ServerOutcome);

/// Run a handshake machine to its outcome: write what it queues, read, fire its timer.
pub(crate) async fn drive<H: Handshake, B: ByteStream, C: Clock>(
    machine: &mut H,
    io: &mut B,
    clock: C,
) -> Result<H::Outcome, Error> {
    let mut buf = vec![0u8; 4096];
    loop {
        write_all_queued(machine, io).await?;
        if let Some(outcome) = machine.poll_outcome() {
            return Ok(outcome);
        }
        let read = until(clock, machine.poll_timeout(), io.read(&mut buf)).await;
        let now = clock.now();
        match read {
            Some(Ok(0)) => machine.handle_eof(),
            Some(Ok(n)) => machine.handle_input(now, &buf[..n]),
            Some(Err(e)) => return Err(e.into()),
            None => machine.handle_timeout(now),
        }
    }
}

/// Write what the machine has queued (a request, a `101`, an error answer).
pub(crate) async fn write_all_queued<H: Handshake, B: ByteStream>(
    machine: &mut H,
    io: &mut B,
) -> Result<(), Error> {
    while let Some(bytes) = machine.poll_transmit() {
        io.write_all(&bytes).await?;
    }
    io.flush().await?;
    Ok(())
}
