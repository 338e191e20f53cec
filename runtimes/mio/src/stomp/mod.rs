//! STOMP on mio (in progress).
