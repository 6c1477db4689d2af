//! Where a recording's segments begin and end, the same for every
//! container: [`Splitter`].

use std::collections::VecDeque;

use arcly_engine::{Codec, MediaFrame, Timestamp, TrackKind};

use super::rebase::Rebase;

/// How long audio waits for a video config before the recording starts as
/// audio-only.
pub(super) const AUDIO_ONLY_AFTER: Timestamp = Timestamp(2_000_000);

/// The most audio held while waiting for a video config, in bytes.
const MAX_PROBE_BYTES: usize = 1 << 20;

/// What the container does next, from [`Splitter::pop`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Close the open segment; it plays until `end`.
    Close {
        /// Where the segment's media end, on the recording's timeline.
        end: Timestamp,
    },
    /// Open a new segment with `first`, a random access point of its
    /// driving track (a video keyframe, or any audio frame with no video).
    Open {
        /// The first frame, on the recording's timeline.
        first: MediaFrame,
        /// Media are missing or timestamps broke before this segment (a
        /// reconnect, a config change, a lag skip).
        discontinuity: bool,
        /// The configs differ from those of the segment before: the
        /// container describes the tracks anew (an fMP4 init segment).
        reconfigured: bool,
    },
    /// Add a frame to the open segment.
    Add(MediaFrame),
}

/// Splits a stream into segments: the first starts at the first video
/// keyframe (or, when no video config came within [`AUDIO_ONLY_AFTER`] of
/// audio, at the first audio frame), and each next one at the first
/// keyframe at least `target` after its start.
///
/// A config change, a timestamp break (see [`Rebase`]) or a lag skip closes
/// the open segment at once and drops frames until the next random access
/// point, which opens a segment marked as a discontinuity. Frames come out
/// on the recording's timeline, starting at 0.
///
/// Feed it with [`push`](Self::push), [`skipped`](Self::skipped) and
/// [`finish`](Self::finish); take the steps with [`pop`](Self::pop) after
/// each.
#[derive(Debug)]
pub(super) struct Splitter {
    target: Timestamp,
    rebase: Rebase,
    /// The configs in force (for MP3, which has none, its first frame).
    video: Option<MediaFrame>,
    audio: Option<MediaFrame>,
    /// The newest script data (`onMetaData`).
    metadata: Option<MediaFrame>,
    /// Audio held before the start, in case no video comes.
    probe: VecDeque<MediaFrame>,
    probe_bytes: usize,
    /// The open segment's first `dts`.
    open: Option<Timestamp>,
    /// The next segment opens with a discontinuity.
    discontinuity: bool,
    /// The configs changed since the last segment opened.
    reconfigured: bool,
    finished: bool,
    steps: VecDeque<Step>,
}

impl Splitter {
    /// Segments of at least `target` (each ends at the first random access
    /// point after it).
    pub(super) fn new(target: Timestamp) -> Splitter {
        Splitter {
            target,
            rebase: Rebase::default(),
            video: None,
            audio: None,
            metadata: None,
            probe: VecDeque::new(),
            probe_bytes: 0,
            open: None,
            discontinuity: false,
            reconfigured: false,
            finished: false,
            steps: VecDeque::new(),
        }
    }

    /// The video config in force.
    pub(super) fn video_config(&self) -> Option<&MediaFrame> {
        self.video.as_ref()
    }

    /// The audio config in force (for MP3, its first frame).
    pub(super) fn audio_config(&self) -> Option<&MediaFrame> {
        self.audio.as_ref()
    }

    /// The newest script data.
    pub(super) fn metadata(&self) -> Option<&MediaFrame> {
        self.metadata.as_ref()
    }

    /// The track whose random access points open segments.
    pub(super) fn driving(&self) -> TrackKind {
        match self.video {
            Some(_) => TrackKind::Video,
            None => TrackKind::Audio,
        }
    }

    /// The next step, if any.
    pub(super) fn pop(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }

    /// Takes the stream's next frame.
    pub(super) fn push(&mut self, frame: &MediaFrame) {
        if self.finished {
            return;
        }
        if frame.codec == Codec::Script {
            self.metadata = Some(frame.clone());
            return;
        }
        if frame.is_config() || (frame.codec == Codec::Mp3 && !self.is_mp3_known()) {
            self.set_config(frame);
            if frame.is_config() {
                return;
            }
        }
        if !self.has_config(frame) {
            return;
        }
        if !self.rebase.is_started() {
            self.before_start(frame);
            return;
        }
        self.place(frame);
    }

