//! Random scripts of publisher and viewer operations against a stream with
//! small limits, like a fuzz target, checking after every step that:
//! - every frame a viewer gets is the one pushed with that seq;
//! - since a join or skip, frames come in strictly increasing seq order,
//!   and media frames never repeat or go back over a viewer's life;
//! - the first video frame since a join or skip is a GOP-starting keyframe,
//!   preceded (since then) by the configs and metadata in force at it;
//! - before that keyframe no audio is sent if the stream has video, and
//!   from it on nothing is left out but audio timed before it;
//! - a skip leaves out at least one frame, and eviction comes on the skip
//!   past `max_skips`;
//! - the stream holds no more than its ring and GOP bounds plus configs;
//! - a mirror made from a snapshot at a random step, fed the same later
//!   operations, gives its viewers exactly what the origin gives its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcly_engine::{
    Codec, FrameFlags, MediaFrame, NoopObserver, PublishInfo, Pull, Seq, Stream, StreamKey,
    StreamLimits, StreamState, Timestamp, TrackKind, ViewerId,
};
use bytes::Bytes;
use proptest::prelude::*;

/// A queue far over any bound the limits below allow.
const SLOW: usize = 1 << 20;
/// Config and metadata payloads are at most this long.
const CONFIG_MAX: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Video { key: bool, size: usize },
    Audio { size: usize, late_ms: i64 },
    VideoConfig(u8),
    AudioConfig(u8),
    Metadata(u8),
    Join,
    Read { viewer: usize, count: usize },
    SlowRead { viewer: usize, count: usize },
    Leave { viewer: usize },
    Unpublish,
    Republish,
    End,
    Mirror,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        60 => (prop::bool::weighted(0.2), 1..400usize).prop_map(|(key, size)| Op::Video { key, size }),
        30 => (1..200usize, 0..40i64).prop_map(|(size, late_ms)| Op::Audio { size, late_ms }),
        4 => (0..3u8).prop_map(Op::VideoConfig),
        4 => (0..3u8).prop_map(Op::AudioConfig),
        4 => (0..3u8).prop_map(Op::Metadata),
        12 => Just(Op::Join),
        40 => (0..8usize, 1..30usize).prop_map(|(viewer, count)| Op::Read { viewer, count }),
        12 => (0..8usize, 1..6usize).prop_map(|(viewer, count)| Op::SlowRead { viewer, count }),
        4 => (0..8usize).prop_map(|viewer| Op::Leave { viewer }),
        3 => Just(Op::Unpublish),
        4 => Just(Op::Republish),
        1 => Just(Op::End),
        3 => Just(Op::Mirror),
    ]
}

fn limits() -> impl Strategy<Value = StreamLimits> {
    // A quarter of the runs without a GOP cache.
    let gop_frames = prop_oneof![1 => Just(0), 3 => 1..12usize];
    (
        gop_frames,
        1..3000usize,
        1..16usize,
        200..3000usize,
        0..4u32,
    )
        .prop_map(
            |(gop_frames, gop_bytes, ring_frames, ring_bytes, max_skips)| StreamLimits {
                gop_cache_frames: gop_frames,
                gop_cache_bytes: gop_bytes,
                ring_frames,
                ring_bytes,
                viewer_queue_bytes: 1000,
                max_skips,
            },
        )
}

/// What the test knows of one viewer since it joined.
#[derive(Default)]
struct ViewerModel {
    mirror: Option<ViewerId>,
    /// Last seq sent since the join or the last skip.
    segment_last: Option<Seq>,
    /// Configs and metadata sent since the join or the last skip.
    segment_configs: [Option<Bytes>; 3],
    /// The keyframe the segment started at, and whether audio passed since.
    started: Option<(Seq, Timestamp)>,
    audio_passed: bool,
    last_media: Option<Seq>,
    skips: u32,
    /// Frames pushed when the viewer last skipped.
    skipped_at: Option<usize>,
    ended: bool,
}

