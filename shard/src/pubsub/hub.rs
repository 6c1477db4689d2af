//! One copy of a stream on this shard (the origin or a mirror), with the
//! viewers that wait for its next frame.

use std::cell::{Cell, RefCell};
use std::task::Waker;

use arcly_engine::{Stream, StreamKey, StreamState, ViewerId};

/// A stream copy and its waiting viewers.
///
/// Waking is cheap by construction: a viewer puts its waker here only when
/// [`Stream::pull`] said `Pending`, and [`Hub::wake_viewers`] empties the
/// list. So a batch of frames wakes each waiting viewer once, and viewers
/// that are still busy with earlier frames are not woken at all.
pub(crate) struct Hub {
    /// The stream's key.
    key: StreamKey,
    /// The engine's stream.
    stream: RefCell<Stream>,
    /// Bumped when a mirror's stream is rebuilt from a fresh snapshot; its
    /// viewers then join the new copy.
    generation: Cell<u64>,
    /// Frames the owner dropped before the last rebuild.
    resync_dropped: Cell<u64>,
    /// Viewers waiting for the next push.
    waiting: RefCell<Vec<Waker>>,
    /// Bumped each time `waiting` is emptied; a viewer that registered in
    /// the current epoch is already in the list.
    epoch: Cell<u64>,
}

impl Hub {
    /// A hub around `stream`.
    pub(crate) fn new(stream: Stream) -> Hub {
        Hub {
            key: stream.key().clone(),
            stream: RefCell::new(stream),
            generation: Cell::new(0),
            resync_dropped: Cell::new(0),
            waiting: RefCell::new(Vec::new()),
            epoch: Cell::new(0),
        }
    }

    /// The stream's key.
    pub(crate) fn key(&self) -> &StreamKey {
        &self.key
    }

    /// Runs `f` on the stream. `f` must not call back into this hub.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Stream) -> R) -> R {
        f(&mut self.stream.borrow_mut())
    }

    /// The stream's state.
    pub(crate) fn state(&self) -> StreamState {
        self.stream.borrow().state()
    }

    /// Viewers on this copy.
    pub(crate) fn viewer_count(&self) -> usize {
        self.stream.borrow().viewer_count()
    }

    /// Removes a viewer.
    pub(crate) fn leave(&self, id: ViewerId) {
        self.stream.borrow_mut().leave(id);
    }

    /// Remembers a viewer's waker until the next push. `registered` is the
    /// viewer's own record of the epoch it last registered in.
    pub(crate) fn wait(&self, waker: &Waker, registered: &Cell<Option<u64>>) {
        let epoch = self.epoch.get();
        if registered.get() != Some(epoch) {
            self.waiting.borrow_mut().push(waker.clone());
            registered.set(Some(epoch));
        }
    }

    /// Wakes every waiting viewer, once.
    pub(crate) fn wake_viewers(&self) {
        let waiting = self.waiting.take();
        if !waiting.is_empty() {
            self.epoch.set(self.epoch.get() + 1);
            for waker in waiting {
                waker.wake();
            }
        }
    }

    /// Replaces a mirror's stream with one rebuilt from a fresh snapshot,
    /// after the owner had to drop `dropped` frames for this shard. Viewers
    /// rejoin on their next pull and see a skip.
    pub(crate) fn rebuild(&self, stream: Stream, dropped: u64) {
        *self.stream.borrow_mut() = stream;
        self.generation.set(self.generation.get() + 1);
        self.resync_dropped.set(dropped);
        self.wake_viewers();
    }

    /// The current generation (see [`Hub::rebuild`]).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Frames dropped before the last rebuild.
    pub(crate) fn resync_dropped(&self) -> u64 {
        self.resync_dropped.get()
    }
}
