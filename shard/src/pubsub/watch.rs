//! Watching a stream copy for changes from one task that serves many of
//! its viewers (the shard's fan-out), instead of from each viewer's task.

use std::cell::Cell;
use std::rc::Rc;
use std::task::{Context, Poll};

use arcly_engine::Stream;

use super::hub::Hub;
use super::subscription::Subscription;

/// A watch on the stream copy a [`Subscription`] reads, from
/// [`Subscription::watch`]. It holds the copy, not a viewer place.
pub(crate) struct StreamWatch {
    hub: Rc<Hub>,
    /// The hub epoch this watch's waker was registered in.
    registered: Cell<Option<u64>>,
}

impl StreamWatch {
    /// The copy's identity on this shard: equal for watches of the same
    /// copy, while either lives.
    pub(crate) fn id(&self) -> usize {
        Rc::as_ptr(&self.hub) as usize
    }

    /// The copy's generation: seqs of one generation mean nothing in
    /// another (see [`Hub::rebuild`]).
    pub(crate) fn generation(&self) -> u64 {
        self.hub.generation()
    }

    /// Reads the copy: `f` gets the stream, to look at its frames.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Stream) -> R) -> R {
        self.hub.with(|stream| f(stream))
    }

    /// A count that moves on every change of the copy: read it before
    /// serving viewers, and pass it to [`StreamWatch::poll_changed`].
    pub(crate) fn changes(&self) -> u64 {
        self.hub.changes()
    }

    /// Ready if the copy changed since `seen` (from
    /// [`StreamWatch::changes`]); otherwise the task is woken at the next
    /// change.
    pub(crate) fn poll_changed(&self, seen: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.hub.changes() != seen {
            return Poll::Ready(());
        }
        self.hub.wait(cx.waker(), &self.registered);
        Poll::Pending
    }
}

impl Subscription {
    /// A watch on the stream copy this subscription reads.
    pub(crate) fn watch(&self) -> StreamWatch {
        StreamWatch {
            hub: Rc::clone(self.hub()),
            registered: Cell::new(None),
        }
    }
}
