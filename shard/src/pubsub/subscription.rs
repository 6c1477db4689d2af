//! Watching a stream from a task on any shard.

use std::cell::Cell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use arcly_engine::{EvictReason, MediaFrame, Pull, Seq, StreamKey, TrackKind, ViewerId};

use super::error::SubscribeError;
use super::hub::Hub;
use super::mirror::Mirror;
use crate::message::{Control, Message};
use crate::owner::owner;
use crate::stats::{add, bump};
use crate::{ShardCtx, task};

/// What a viewer gets next, from [`Subscription::next`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewerEvent {
    /// Send this frame. Configs and metadata come first, then a keyframe,
    /// then every frame in order. `seq` is the frame's position in the
    /// stream, the same on the owner and on every mirror.
    Frame {
        /// The frame's seq.
        seq: Seq,
        /// The frame.
        frame: MediaFrame,
    },
    /// The viewer lagged and jumped ahead to the newest keyframe, leaving
    /// out `dropped` frames; configs and metadata come next again.
    Skipped {
        /// Frames left out.
        dropped: u64,
    },
    /// The viewer lagged once too often and was removed: close it.
    Evicted(EvictReason),
    /// The stream ended and the viewer has had everything.
    Ended,
}

/// One viewer of one stream, from [`ShardCtx::subscribe`].
///
/// Poll it from one task. Dropping it leaves the stream; the last viewer of
/// a mirror leaving makes the shard unsubscribe from the owner.
pub struct Subscription {
    /// The shard the viewer is on.
    ctx: ShardCtx,
    /// The stream copy it reads.
    hub: Rc<Hub>,
    /// The mirror, when the stream is owned by another shard.
    mirror: Option<Rc<Mirror>>,
    /// The viewer's id in the copy.
    viewer: ViewerId,
    /// The copy's generation the viewer joined (see [`Hub::rebuild`]).
    generation: u64,
    /// Unsent bytes the caller's driver holds (for the lag policy).
    queued_bytes: usize,
    /// The hub epoch this viewer's waker was registered in.
    registered: Cell<Option<u64>>,
    /// When the subscribe was asked for, until the first media frame goes
    /// out (for the join time histogram).
    joining: Option<Instant>,
}

impl ShardCtx {
    /// Becomes a viewer of `key`.
    ///
    /// On the owner shard the viewer joins the stream itself. On any other
    /// shard it joins the shard's mirror; the first viewer makes the shard
    /// subscribe to the owner (which answers with a snapshot, then relays
    /// every new frame once per shard) and waits for the answer, up to the
    /// configured request timeout. A key with no publisher is
    /// [`SubscribeError::NotFound`].
    pub async fn subscribe(&self, key: &StreamKey) -> Result<Subscription, SubscribeError> {
        if self.is_stopping() {
            return Err(SubscribeError::Stopping(key.clone()));
        }
        let asked_at = Instant::now();
        let streams = &self.shard.streams;
        let owner = owner(key, self.shards());
        if owner == self.id() {
            let origin = streams
                .origin(key)
                .ok_or_else(|| SubscribeError::NotFound(key.clone()))?;
            return Ok(Subscription::join(
                self,
                Rc::clone(&origin.hub),
                None,
                asked_at,
            ));
        }
        let unreachable = || SubscribeError::Unreachable {
            key: key.clone(),
            owner,
        };
        // A mirror can be dropped between its answer and our join (its last
        // viewer left, or the stream ended); then we start over, and a
        // stream that really ended is refused by its owner.
        for _ in 0..MIRROR_ATTEMPTS {
            let mirror = match streams.mirror(key) {
                Some(mirror) => mirror,
                None => {
                    let mirror = Rc::new(Mirror::new(key.clone(), owner));
                    let msg = Message::Control(Control::Subscribe { key: key.clone() });
                    self.shard
                        .mailbox
                        .send_ordered(owner, msg)
                        .map_err(|_| unreachable())?;
                    streams.insert_mirror(Rc::clone(&mirror));
                    mirror
                }
            };
            let limit = self.config().request_timeout;
            if task::timeout(limit, mirror.settled()).await.is_none() {
                if mirror.hub().is_none() {
                    streams.remove_mirror(&mirror);
                }
                return Err(unreachable());
            }
            if self.is_stopping() {
                return Err(SubscribeError::Stopping(key.clone()));
            }
            if mirror.is_refused() {
                return Err(SubscribeError::NotFound(key.clone()));
            }
            let current = streams
                .mirror(key)
                .is_some_and(|listed| Rc::ptr_eq(&listed, &mirror));
            if let Some(hub) = mirror.hub()
                && current
            {
                return Ok(Subscription::join(self, hub, Some(mirror), asked_at));
            }
        }
        Err(unreachable())
    }
}

/// How often a subscribe starts over when its mirror went away under it.
const MIRROR_ATTEMPTS: usize = 3;

impl Subscription {
    fn join(
        ctx: &ShardCtx,
        hub: Rc<Hub>,
        mirror: Option<Rc<Mirror>>,
        asked_at: Instant,
    ) -> Subscription {
        let viewer = hub.with(|stream| stream.join(Instant::now()));
        ctx.shard.streams.subscription_opened();
        Subscription {
            ctx: ctx.clone(),
            generation: hub.generation(),
            hub,
            mirror,
            viewer,
            queued_bytes: 0,
            registered: Cell::new(None),
            joining: Some(asked_at),
        }
    }

    /// The stream copy it reads.
    pub(super) fn hub(&self) -> &Rc<Hub> {
        &self.hub
    }

