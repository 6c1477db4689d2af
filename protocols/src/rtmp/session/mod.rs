//! RTMP sessions: the server that encoders publish to and players play
//! from, and a client for tests and the load harness.

mod client;
mod events;
mod link;
mod server;

use std::time::{Duration, Instant};

use bytes::Bytes;

pub use client::{ClientConfig, ClientEvent, ClientRole, ClientSession};
pub use events::{CloseReason, PlayRejection, PublishRejection, SessionEvent};
pub use server::{DEFAULT_OUT_CHUNK_SIZE, DEFAULT_WINDOW_ACK_SIZE, ServerConfig, ServerSession};

/// The chunk stream of protocol control and user control messages.
const CSID_CONTROL: u32 = 2;

/// The chunk stream of connection commands (`_result`, `_error` ...).
const CSID_COMMAND: u32 = 3;

/// What a session wants from its driver next.
///
/// `poll_output` returns pending transmits first, then events, then
/// `Timeout`, which is always last: once it comes the session has nothing
/// more until new input, a command or the deadline.
#[derive(Clone, Debug, PartialEq)]
pub enum Output<E = SessionEvent> {
    /// Bytes to write to the socket, whole and in order.
    Transmit(Bytes),
    /// Something happened that the driver must act on.
    Event(E),
    /// Call `handle_timeout` at this instant (or earlier, harmlessly).
    Timeout(Instant),
}

/// `t + d`, or a year after `t` if that overflows the clock (only an
/// absurd configured timeout can).
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(t)
}
