//! Moving a live connection to another shard: its socket, the protocol's
//! state, and the bytes already read but not yet used.
//!
//! glommio 0.9's `TcpStream` can be built from a raw descriptor but not
//! turned back into one, so the sending shard duplicates the descriptor,
//! drops its stream (with no read in flight, or that read would take bytes
//! the receiver never sees) and sends the duplicate; the receiving shard
//! builds a stream of its own from it and runs the same listener's handler.

use std::any::Any;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use bytes::{Bytes, BytesMut};

use super::connection::Connection;
use super::listener::{Arrival, ListenerId};
use crate::ShardCtx;
use crate::mailbox::SendError;
use crate::message::{Control, Message};
use crate::stats::bump;

/// A connection on its way to another shard.
pub(crate) struct Handoff {
    /// The socket.
    fd: OwnedFd,
    /// The remote address.
    peer: SocketAddr,
    /// Bytes read on the old shard that the protocol has not used.
    unread: Bytes,
    /// The listener (protocol) whose handler takes it.
    listener: ListenerId,
    /// The protocol's state.
    state: Box<dyn Any + Send>,
}

/// Why a hand-off did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HandoffFailure {
    /// The mailbox queue to the target shard is full; try again later.
    #[error("the mailbox queue to shard {0} is full")]
    Full(usize),
    /// The target shard has stopped or does not exist.
    #[error("shard {0} is not running")]
    Unreachable(usize),
    /// The socket could not be duplicated (out of descriptors).
    #[error("cannot duplicate the socket: {0}")]
    Io(io::Error),
}

/// A refused hand-off: the connection and the state come back, still usable
/// on this shard (the unread bytes are read first again).
#[derive(thiserror::Error)]
#[error("hand-off of {} failed: {reason}", connection.peer_addr())]
pub struct HandoffError {
    /// Why.
    pub reason: HandoffFailure,
    /// The connection, still on this shard.
    pub connection: Connection,
    /// The protocol's state, as given.
    pub state: Box<dyn Any + Send>,
}

impl fmt::Debug for HandoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandoffError")
            .field("reason", &self.reason)
            .field("peer", &self.connection.peer_addr())
            .finish_non_exhaustive()
    }
}

impl ShardCtx {
    /// Moves `conn` to shard `to`, with the protocol's `state` and the bytes
    /// it read but did not use (`unread`, which the new owner reads first).
    /// There, the handler of the listener `conn` came through runs with
    /// [`Arrival::HandedOff`]. Never blocks; on failure everything comes
    /// back in the error.
    ///
    /// Call it with no read of `conn` in progress (it takes `conn` by value,
    /// so a read future borrowing it must have been completed or dropped).
    pub fn hand_off(
        &self,
        to: usize,
        conn: Connection,
        state: Box<dyn Any + Send>,
        unread: Bytes,
    ) -> Result<(), Box<HandoffError>> {
        let fd = match conn.dup_fd() {
            Ok(fd) => fd,
            Err(e) => {
                return Err(Box::new(HandoffError {
                    reason: HandoffFailure::Io(e),
                    connection: conn,
                    state,
                }));
            }
        };
        let released = conn.release(fd);
        let unread = join(unread, released.unread);
        let handoff = Handoff {
            fd: released.fd,
            peer: released.peer,
            unread,
            listener: released.listener,
            state,
        };
        if to == self.id() {
            receive(self, self.id(), handoff);
            return Ok(());
        }
        let msg = Message::Control(Control::Handoff(Box::new(handoff)));
        match self.shard.mailbox.try_send(to, msg) {
            Ok(()) => {
                bump(&self.shard.counters.handoffs_sent);
                Ok(())
            }
            Err(e) => {
                let reason = match &e {
                    SendError::Full { .. } => HandoffFailure::Full(to),
                    _ => HandoffFailure::Unreachable(to),
                };
                let Message::Control(Control::Handoff(handoff)) = e.into_inner() else {
                    unreachable!("the mailbox hands back the message it was given");
                };
                let Handoff {
                    fd,
                    peer,
                    unread,
                    listener,
                    state,
                } = *handoff;
                Err(Box::new(HandoffError {
                    reason,
                    connection: Connection::from_fd(fd, peer, unread, listener),
                    state,
                }))
            }
        }
    }
}

/// A connection arrived from shard `from`: rebuild it here and run its
/// listener's handler (if that listener is not installed here, the socket
/// is closed).
pub(crate) fn receive(ctx: &ShardCtx, from: usize, handoff: Handoff) {
    if from != ctx.id() {
        bump(&ctx.shard.counters.handoffs_received);
    }
    let Handoff {
        fd,
        peer,
        unread,
        listener,
        state,
    } = handoff;
    let conn = Connection::from_fd(fd, peer, unread, listener);
    ctx.shard
        .listeners
        .serve(ctx, listener, conn, Arrival::HandedOff { from, state });
}

/// `first` followed by `then`, copying only if both are non-empty.
fn join(first: Bytes, then: Bytes) -> Bytes {
    match (first.is_empty(), then.is_empty()) {
        (_, true) => first,
        (true, false) => then,
        (false, false) => {
            let mut joined = BytesMut::with_capacity(first.len() + then.len());
            joined.extend_from_slice(&first);
            joined.extend_from_slice(&then);
            joined.freeze()
        }
    }
}
