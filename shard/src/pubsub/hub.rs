//! One copy of a stream on this shard (the origin or a mirror), with the
//! viewers that wait for its next frame.

use std::cell::{Cell, RefCell};
use std::task::Waker;
use std::time::Instant;

use arcly_engine::{MediaFrame, Seq, Stream, StreamKey, StreamState, TrackKind, ViewerId};

use crate::stats::Counters;

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
    /// Bumped on every [`Hub::wake_viewers`], waiters or not: how a
    /// [`StreamWatch`](super::watch::StreamWatch) tells that the copy
    /// changed while it was busy.
    changes: Cell<u64>,
    /// The newest GOP-starting keyframe and when it arrived on this shard,
    /// for sampling delivery latency.
    last_keyframe: Cell<Option<(Seq, Instant)>>,
    /// Video frames and bytes since that keyframe, for the GOP size
    /// histograms (kept on the origin only, so each GOP counts once).
    gop_video: Cell<(u64, u64)>,
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
            changes: Cell::new(0),
            last_keyframe: Cell::new(None),
            gop_video: Cell::new((0, 0)),
        }
    }

    /// Pushes a frame into the stream (see [`Stream::push`]), noting when
    /// each keyframe arrived and, on the origin, recording the size of the
    /// GOP it closes. Costs a few cell updates; the clock is `now`.
    pub(crate) fn push(&self, counters: &Counters, frame: MediaFrame, now: Instant) -> Seq {
        let video = frame.track() == TrackKind::Video && !frame.is_config();
        let starts_gop = frame.starts_gop();
        let len = frame.len() as u64;
        let (seq, origin) = self.with(|stream| (stream.push(frame, now), stream.is_origin()));
        if starts_gop {
            self.last_keyframe.set(Some((seq, now)));
            let (frames, bytes) = self.gop_video.replace((0, 0));
            if origin && frames > 0 {
                counters.histograms.gop_frames.record(frames);
                counters.histograms.gop_bytes.record(bytes);
            }
        }
        if video && origin {
            let (frames, bytes) = self.gop_video.get();
            self.gop_video.set((frames + 1, bytes + len));
        }
        seq
    }

    /// When keyframe `seq` arrived here, if it is the newest keyframe.
    pub(crate) fn keyframe_arrival(&self, seq: Seq) -> Option<Instant> {
        match self.last_keyframe.get() {
            Some((newest, at)) if newest == seq => Some(at),
            _ => None,
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
        self.changes.set(self.changes.get() + 1);
        let waiting = self.waiting.take();
        if !waiting.is_empty() {
            self.epoch.set(self.epoch.get() + 1);
            for waker in waiting {
                waker.wake();
            }
        }
    }

    /// How many times the copy changed (frames pushed, the stream ended or
    /// was rebuilt) since it was made.
    pub(crate) fn changes(&self) -> u64 {
        self.changes.get()
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
