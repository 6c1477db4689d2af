//! Waiting, from a thread that is not a shard, for work sent to a shard.

use crossbeam_channel::Receiver;

use crate::ShardError;

/// The result of [`Runtime::spawn_on`](crate::Runtime::spawn_on), to be
/// collected with [`ShardJoinHandle::join`].
#[must_use = "join() the handle to get the result"]
pub struct ShardJoinHandle<T> {
    /// The shard the work runs on.
    pub(crate) shard: usize,
    /// The result, or the reason the work never reached the shard.
    pub(crate) result: Result<Receiver<T>, ShardError>,
}

impl<T> ShardJoinHandle<T> {
    /// Blocks until the work finishes and returns its output. Call it from a
    /// thread that is not a shard (blocking a shard would stall it).
    ///
    /// Fails if the work could not be sent ([`ShardError::Busy`],
    /// [`ShardError::NoSuchShard`]) or the shard stopped before the work
    /// finished ([`ShardError::Stopped`]).
    pub fn join(self) -> Result<T, ShardError> {
        self.result?
            .recv()
            .map_err(|_| ShardError::Stopped(self.shard))
    }

    /// The shard the work was sent to.
    pub fn shard(&self) -> usize {
        self.shard
    }
}
