//! The fan-out: what each viewer gets next, and the lag policy.

use std::sync::Arc;

use super::{Stream, StreamState};
use crate::{ConfigSet, EvictReason, GopCache, MediaFrame, Ring, Seq, ViewerId};

/// The next thing to send a viewer, from [`Stream::pull`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pull {
    /// Send this frame. `seq` is the seq it was pushed as, also for replayed
    /// configs and cached frames, so encodings can be cached per seq.
    Frame {
        /// The frame's seq.
        seq: Seq,
        /// The frame.
        frame: MediaFrame,
    },
    /// The viewer lagged and jumped ahead to a keyframe, leaving out
    /// `dropped` frames of any track; configs and metadata come next again.
    Skipped {
        /// Seqs jumped over.
        dropped: u64,
    },
    /// The viewer lagged once too often and was removed; close it.
    Evicted(EvictReason),
    /// The stream ended and the viewer has everything (also the answer for
    /// an id that is not a viewer here).
    Ended,
    /// Nothing to send now: pull again after the next push, or, when the
    /// viewer's queue is over its bound, once it drained.
    Pending,
}

/// Why a viewer must jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lag {
    /// Its next frame is no longer held.
    FellOff,
    /// Its driver's queue is over `viewer_queue_bytes`.
    Queue,
}

impl Stream {
    /// The next item for viewer `id`, whose driver still holds
    /// `queued_bytes` unsent.
    ///
    /// Order for a viewer: configs and metadata, then from its start
    /// keyframe on every frame in push order (audio timed before that
    /// keyframe left out). A viewer whose next frame fell off the ring, or
    /// whose queue is over the bound while a newer keyframe is held, jumps to
    /// the newest keyframe: [`Pull::Skipped`] once, then configs and
    /// metadata again, then that keyframe. With no usable keyframe held, a
    /// viewer that fell off waits at the live edge for the next one, and a
    /// viewer over its queue bound gets [`Pull::Pending`]. A viewer whose
    /// skips pass `max_skips` gets [`Pull::Evicted`] and is removed.
    pub fn pull(&mut self, id: ViewerId, queued_bytes: usize) -> Pull {
        let end = self.ring.end();
        let oldest = self.oldest_seq();
        let has_video = self.info.media.has_video();
        let Some(viewer) = self.viewers.get_mut(id) else {
            return Pull::Ended;
        };
        if let Some((seq, frame)) = viewer.next_prelude() {
            return Pull::Frame { seq, frame };
        }
        let start = viewer.next_seq();
        if start < end {
            if start < oldest {
                return self.lag(id, Lag::FellOff);
            }
            if queued_bytes > self.limits.viewer_queue_bytes {
                return self.lag(id, Lag::Queue);
            }
        }
        loop {
            let seq = viewer.next_seq();
            if seq >= end {
                return match self.state {
                    StreamState::Ended => Pull::Ended,
                    StreamState::Live | StreamState::Unpublished => Pull::Pending,
                };
            }
            // Every seq from `oldest` to `end` is in the ring or the GOP cache.
            let Some(frame) = self.ring.get(seq).or_else(|| self.gop.get(seq)) else {
                return self.lag(id, Lag::FellOff);
            };
            if viewer.admit(frame, has_video) {
                return Pull::Frame {
                    seq,
                    frame: frame.clone(),
                };
            }
        }
    }

    /// The oldest seq held in the ring or the GOP cache.
    pub(super) fn oldest_seq(&self) -> Seq {
        let base = self.ring.base();
        self.gop.start().map_or(base, |start| start.min(base))
    }

    fn lag(&mut self, id: ViewerId, lag: Lag) -> Pull {
        let end = self.ring.end();
        let target = skip_target(&self.gop, &self.ring, &self.configs);
        let Some(viewer) = self.viewers.get_mut(id) else {
            return Pull::Ended;
        };
        let from = viewer.next_seq();
        let (to, prelude) = match (lag, target) {
            (_, Some((key, configs))) if key > from => (key, configs),
            (Lag::Queue, _) => return Pull::Pending,
            (Lag::FellOff, _) => (end, &self.configs),
        };
        let skips = viewer.count_skip();
        if skips > self.limits.max_skips {
            self.viewers.remove(id);
            self.evictions_total += 1;
            let reason = EvictReason::TooManySkips { skips };
            self.observer.on_evict(&self.key, id, &reason);
            return Pull::Evicted(reason);
        }
        viewer.restart(to, prelude);
        self.skips_total += 1;
        let dropped = to - from;
        self.observer.on_skip(&self.key, id, dropped);
        Pull::Skipped { dropped }
    }
}

/// The newest keyframe a lagging viewer can restart at, with the configs in
/// force there: the cached GOP's, else the ring's newest keyframe if no
/// config changed since it (the configs in force before a change are not
/// kept).
fn skip_target<'a>(
    gop: &'a GopCache,
    ring: &Ring,
    configs: &'a Arc<ConfigSet>,
) -> Option<(Seq, &'a Arc<ConfigSet>)> {
    if let Some(start) = gop.start() {
        return Some((start, gop.configs()));
    }
    let key = ring.newest_keyframe()?;
    (configs.since() <= key).then_some((key, configs))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use bytes::Bytes;

    use super::*;
    use crate::{Codec, FrameFlags, NoopObserver, PublishInfo, StreamKey, StreamLimits, Timestamp};

    fn video(key: bool) -> MediaFrame {
        MediaFrame {
            codec: Codec::Vp9,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags: if key {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            },
            payload: Bytes::from_static(b"v"),
        }
    }

    fn stream(limits: StreamLimits) -> Stream {
        let now = Instant::now();
        Stream::new(
            StreamKey::new("live", "unit").unwrap(),
            PublishInfo::new("rtmp", None, now),
            limits,
            Arc::new(NoopObserver),
            now,
        )
    }

    #[test]
    fn an_unknown_viewer_is_told_the_stream_ended() {
        let mut s = stream(StreamLimits::default());
        let id = s.join(Instant::now());
        assert!(s.leave(id));
        assert_eq!(s.pull(id, 0), Pull::Ended);
    }

    #[test]
    fn no_skip_is_allowed_when_max_skips_is_zero() {
        let limits = StreamLimits {
            ring_frames: 2,
            max_skips: 0,
            ..StreamLimits::default()
        };
        let mut s = stream(limits);
        let now = Instant::now();
        s.push(video(true), now);
        let id = s.join(now);
        for _ in 0..30 {
            s.push(video(false), now);
        }
        // The cached GOP still holds the viewer's frames: no lag.
        assert!(matches!(s.pull(id, 0), Pull::Frame { seq: 0, .. }));
        s.push(video(true), now);
        assert_eq!(
            s.pull(id, 0),
            Pull::Evicted(EvictReason::TooManySkips { skips: 1 })
        );
    }

    #[test]
    fn the_gop_cache_keeps_a_viewer_going_past_the_ring() {
        let limits = StreamLimits {
            ring_frames: 2,
            ..StreamLimits::default()
        };
        let mut s = stream(limits);
        let now = Instant::now();
        s.push(video(true), now);
        let id = s.join(now);
        for _ in 0..5 {
            s.push(video(false), now);
        }
        let seqs: Vec<Seq> = std::iter::from_fn(|| match s.pull(id, 0) {
            Pull::Frame { seq, .. } => Some(seq),
            _ => None,
        })
        .collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
    }
}