    /// A media frame once the recording started: into the open segment, or
    /// opening the next.
    fn place(&mut self, frame: &MediaFrame) {
        let track = frame.track();
        let driving = self.driving();
        let end = self.rebase.track_end(driving);
        let (frame, broke) = self.rebase.apply(frame);
        if broke {
            self.interrupt(end);
        }
        let random_access = track == TrackKind::Audio || frame.is_keyframe();
        match self.open {
            None => {
                if track == driving && random_access {
                    self.open_with(frame);
                }
            }
            Some(start) => {
                if track == driving && random_access && frame.dts.0 - start.0 >= self.target.0 {
                    self.steps.push_back(Step::Close { end: frame.dts });
                    self.open_with(frame);
                } else if frame.dts >= Timestamp::ZERO {
                    self.steps.push_back(Step::Add(frame));
                }
            }
        }
    }

    /// The viewer skipped frames (it lagged): the open segment ends, and
    /// the next starts at the next random access point, as a
    /// discontinuity.
    pub(super) fn skipped(&mut self) {
        let end = self.rebase.track_end(self.driving());
        self.interrupt(end);
    }

    /// The stream ended: the open segment closes at the end of its last
    /// frame. Audio held for an audio-only start is recorded.
    pub(super) fn finish(&mut self) {
        if self.finished {
            return;
        }
        if !self.rebase.is_started() && !self.probe.is_empty() {
            self.start_audio_only();
        }
        let end = self.rebase.track_end(self.driving());
        if self.open.take().is_some() {
            let end = end.unwrap_or(Timestamp::ZERO);
            self.steps.push_back(Step::Close { end });
        }
        self.finished = true;
    }

    // The rest.

    fn is_mp3_known(&self) -> bool {
        self.audio.as_ref().is_some_and(|a| a.codec == Codec::Mp3)
    }

    /// Whether a config of the frame's codec is in force: frames nothing
    /// describes are left out.
    fn has_config(&self, frame: &MediaFrame) -> bool {
        let config = match frame.track() {
            TrackKind::Video => &self.video,
            TrackKind::Audio => &self.audio,
            TrackKind::Data => return false,
        };
        config.as_ref().is_some_and(|c| c.codec == frame.codec)
    }

    /// A config (or the first MP3 frame): a change ends the open segment.
    fn set_config(&mut self, frame: &MediaFrame) {
        let slot = match frame.track() {
            TrackKind::Video => &mut self.video,
            TrackKind::Audio => &mut self.audio,
            TrackKind::Data => return,
        };
        let same = slot
            .as_ref()
            .is_some_and(|c| c.codec == frame.codec && c.payload == frame.payload);
        if same {
            return;
        }
        let video_appears = frame.track() == TrackKind::Video && slot.is_none();
        *slot = Some(frame.clone());
        if self.rebase.is_started() {
            let end = match video_appears {
                // An audio-only recording gains video: audio drove it so far.
                true => self.rebase.track_end(TrackKind::Audio),
                false => self.rebase.track_end(self.driving()),
            };
            self.interrupt(end);
            self.reconfigured = true;
        }
    }

    /// Closes the open segment at `end`; the next one is a discontinuity.
    fn interrupt(&mut self, end: Option<Timestamp>) {
        if let Some(start) = self.open.take() {
            let end = end.unwrap_or(start).max(start);
            self.steps.push_back(Step::Close { end });
        }
        if self.rebase.is_started() {
            self.discontinuity = true;
        }
    }

    fn open_with(&mut self, first: MediaFrame) {
        self.open = Some(first.dts);
        self.steps.push_back(Step::Open {
            first,
            discontinuity: std::mem::take(&mut self.discontinuity),
            reconfigured: std::mem::take(&mut self.reconfigured),
        });
    }

    /// A media frame before the recording started.
    fn before_start(&mut self, frame: &MediaFrame) {
        match frame.track() {
            TrackKind::Video if frame.is_keyframe() => {
                self.rebase.start(frame.dts);
                self.place(frame);
                // Audio from the keyframe on was held: it belongs here.
                for audio in std::mem::take(&mut self.probe) {
                    if audio.dts >= frame.dts {
                        self.place(&audio);
                    }
                }
                self.probe_bytes = 0;
            }
            TrackKind::Video => {}
            _ => {
                self.probe_bytes += frame.payload.len();
                self.probe.push_back(frame.clone());
                while self.probe_bytes > MAX_PROBE_BYTES {
                    let dropped = self.probe.pop_front().expect("over the bound");
                    self.probe_bytes -= dropped.payload.len();
                }
                let span = match (self.probe.front(), self.probe.back()) {
                    (Some(first), Some(last)) => last.dts.0 - first.dts.0,
                    _ => 0,
                };
                if self.video.is_none() && span >= AUDIO_ONLY_AFTER.0 {
                    self.start_audio_only();
                }
            }
        }
    }

    fn start_audio_only(&mut self) {
        let held = std::mem::take(&mut self.probe);
        self.probe_bytes = 0;
        let Some(first) = held.front() else {
            return;
        };
        self.rebase.start(first.dts);
        for audio in &held {
            self.place(audio);
        }
    }
}

