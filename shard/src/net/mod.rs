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
