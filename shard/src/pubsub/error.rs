//! Why a publish or a subscribe was refused.

use arcly_engine::StreamKey;

/// Why [`ShardCtx::publish`](crate::ShardCtx::publish) or a
/// [`Publisher`](crate::Publisher) command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The key already has a live publisher; a second one is refused.
    #[error("stream {0} already has a publisher")]
    AlreadyPublished(StreamKey),
    /// The stream was ended (by the publisher, the reaper or shutdown) or
    /// taken over by a newer publisher; this publisher is done.
    #[error("stream {0} has ended for this publisher")]
    Ended(StreamKey),
    /// The owner shard did not answer: it has stopped, or did not answer
    /// within the timeout.
    #[error("the owner shard {owner} of stream {key} is unreachable")]
    Unreachable {
        /// The stream.
        key: StreamKey,
        /// Its owner shard.
        owner: usize,
    },
    /// The runtime is shutting down and takes no new publishers.
    #[error("shutting down; not accepting publisher for {0}")]
    Stopping(StreamKey),
}

/// Why [`ShardCtx::subscribe`](crate::ShardCtx::subscribe) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// No publisher has this key (the owner answered so).
    #[error("stream {0} not found")]
    NotFound(StreamKey),
    /// The owner shard did not answer: it has stopped, or did not answer
    /// within the timeout.
    #[error("the owner shard {owner} of stream {key} is unreachable")]
    Unreachable {
        /// The stream.
        key: StreamKey,
        /// Its owner shard.
        owner: usize,
    },
    /// The runtime is shutting down and takes no new viewers.
    #[error("shutting down; not accepting viewer for {0}")]
    Stopping(StreamKey),
}

/// An owner's refusal of a publish request from another shard, as it
/// travels back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublishRefusal {
    /// See [`PublishError::AlreadyPublished`].
    AlreadyPublished,
    /// See [`PublishError::Stopping`].
    Stopping,
}

impl PublishRefusal {
    /// The error for the caller.
    pub(crate) fn into_error(self, key: StreamKey) -> PublishError {
        match self {
            PublishRefusal::AlreadyPublished => PublishError::AlreadyPublished(key),
            PublishRefusal::Stopping => PublishError::Stopping(key),
        }
    }
}