#[cfg(test)]
mod tests {
    use arcly_engine::FrameFlags;
    use bytes::Bytes;

    use super::*;

    fn config(codec: Codec, payload: &'static [u8]) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags: FrameFlags::CONFIG,
            payload: Bytes::from_static(payload),
        }
    }

    fn media(codec: Codec, ms: i64, key: bool) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms),
            flags: if key {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            },
            payload: Bytes::from_static(b"m"),
        }
    }

    /// Pushes video at 10 fps with a keyframe every `gop` frames, and
    /// audio every 50 ms, from `from_ms` for `frames` video frames.
    fn feed(s: &mut Splitter, from_ms: i64, frames: i64, gop: i64) {
        for i in 0..frames {
            let ms = from_ms + i * 100;
            s.push(&media(Codec::H264, ms, i % gop == 0));
            s.push(&media(Codec::Aac, ms, false));
            s.push(&media(Codec::Aac, ms + 50, false));
        }
    }

    /// The steps, with frames reduced to (track letter, dts ms).
    fn steps(s: &mut Splitter) -> Vec<String> {
        let name = |f: &MediaFrame| match f.track() {
            TrackKind::Video => format!("v{}", f.dts.as_millis()),
            _ => format!("a{}", f.dts.as_millis()),
        };
        std::iter::from_fn(|| s.pop())
            .filter_map(|step| match step {
                Step::Close { end } => Some(format!("close@{}", end.as_millis())),
                Step::Open {
                    first,
                    discontinuity,
                    reconfigured,
                } => Some(format!(
                    "open@{}{}{}",
                    name(&first),
                    if discontinuity { "+disc" } else { "" },
                    if reconfigured { "+init" } else { "" }
                )),
                Step::Add(_) => None,
            })
            .collect()
    }

    fn started() -> Splitter {
        let mut s = Splitter::new(Timestamp::from_millis(1_000));
        s.push(&config(Codec::H264, b"avc1"));
        s.push(&config(Codec::Aac, b"aac1"));
        s
    }

    #[test]
    fn segments_start_at_the_first_keyframe_after_the_target() {
        let mut s = started();
        // Audio and a non-keyframe before the first keyframe are left out.
        s.push(&media(Codec::Aac, 4_900, false));
        s.push(&media(Codec::H264, 4_950, false));
        feed(&mut s, 5_000, 35, 15);
        s.finish();
        assert_eq!(
            steps(&mut s),
            [
                "open@v0",
                "close@1500",
                "open@v1500",
                "close@3000",
                "open@v3000",
                "close@3500"
            ]
        );
    }

    #[test]
    fn a_config_change_ends_the_segment_and_the_next_keyframe_starts_a_new_init() {
        let mut s = started();
        feed(&mut s, 0, 12, 10);
        s.push(&config(Codec::H264, b"avc2"));
        // Frames of the new config before its keyframe are left out.
        s.push(&media(Codec::H264, 1_200, false));
        feed(&mut s, 1_300, 10, 10);
        s.finish();
        assert_eq!(
            steps(&mut s),
            [
                "open@v0",
                "close@1000",
                "open@v1000",
                "close@1200",
                "open@v1300+disc+init",
                "close@2300"
            ]
        );
    }

    #[test]
    fn a_reconnect_from_zero_continues_the_timeline_after_a_discontinuity() {
        let mut s = started();
        feed(&mut s, 10_000, 15, 10);
        // The same configs again, then timestamps from 0.
        s.push(&config(Codec::H264, b"avc1"));
        s.push(&config(Codec::Aac, b"aac1"));
        feed(&mut s, 0, 10, 10);
        s.finish();
        assert_eq!(
            steps(&mut s),
            [
                "open@v0",
                "close@1000",
                "open@v1000",
                "close@1500",
                "open@v1500+disc",
                "close@2500"
            ]
        );
    }

    #[test]
    fn audio_without_video_starts_after_a_wait_with_what_was_held() {
        let mut s = Splitter::new(Timestamp::from_millis(1_000));
        s.push(&config(Codec::Aac, b"aac1"));
        for i in 0..100 {
            s.push(&media(Codec::Aac, 1_000 + i * 50, false));
        }
        s.finish();
        let steps = steps(&mut s);
        assert_eq!(steps[0], "open@a0");
        assert_eq!(steps.last().unwrap(), "close@5000");
        assert_eq!(steps.iter().filter(|s| s.starts_with("open")).count(), 5);
    }

    #[test]
    fn a_skip_ends_the_segment_and_marks_the_next() {
        let mut s = started();
        feed(&mut s, 0, 5, 10);
        s.skipped();
        feed(&mut s, 2_000, 10, 10);
        s.finish();
        assert_eq!(
            steps(&mut s),
            ["open@v0", "close@500", "open@v2000+disc", "close@3000"]
        );
    }
}