fn slot(track: TrackKind) -> usize {
    match track {
        TrackKind::Video => 0,
        TrackKind::Audio => 1,
        TrackKind::Data => 2,
    }
}

fn is_setup(frame: &MediaFrame) -> bool {
    frame.is_config() || frame.codec == Codec::Script
}

struct Harness {
    limits: StreamLimits,
    now: Instant,
    clock_ms: i64,
    pushes: u64,
    pushed: Vec<MediaFrame>,
    /// Whether the current publisher has sent video.
    has_video: bool,
    origin: Stream,
    mirror: Option<Stream>,
    viewers: Vec<(ViewerId, ViewerModel)>,
}

impl Harness {
    fn new(limits: StreamLimits) -> Harness {
        let now = Instant::now();
        let origin = Stream::new(
            StreamKey::new("live", "prop").unwrap(),
            PublishInfo::new("rtmp", None, now),
            limits.clone(),
            Arc::new(NoopObserver),
            now,
        );
        Harness {
            limits,
            now,
            clock_ms: 0,
            pushes: 0,
            pushed: Vec::new(),
            has_video: false,
            origin,
            mirror: None,
            viewers: Vec::new(),
        }
    }

    fn payload(&mut self, size: usize) -> Bytes {
        self.pushes += 1;
        let mut body = self.pushes.to_be_bytes().to_vec();
        body.resize(size.max(8), 0);
        Bytes::from(body)
    }

