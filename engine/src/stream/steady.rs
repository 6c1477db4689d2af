//! Steady viewers: those that read every frame in push order, so a driver
//! may write the same run of frames to all of them and move them past it
//! at once, instead of pulling each frame for each viewer.

use super::Stream;
use crate::{MediaFrame, Seq, ViewerId};

impl Stream {
    /// The next seq of viewer `id` if it is steady (see
    /// [`ViewerCursor::is_steady`](crate::ViewerCursor::is_steady)): from
    /// there on it gets every frame [`Stream::frame`] holds, in order.
    pub fn steady_next(&self, id: ViewerId) -> Option<Seq> {
        let viewer = self.viewers.get(id)?;
        viewer.is_steady().then(|| viewer.next_seq())
    }

    /// The frame at `seq`, if the ring or the GOP cache still holds it.
    pub fn frame(&self, seq: Seq) -> Option<&MediaFrame> {
        self.ring.get(seq).or_else(|| self.gop.get(seq))
    }

    /// Moves steady viewer `id` from `from` to `to`, as if it had pulled
    /// every frame in between: for a driver that wrote those frames to it.
    /// Refused (false, nothing changes) unless the viewer is steady at
    /// `from`, every frame from `from` up to `to` is still held, and it
    /// would have been sent all of them (a viewer that just started may
    /// still withhold audio timed before its keyframe).
    pub fn advance(&mut self, id: ViewerId, from: Seq, to: Seq) -> bool {
        let held = from >= self.oldest_seq() && from <= to && to <= self.ring.end();
        let Some(viewer) = self.viewers.get_mut(id) else {
            return false;
        };
        if !held || !viewer.is_steady() || viewer.next_seq() != from {
            return false;
        }
        let (ring, gop) = (&self.ring, &self.gop);
        let frames = (from..to).filter_map(|seq| ring.get(seq).or_else(|| gop.get(seq)));
        viewer.skip_over(frames, to)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use bytes::Bytes;

    use crate::{
        Codec, FrameFlags, MediaFrame, NoopObserver, PublishInfo, Pull, Stream, StreamKey,
        StreamLimits, Timestamp, ViewerId,
    };

    fn frame(codec: Codec, flags: FrameFlags, ms: i64) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms),
            flags,
            payload: Bytes::from_static(b"x"),
        }
    }

    fn live_stream() -> Stream {
        let key = StreamKey::new("live", "steady").unwrap();
        let now = Instant::now();
        let info = PublishInfo::new("rtmp", None, now);
        let limits = StreamLimits::default();
        let mut stream = Stream::new(key, info, limits, Arc::new(NoopObserver), now);
        stream.push(frame(Codec::H264, FrameFlags::CONFIG, 0), now);
        stream.push(frame(Codec::H264, FrameFlags::KEYFRAME, 0), now);
        stream
    }

    fn pull_all(stream: &mut Stream, id: ViewerId) -> Vec<u64> {
        let mut seqs = Vec::new();
        while let Pull::Frame { seq, .. } = stream.pull(id, 0) {
            seqs.push(seq);
        }
        seqs
    }

    #[test]
    fn a_viewer_is_steady_once_it_has_its_keyframe() {
        let mut stream = live_stream();
        let now = Instant::now();
        let id = stream.join(now);
        assert_eq!(stream.steady_next(id), None, "configs and a keyframe first");
        assert_eq!(pull_all(&mut stream, id), [0, 1]);
        assert_eq!(stream.steady_next(id), Some(2));
    }

    #[test]
    fn advancing_equals_pulling_every_frame() {
        let mut stream = live_stream();
        let now = Instant::now();
        let (a, b) = (stream.join(now), stream.join(now));
        pull_all(&mut stream, a);
        pull_all(&mut stream, b);
        for ms in [40, 80] {
            stream.push(frame(Codec::Aac, FrameFlags::NONE, ms), now);
            stream.push(frame(Codec::H264, FrameFlags::NONE, ms), now);
        }
        let end = stream.next_seq();
        assert_eq!(pull_all(&mut stream, a), [2, 3, 4, 5]);
        assert!(stream.advance(b, 2, end));
        assert_eq!(stream.steady_next(b), stream.steady_next(a));
        assert_eq!(stream.pull(b, 0), Pull::Pending);
    }

    #[test]
    fn advancing_is_refused_off_position_or_past_the_end() {
        let mut stream = live_stream();
        let now = Instant::now();
        let id = stream.join(now);
        assert!(!stream.advance(id, 0, 2), "not steady before its keyframe");
        pull_all(&mut stream, id);
        stream.push(frame(Codec::H264, FrameFlags::NONE, 40), now);
        assert!(!stream.advance(id, 1, 3), "not where the viewer is");
        assert!(!stream.advance(id, 2, 4), "past the last frame pushed");
        assert_eq!(stream.steady_next(id), Some(2));
        assert!(stream.advance(id, 2, 3));
    }

    #[test]
    fn audio_from_before_the_start_keyframe_is_not_skipped_over() {
        let mut stream = live_stream();
        let now = Instant::now();
        stream.push(frame(Codec::H264, FrameFlags::KEYFRAME, 2000), now);
        let id = stream.join(now);
        pull_all(&mut stream, id);
        let late = stream.next_seq();
        stream.push(frame(Codec::Aac, FrameFlags::NONE, 1990), now);
        assert!(
            !stream.advance(id, late, late + 1),
            "pulling withholds it, so a shared run may not carry it"
        );
        assert_eq!(pull_all(&mut stream, id), Vec::<u64>::new());
        stream.push(frame(Codec::Aac, FrameFlags::NONE, 2010), now);
        assert!(stream.advance(id, late + 1, late + 2));
    }
}
