//! A live stream on one shard: ingest, viewers and lifecycle.

mod pull;
mod steady;

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

pub use pull::Pull;

use crate::{
    ConfigSet, GopCache, MediaFrame, Observer, PublishInfo, Qos, QosReport, Ring, Seq, Snapshot,
    StreamKey, StreamLimits, TrackKind, ViewerCursor, ViewerId, viewers::Viewers,
};

/// Where a stream is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamState {
    /// A publisher is sending.
    Live,
    /// The publisher left; within the grace period a new one may continue the
    /// stream, and viewers stay.
    Unpublished,
    /// The stream is over: viewers drain what they have, then get
    /// [`Pull::Ended`].
    Ended,
}

/// One copy of a live stream: the origin on its owner shard, or a mirror on
/// a shard with viewers of its own.
///
/// Methods group as getters; inputs from the publisher side (`push`,
/// `unpublish`, `republish`, `end`); viewer commands (`join`, `leave`); and
/// the viewer output [`Stream::pull`], which a driver calls for each viewer
/// until it returns [`Pull::Pending`] (or the viewer's socket is full), and
/// again after the next `push` or once the socket drained.
///
/// A mirror is built from the origin's [`Snapshot`] and then gets every
/// later frame, in order, through `push`; its viewers see exactly what the
/// origin's viewers see, with the same seqs.
pub struct Stream {
    key: StreamKey,
    info: PublishInfo,
    limits: StreamLimits,
    observer: Arc<dyn Observer>,
    origin: bool,
    state: StreamState,
    state_since: Instant,
    /// The configs and metadata in force at the newest push.
    configs: Arc<ConfigSet>,
    ring: Ring,
    gop: GopCache,
    qos: Qos,
    viewers: Viewers,
    skips_total: u64,
    evictions_total: u64,
    last_frame_at: Instant,
}

impl Stream {
    /// The origin copy of a stream whose publisher starts now; fires
    /// [`Observer::on_publish_start`].
    pub fn new(
        key: StreamKey,
        info: PublishInfo,
        limits: StreamLimits,
        observer: Arc<dyn Observer>,
        now: Instant,
    ) -> Stream {
        let stream = Stream {
            ring: Ring::new(limits.ring_frames, limits.ring_bytes, 0),
            gop: GopCache::new(limits.gop_cache_frames, limits.gop_cache_bytes),
            configs: Arc::new(ConfigSet::empty(0)),
            key,
            info,
            limits,
            observer,
            origin: true,
            state: StreamState::Live,
            state_since: now,
            qos: Qos::new(Qos::DEFAULT_WINDOW, now),
            viewers: Viewers::default(),
            skips_total: 0,
            evictions_total: 0,
            last_frame_at: now,
        };
        stream.observer.on_publish_start(&stream.key, &stream.info);
        stream
    }

    /// A mirror of the stream `snapshot` was taken from. Fires no publish or
    /// frame events (the origin does); viewer events fire here.
    ///
    /// The cached GOP seeds both the GOP cache and the ring, so a mirror's
    /// viewers find every frame the origin's viewers would.
    pub fn from_snapshot(
        snapshot: Snapshot,
        limits: StreamLimits,
        observer: Arc<dyn Observer>,
        now: Instant,
    ) -> Stream {
        let first = snapshot.gop_start.unwrap_or(snapshot.next_seq);
        let mut ring = Ring::new(limits.ring_frames, limits.ring_bytes, first);
        let mut gop = GopCache::new(limits.gop_cache_frames, limits.gop_cache_bytes);
        for frame in snapshot.gop_frames {
            gop.push(ring.end(), &frame, &snapshot.gop_configs);
            ring.push(frame);
        }
        Stream {
            key: snapshot.key,
            info: snapshot.info,
            limits,
            observer,
            origin: false,
            state: snapshot.state,
            state_since: now,
            configs: snapshot.configs,
            ring,
            gop,
            qos: Qos::new(Qos::DEFAULT_WINDOW, now),
            viewers: Viewers::default(),
            skips_total: 0,
            evictions_total: 0,
            last_frame_at: now,
        }
    }