    fn frame(codec: Codec, flags: FrameFlags, ms: i64, payload: Bytes) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms),
            flags,
            payload,
        }
    }

    fn push(&mut self, frame: MediaFrame) {
        // Drivers push only while a publisher is live.
        if self.origin.state() != StreamState::Live {
            return;
        }
        self.now += Duration::from_millis(10);
        let seq = self.origin.push(frame.clone(), self.now);
        assert_eq!(seq, self.pushed.len() as Seq);
        if let Some(mirror) = &mut self.mirror {
            assert_eq!(mirror.push(frame.clone(), self.now), seq);
        }
        self.has_video |= frame.track() == TrackKind::Video;
        self.pushed.push(frame);
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Video { key, size } => {
                self.clock_ms += 10;
                let flags = if key {
                    FrameFlags::KEYFRAME
                } else {
                    FrameFlags::NONE
                };
                let payload = self.payload(size);
                self.push(Self::frame(Codec::H264, flags, self.clock_ms, payload));
            }
            Op::Audio { size, late_ms } => {
                self.clock_ms += 10;
                let payload = self.payload(size);
                let ms = self.clock_ms - late_ms;
                self.push(Self::frame(Codec::Aac, FrameFlags::NONE, ms, payload));
            }
            Op::VideoConfig(v) => self.push(Self::frame(
                Codec::H264,
                FrameFlags::CONFIG | FrameFlags::KEYFRAME,
                self.clock_ms,
                Bytes::from(format!("vc{v}")),
            )),
            Op::AudioConfig(v) => self.push(Self::frame(
                Codec::Aac,
                FrameFlags::CONFIG,
                self.clock_ms,
                Bytes::from(format!("ac{v}")),
            )),
            Op::Metadata(v) => self.push(Self::frame(
                Codec::Script,
                FrameFlags::NONE,
                self.clock_ms,
                Bytes::from(format!("md{v}")),
            )),
            Op::Join => {
                let id = self.origin.join(self.now);
                let mirror = self.mirror.as_mut().map(|m| m.join(self.now));
                self.viewers.push((
                    id,
                    ViewerModel {
                        mirror,
                        ..ViewerModel::default()
                    },
                ));
            }
            Op::Read { viewer, count } => self.read(viewer, count, 0),
            Op::SlowRead { viewer, count } => self.read(viewer, count, SLOW),
            Op::Leave { viewer } => {
                if !self.viewers.is_empty() {
                    let (id, model) = self.viewers.remove(viewer % self.viewers.len());
                    assert!(self.origin.leave(id));
                    if let (Some(m), Some(mid)) = (&mut self.mirror, model.mirror) {
                        assert!(m.leave(mid));
                    }
                }
            }
            Op::Unpublish => self.each_copy(|s, now| s.unpublish(now)),
            Op::Republish => {
                if self.origin.state() != StreamState::Ended {
                    self.has_video = false;
                    // A republish drops the GOP cache: a viewer that was
                    // skipped to a cached keyframe, and has not read it yet,
                    // loses it and is skipped again with nothing new pushed.
                    for (_, model) in &mut self.viewers {
                        model.skipped_at = None;
                    }
                }
                self.each_copy(|s, now| s.republish(PublishInfo::new("rtmp", None, now), now));
            }
            Op::End => self.each_copy(|s, now| s.end(now)),
            Op::Mirror => {
                if self.mirror.is_none() {
                    let snapshot = self.origin.snapshot();
                    assert_eq!(snapshot.next_seq(), self.origin.next_seq());
                    self.mirror = Some(Stream::from_snapshot(
                        snapshot,
                        self.limits.clone(),
                        Arc::new(NoopObserver),
                        self.now,
                    ));
                }
            }
        }
    }

    fn each_copy(&mut self, f: impl Fn(&mut Stream, Instant)) {
        self.now += Duration::from_millis(10);
        f(&mut self.origin, self.now);
        if let Some(mirror) = &mut self.mirror {
            f(mirror, self.now);
            assert_eq!(mirror.state(), self.origin.state());
        }
    }

    fn read(&mut self, viewer: usize, count: usize, queued: usize) {
        if self.viewers.is_empty() {
            return;
        }
        let index = viewer % self.viewers.len();
        for _ in 0..count {
            let (id, model) = &mut self.viewers[index];
            let pull = self.origin.pull(*id, queued);
            if let (Some(mirror), Some(mid)) = (&mut self.mirror, model.mirror) {
                assert_eq!(mirror.pull(mid, queued), pull, "mirror differs");
            }
            let stream = StreamView {
                pushed: &self.pushed,
                limits: &self.limits,
                state: self.origin.state(),
                has_video: self.has_video,
            };
            if stream.check_pull(model, &pull) {
                self.viewers.remove(index);
                return;
            }
            if matches!(pull, Pull::Pending | Pull::Ended) {
                return;
            }
        }
    }

    fn check_stream(&self) {
        let bound = self.limits.ring_bytes + self.limits.gop_cache_bytes + 6 * CONFIG_MAX;
        assert!(
            self.origin.memory_bytes() <= bound,
            "{} bytes held, bound {bound}",
            self.origin.memory_bytes()
        );
        assert_eq!(self.origin.viewer_count(), self.viewers.len());
    }
}

/// The payload of the last setup frame of `track` pushed before `seq`.
fn in_force(pushed: &[MediaFrame], seq: Seq, track: TrackKind) -> Option<Bytes> {
    pushed[..seq as usize]
        .iter()
        .rev()
        .find(|f| is_setup(f) && f.track() == track)
        .map(|f| f.payload.clone())
}

/// What the checks need to know of the stream at one pull.
struct StreamView<'a> {
    pushed: &'a [MediaFrame],
    limits: &'a StreamLimits,
    state: StreamState,
    has_video: bool,
}

