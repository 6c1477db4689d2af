//! Errors of the runtime itself (starting, running and stopping shards).

use std::io;

/// Why the runtime, or a request made to it from outside, failed.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// The configuration names no shard at all.
    #[error("the runtime needs at least one shard")]
    NoShards,
    /// Shard ids must be `0..n` in order, because `owner(key)` answers with
    /// an index.
    #[error("shard {found} is listed at position {position}; ids must be 0..n in order")]
    BadShardId {
        /// Where in the list the spec was.
        position: usize,
        /// The id it carried.
        found: usize,
    },
    /// A configuration value is out of its range.
    #[error("bad runtime config: {0}")]
    BadConfig(&'static str),
    /// An OS resource (thread, socket, eventfd) could not be created.
    #[error("cannot {what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// glommio refused to build the executor of a shard (most often the
    /// locked-memory limit or a kernel without io_uring).
    #[error("shard {shard} on cpu {cpu} failed to start its executor: {reason}")]
    ExecutorStart {
        /// The shard.
        shard: usize,
        /// The CPU it was to be pinned to.
        cpu: usize,
        /// glommio's explanation.
        reason: String,
    },
    /// The shard id is not one of the runtime's shards.
    #[error("there is no shard {0}")]
    NoSuchShard(usize),
    /// The shard's injection queue is full; try again later.
    #[error("the injection queue of shard {0} is full")]
    Busy(usize),
    /// The shard has stopped (shut down or panicked) and cannot take work.
    #[error("shard {0} has stopped")]
    Stopped(usize),
    /// The shard's thread panicked.
    #[error("shard {0} panicked")]
    Panicked(usize),
}

impl ShardError {
    /// Wraps an OS error with what was being attempted.
    pub(crate) fn io(what: &'static str, source: io::Error) -> ShardError {
        ShardError::Io { what, source }
    }
}
