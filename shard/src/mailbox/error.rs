//! The error of a send that could not be accepted; it hands the item back.

use std::fmt;

/// Why a send was refused. Every variant carries the item back, untouched,
/// so the caller decides: retry later, send elsewhere, or drop it.
#[derive(thiserror::Error)]
pub enum SendError<T> {
    /// The bounded queue to that shard is full (its outbox and its ring of
    /// batches); the shard is slower than its senders right now.
    #[error("the mailbox queue to shard {to} is full")]
    Full {
        /// The destination shard.
        to: usize,
        /// What was being sent.
        item: T,
    },
    /// The destination shard has stopped.
    #[error("shard {to} has stopped")]
    Closed {
        /// The destination shard.
        to: usize,
        /// What was being sent.
        item: T,
    },
    /// There is no shard with that id (or it is the sender itself, which
    /// never goes through the mailbox).
    #[error("there is no peer shard {to}")]
    NoSuchShard {
        /// The destination shard.
        to: usize,
        /// What was being sent.
        item: T,
    },
}

impl<T> SendError<T> {
    /// The item that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            SendError::Full { item, .. }
            | SendError::Closed { item, .. }
            | SendError::NoSuchShard { item, .. } => item,
        }
    }

    /// The destination shard.
    pub fn to(&self) -> usize {
        match self {
            SendError::Full { to, .. }
            | SendError::Closed { to, .. }
            | SendError::NoSuchShard { to, .. } => *to,
        }
    }

    /// Whether the queue was merely full (the send may succeed later).
    pub fn is_full(&self) -> bool {
        matches!(self, SendError::Full { .. })
    }

    /// The same error carrying a different item (used to hand back the
    /// caller's own value after unwrapping an internal message).
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> SendError<U> {
        match self {
            SendError::Full { to, item } => SendError::Full { to, item: f(item) },
            SendError::Closed { to, item } => SendError::Closed { to, item: f(item) },
            SendError::NoSuchShard { to, item } => SendError::NoSuchShard { to, item: f(item) },
        }
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            SendError::Full { .. } => "Full",
            SendError::Closed { .. } => "Closed",
            SendError::NoSuchShard { .. } => "NoSuchShard",
        };
        f.debug_struct(kind)
            .field("to", &self.to())
            .finish_non_exhaustive()
    }
}
