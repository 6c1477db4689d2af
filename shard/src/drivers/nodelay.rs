//! Whether a viewer's socket keeps `TCP_NODELAY` once it has joined.
//!
//! A joiner's session replies, configs and GOP go out with `TCP_NODELAY`,
//! so nothing holds a join back. After that, by default, Nagle's algorithm
//! is on again: a write smaller than a segment waits while earlier bytes
//! are unacknowledged and leaves with the next ones. A viewer that
//! acknowledges late (delayed ACKs, a reader that takes its bytes in
//! bursts) then costs one segment per round trip instead of one per frame
//! — and on loopback one run of the receive path, which the sender's core
//! pays. nginx-rtmp and SRS (`tcp_nodelay off`) send the same way.
//!
//! The price is latency at the live edge: a frame may wait for the
//! acknowledgement of the one before (at worst the peer's delayed-ACK
//! timer, 40 ms on Linux), or until enough bytes gather for a full
//! segment. Apps that want every frame on the wire at once set
//! `tcp_nodelay = true`.

use super::per_app::PerApp;

/// Whether viewers keep `TCP_NODELAY` after their join, per app; off
/// unless set.
pub type TcpNoDelay = PerApp<bool>;
