//! Sockets: listeners on every shard, the connections they accept,
//! outbound connections, and moving a connection from one shard to another.

mod connect;
mod connection;
pub(crate) mod handoff;
mod listener;
pub(crate) mod send;

pub use connection::Connection;
pub use handoff::{HandoffError, HandoffFailure};
pub(crate) use listener::Listeners;
pub use listener::{Arrival, ListenerId};

/// Whether a socket error says the peer is gone: it reset the connection
/// (closing with bytes unread does that) or shut its side.
pub(crate) fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
    )
}