impl StreamView<'_> {
    /// Checks one pull against the model; returns whether the viewer is gone.
    fn check_pull(&self, model: &mut ViewerModel, pull: &Pull) -> bool {
        let limits = self.limits;
        if model.ended {
            assert_eq!(*pull, Pull::Ended, "pulls after Ended stay Ended");
        }
        match pull {
            Pull::Frame { seq, frame } => self.check_frame(model, *seq, frame),
            Pull::Skipped { dropped } => {
                assert!(*dropped > 0, "a skip that leaves nothing out");
                assert_ne!(
                    model.skipped_at,
                    Some(self.pushed.len()),
                    "skipped twice in place"
                );
                model.skips += 1;
                assert!(model.skips <= limits.max_skips);
                *model = ViewerModel {
                    mirror: model.mirror,
                    last_media: model.last_media,
                    skips: model.skips,
                    skipped_at: Some(self.pushed.len()),
                    ..ViewerModel::default()
                };
            }
            Pull::Evicted(_) => {
                assert_eq!(
                    model.skips, limits.max_skips,
                    "evicted on the skip past the limit"
                );
                return true;
            }
            Pull::Ended => {
                assert_eq!(self.state, StreamState::Ended);
                model.ended = true;
            }
            Pull::Pending => {}
        }
        false
    }

    fn check_frame(&self, model: &mut ViewerModel, seq: Seq, frame: &MediaFrame) {
        let pushed = self.pushed;
        assert_eq!(
            &pushed[seq as usize], frame,
            "seq {seq} is not the frame pushed as it"
        );
        if let Some(last) = model.segment_last {
            assert!(seq > last, "seq {seq} after {last} in one segment");
        }
        if is_setup(frame) {
            model.segment_configs[slot(frame.track())] = Some(frame.payload.clone());
        } else {
            if let Some(last) = model.last_media {
                assert!(seq > last, "media seq {seq} after {last}");
            }
            model.last_media = Some(seq);
        }
        match model.started {
            None if frame.track() == TrackKind::Video && !frame.is_config() => {
                assert!(
                    frame.starts_gop(),
                    "first video frame since a start is not a keyframe"
                );
                for track in [TrackKind::Video, TrackKind::Audio, TrackKind::Data] {
                    assert_eq!(
                        model.segment_configs[slot(track)],
                        in_force(pushed, seq, track),
                        "{track:?} config before the keyframe at {seq}"
                    );
                }
                model.started = Some((seq, frame.dts));
            }
            None => {
                let audio = frame.track() == TrackKind::Audio && !frame.is_config();
                assert!(
                    !(audio && self.has_video),
                    "audio before the first keyframe"
                );
            }
            Some((key_seq, key_dts)) => {
                let prev = model.segment_last.unwrap_or(key_seq);
                for gap in prev + 1..seq {
                    let left_out = &pushed[gap as usize];
                    assert!(
                        left_out.track() == TrackKind::Audio
                            && !left_out.is_config()
                            && !model.audio_passed
                            && left_out.dts < key_dts,
                        "seq {gap} left out after the keyframe at {key_seq}"
                    );
                }
                if frame.track() == TrackKind::Audio && !frame.is_config() {
                    if !model.audio_passed {
                        assert!(frame.dts >= key_dts, "audio timed before the keyframe");
                    }
                    model.audio_passed = true;
                }
            }
        }
        model.segment_last = Some(seq);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_operations(limits in limits(), ops in prop::collection::vec(op(), 1..300)) {
        let mut harness = Harness::new(limits);
        for op in ops {
            harness.apply(op);
            harness.check_stream();
        }
    }
}

/// A case the property test found in CI (2026-11-22): a viewer skipped to
/// the cached keyframe while the stream was unpublished (the ring holds one
/// frame) is skipped again after the republish cleared the GOP cache.
#[test]
fn skip_across_a_republish_with_a_one_frame_ring() {
    let limits = StreamLimits {
        gop_cache_frames: 4,
        gop_cache_bytes: 591,
        ring_frames: 1,
        ring_bytes: 200,
        viewer_queue_bytes: 1000,
        max_skips: 2,
    };
    let ops = [
        Op::Join,
        Op::Join,
        Op::Leave { viewer: 0 },
        Op::Video {
            key: false,
            size: 1,
        },
        Op::Video { key: true, size: 1 },
        Op::Join,
        Op::Join,
        Op::Video {
            key: false,
            size: 1,
        },
        Op::Unpublish,
        Op::SlowRead {
            viewer: 3,
            count: 1,
        },
        Op::Join,
        Op::Republish,
        Op::Read {
            viewer: 4,
            count: 1,
        },
    ];
    let mut harness = Harness::new(limits);
    for op in ops {
        harness.apply(op);
        harness.check_stream();
    }
}