    /// What a mirror needs to start: key, publisher info, state, configs
    /// and metadata, and the cached GOP. Frames pushed after this are the
    /// ones with seq [`Snapshot::next_seq`] and up.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            key: self.key.clone(),
            info: self.info.clone(),
            state: self.state,
            configs: Arc::clone(&self.configs),
            gop_configs: Arc::clone(self.gop.configs()),
            gop_start: self.gop.start(),
            gop_frames: self.gop.iter().map(|(_, f)| f.clone()).collect(),
            next_seq: self.ring.end(),
        }
    }

    // Getters.

    /// The stream's key.
    pub fn key(&self) -> &StreamKey {
        &self.key
    }

    /// Where the stream is in its life.
    pub fn state(&self) -> StreamState {
        self.state
    }

    /// When the stream entered its current state (for a grace-period timer).
    pub fn state_since(&self) -> Instant {
        self.state_since
    }

    /// Publisher and media information.
    pub fn info(&self) -> &PublishInfo {
        &self.info
    }

    /// The bounds this copy runs with.
    pub fn limits(&self) -> &StreamLimits {
        &self.limits
    }

    /// Whether this is the origin copy (not a mirror).
    pub fn is_origin(&self) -> bool {
        self.origin
    }

    /// Rates and totals of this copy, over the window ending at `now`.
    pub fn qos(&self, now: Instant) -> QosReport {
        self.qos.report(now)
    }

    /// The seq the next push gets.
    pub fn next_seq(&self) -> Seq {
        self.ring.end()
    }

    /// The configs and metadata in force now.
    pub fn configs(&self) -> &Arc<ConfigSet> {
        &self.configs
    }

    /// Viewers on this copy.
    pub fn viewer_count(&self) -> usize {
        self.viewers.len()
    }

    /// The viewers on this copy.
    pub fn viewer_ids(&self) -> impl Iterator<Item = ViewerId> + '_ {
        self.viewers.ids()
    }

    /// One viewer's cursor.
    pub fn viewer(&self, id: ViewerId) -> Option<&ViewerCursor> {
        self.viewers.get(id)
    }

    /// Skips taken by all viewers of this copy, evictions not included.
    pub fn skips_total(&self) -> u64 {
        self.skips_total
    }

    /// Viewers evicted from this copy by the lag policy.
    pub fn evictions_total(&self) -> u64 {
        self.evictions_total
    }

    /// When the last frame was pushed (or the copy was made, before any).
    pub fn last_frame_at(&self) -> Instant {
        self.last_frame_at
    }

    /// Payload bytes held by the ring, the GOP cache and the config sets.
    /// The ring and the GOP cache share payloads, so this counts an upper
    /// bound of what the stream keeps alive.
    pub fn memory_bytes(&self) -> usize {
        let gop_configs = if Arc::ptr_eq(self.gop.configs(), &self.configs) {
            0
        } else {
            self.gop.configs().bytes()
        };
        self.ring.bytes() + self.gop.bytes() + self.configs.bytes() + gop_configs
    }

    // Publisher side.

    /// Takes a frame from the publisher (or, on a mirror, the relay) and
    /// returns its seq.
    ///
    /// Configs and script data (`onMetaData`) replace the ones in force and
    /// also go into the ring in order, so viewers get changes where they
    /// happen; every frame goes into the GOP cache, the ring and QoS.
    ///
    /// Drivers push only while the stream is [`StreamState::Live`]; a push
    /// in another state is still taken, and reaches viewers.
    pub fn push(&mut self, frame: MediaFrame, now: Instant) -> Seq {
        let seq = self.ring.end();
        if self.origin {
            self.observer.on_frame(&self.key, &frame);
        }
        self.last_frame_at = now;
        self.qos.record(&frame, now);
        self.info.media.observe(&frame);
        if ConfigSet::holds(&frame)
            && let Some(changed) = self.configs.with(seq, &frame)
        {
            self.configs = Arc::new(changed);
        }
        if frame.starts_gop() {
            let fps = self.qos.track(TrackKind::Video, now).fps;
            if fps > 0.0 {
                self.info.media.frame_rate = Some(fps);
            }
        }
        self.gop.push(seq, &frame, &self.configs);
        self.ring.push(frame)
    }

    /// Records the picture size (from a parsed config or `onMetaData`).
    pub fn set_video_size(&mut self, width: u32, height: u32) {
        self.info.media.set_video_size(width, height);
    }

    /// The publisher left. Viewers stay; the stream may be republished
    /// until the caller's grace period runs out and it calls [`Stream::end`].
    pub fn unpublish(&mut self, now: Instant) {
        if self.state == StreamState::Live {
            self.set_state(StreamState::Unpublished, now);
        }
    }

    /// A publisher continues the stream. Viewers stay and get the new
    /// publisher's configs and frames as they come; the GOP cache empties so
    /// joiners start at the new publisher's first keyframe. Fires
    /// [`Observer::on_publish_start`] on the origin. An ended stream stays
    /// ended.
    pub fn republish(&mut self, info: PublishInfo, now: Instant) {
        if self.state == StreamState::Ended {
            return;
        }
        self.info = info;
        self.gop.clear();
        self.set_state(StreamState::Live, now);
        if self.origin {
            self.observer.on_publish_start(&self.key, &self.info);
        }
    }

    /// Ends the stream: viewers drain what they have, then get
    /// [`Pull::Ended`]. Fires [`Observer::on_publish_end`] on the origin,
    /// once.
    pub fn end(&mut self, now: Instant) {
        if self.state == StreamState::Ended {
            return;
        }
        self.set_state(StreamState::Ended, now);
        if self.origin {
            self.observer.on_publish_end(&self.key);
        }
    }

    fn set_state(&mut self, state: StreamState, now: Instant) {
        self.state = state;
        self.state_since = now;
    }

    // Viewer commands.

    /// Adds a viewer. It gets the metadata and configs, then the cached GOP
    /// and live frames with no gap; with no GOP cached, it gets the
    /// metadata and configs, then waits for the next keyframe.
    pub fn join(&mut self, now: Instant) -> ViewerId {
        let cursor = match self.gop.start() {
            Some(start) => ViewerCursor::new(start, self.gop.configs(), now),
            None => ViewerCursor::new(self.ring.end(), &self.configs, now),
        };
        let id = self.viewers.insert(cursor);
        self.observer.on_join(&self.key, id);
        id
    }

    /// Removes a viewer; returns whether it was here.
    pub fn leave(&mut self, id: ViewerId) -> bool {
        let left = self.viewers.remove(id).is_some();
        if left {
            self.observer.on_leave(&self.key, id);
        }
        left
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("key", &self.key)
            .field("origin", &self.origin)
            .field("state", &self.state)
            .field("next_seq", &self.ring.end())
            .field("viewers", &self.viewers.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::{Codec, FrameFlags, NoopObserver, Timestamp};

    fn frame(codec: Codec, flags: FrameFlags, ms: i64, len: usize) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms),
            flags,
            payload: Bytes::from(vec![0; len]),
        }
    }

    fn stream(limits: StreamLimits, now: Instant) -> Stream {
        Stream::new(
            StreamKey::new("live", "unit").unwrap(),
            PublishInfo::new("rtmp", None, now),
            limits,
            Arc::new(NoopObserver),
            now,
        )
    }

    #[test]
    fn memory_counts_ring_gop_and_configs() {
        let now = Instant::now();
        let mut s = stream(StreamLimits::default(), now);
        s.push(frame(Codec::H264, FrameFlags::CONFIG, 0, 30), now);
        s.push(frame(Codec::H264, FrameFlags::KEYFRAME, 0, 1000), now);
        s.push(frame(Codec::Aac, FrameFlags::NONE, 0, 100), now);
        // Ring: all three; GOP: keyframe and audio; configs: the header.
        assert_eq!(s.memory_bytes(), 1130 + 1100 + 30);
    }

    #[test]
    fn learns_media_info_from_frames() {
        let t0 = Instant::now();
        let mut s = stream(StreamLimits::default(), t0);
        for i in 0..50u64 {
            let flags = if i % 25 == 0 {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            };
            let at = t0 + Duration::from_millis(i * 40);
            s.push(frame(Codec::H265, flags, i as i64 * 40, 10), at);
        }
        s.set_video_size(1280, 720);
        let media = &s.info().media;
        assert_eq!(media.video, Some(Codec::H265));
        assert_eq!((media.width, media.height), (Some(1280), Some(720)));
        let fps = media.frame_rate.unwrap();
        assert!((fps - 25.0).abs() < 1.5, "{fps}");
        let last = t0 + Duration::from_millis(49 * 40);
        assert_eq!(s.last_frame_at(), last);
        assert_eq!(s.qos(last).video.frames_total, 50);
    }

    #[test]
    fn lifecycle_moves_one_way_to_ended() {
        let now = Instant::now();
        let mut s = stream(StreamLimits::default(), now);
        assert_eq!(s.state(), StreamState::Live);
        s.end(now);
        s.unpublish(now);
        assert_eq!(s.state(), StreamState::Ended);
    }

    #[test]
    fn a_mirror_of_a_fresh_stream_starts_empty() {
        let now = Instant::now();
        let origin = stream(StreamLimits::default(), now);
        let mut mirror = Stream::from_snapshot(
            origin.snapshot(),
            StreamLimits::default(),
            Arc::new(NoopObserver),
            now,
        );
        assert_eq!((mirror.next_seq(), mirror.memory_bytes()), (0, 0));
        let viewer = mirror.join(now);
        assert_eq!(mirror.pull(viewer, 0), Pull::Pending);
        assert!(format!("{mirror:?}").contains("origin: false"));
    }
}