    /// Counts a write to this viewer that its socket did not take at once.
    pub(crate) fn count_slow_write(&self) {
        bump(&self.ctx.shard.counters.slow_writes);
    }

    /// The stream's key.
    pub fn key(&self) -> &StreamKey {
        self.hub.key()
    }

    /// Whether the viewer is served by this shard's mirror of a stream
    /// owned elsewhere (rather than by the origin itself).
    pub fn is_mirrored(&self) -> bool {
        self.mirror.is_some()
    }

    /// Tells the lag policy how many bytes the caller's driver still holds
    /// unsent for this viewer. Over the stream's `viewer_queue_bytes` the
    /// viewer jumps to the newest keyframe (or waits for one). Call
    /// [`Subscription::next`] again after lowering it.
    pub fn set_queued_bytes(&mut self, bytes: usize) {
        self.queued_bytes = bytes;
    }

    /// The next event, waiting for the next frame if there is none yet.
    pub async fn next(&mut self) -> ViewerEvent {
        poll_fn(|cx| match self.poll_event(Some(cx.waker())) {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        })
        .await
    }

    /// The viewer's next seq, if it is steady (see
    /// [`Stream::steady_next`](arcly_engine::Stream::steady_next)) in the
    /// copy's current generation: it gets every frame from there on, so it
    /// may be written a run of them shared with other viewers at the same
    /// place, then [`Subscription::advance`]d past it.
    pub(crate) fn steady_next(&self) -> Option<Seq> {
        if self.hub.generation() != self.generation {
            return None;
        }
        self.hub.with(|stream| stream.steady_next(self.viewer))
    }

    /// Moves the viewer from `from` to `to` after the caller wrote it those
    /// frames (`bytes` of payload, with the GOP-starting `keyframes`), and
    /// counts them as pulled. False, and nothing changes, when the engine
    /// refuses (see [`Stream::advance`](arcly_engine::Stream::advance)).
    pub(crate) fn advance(&mut self, from: Seq, to: Seq, bytes: u64, keyframes: &[Seq]) -> bool {
        if !self
            .hub
            .with(|stream| stream.advance(self.viewer, from, to))
        {
            return false;
        }
        let counters = &self.ctx.shard.counters;
        add(&counters.frames_out, to - from);
        add(&counters.bytes_out, bytes);
        for &seq in keyframes {
            self.measure_delivery(seq);
        }
        true
    }

    /// The next event if one is ready now, without waiting.
    pub fn try_next(&mut self) -> Option<ViewerEvent> {
        self.poll_event(None)
    }

    fn poll_event(&mut self, waker: Option<&Waker>) -> Option<ViewerEvent> {
        if self.hub.generation() != self.generation {
            // The mirror was rebuilt from a fresh snapshot: start over in
            // the new copy, as after a skip.
            self.viewer = self.hub.with(|stream| stream.join(Instant::now()));
            self.generation = self.hub.generation();
            bump(&self.ctx.shard.counters.skips);
            return Some(ViewerEvent::Skipped {
                dropped: self.hub.resync_dropped(),
            });
        }
        let counters = &self.ctx.shard.counters;
        let pull = self
            .hub
            .with(|stream| stream.pull(self.viewer, self.queued_bytes));
        match pull {
            Pull::Pending => {
                if let Some(waker) = waker {
                    self.hub.wait(waker, &self.registered);
                }
                None
            }
            Pull::Frame { seq, frame } => {
                bump(&counters.frames_out);
                add(&counters.bytes_out, frame.len() as u64);
                if self.joining.is_some() || frame.starts_gop() {
                    self.measure(seq, &frame);
                }
                Some(ViewerEvent::Frame { seq, frame })
            }
            Pull::Skipped { dropped } => {
                bump(&counters.skips);
                Some(ViewerEvent::Skipped { dropped })
            }
            Pull::Evicted(reason) => {
                bump(&counters.evictions);
                Some(ViewerEvent::Evicted(reason))
            }
            Pull::Ended => Some(ViewerEvent::Ended),
        }
    }
}

impl Subscription {
    /// Records the join time at the first media frame, and samples the
    /// delivery latency at later keyframes: how long since the keyframe
    /// arrived on this shard. (The first keyframe is left out: it comes
    /// from the GOP cache, as old as the GOP.)
    fn measure(&mut self, seq: Seq, frame: &MediaFrame) {
        if frame.is_config() || frame.track() == TrackKind::Data {
            return;
        }
        if let Some(asked_at) = self.joining.take() {
            let histograms = &self.ctx.shard.counters.histograms;
            histograms.join_micros.record(micros(asked_at.elapsed()));
        } else {
            self.measure_delivery(seq);
        }
    }

    /// Records how long keyframe `seq` took from arriving here to going
    /// out, if it is the newest keyframe.
    pub(super) fn measure_delivery(&self, seq: Seq) {
        if let Some(arrived) = self.hub.keyframe_arrival(seq) {
            let histograms = &self.ctx.shard.counters.histograms;
            histograms
                .delivery_latency_micros
                .record(micros(arrived.elapsed()));
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.leave(self.viewer);
        self.ctx.shard.streams.subscription_closed();
        if let Some(mirror) = &self.mirror
            && self.hub.viewer_count() == 0
            && self
                .ctx
                .shard
                .streams
                .mirror(mirror.key())
                .is_some_and(|current| Rc::ptr_eq(&current, mirror))
        {
            self.ctx.shard.streams.remove_mirror(mirror);
            mirror.unsubscribe(&self.ctx);
        }
    }
}
