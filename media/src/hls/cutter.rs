//! Where segments and parts end, decided frame by frame on the driving track
//! (video, or audio in an audio-only stream).
//!
//! Segments start on the first keyframe at or after the target duration.
//! Parts hold a fixed number of frames, chosen once from the measured frame
//! interval so that every part but the last of a segment lasts between 85 %
//! and 100 % of the Part Target Duration, as rfc8216bis §4.4.4.9 requires.
//! When whole frames cannot fill 85 % of the configured part target (24 fps
//! into 200 ms: four frames are 167 ms, five 208 ms), the advertised part
//! target grows to fit one more frame. Frames with millisecond timestamps
//! whose interval is not a whole millisecond jitter by one, and the part
//! target keeps that much slack.

use arcly_engine::Timestamp;

const MS: i64 = 1_000;

/// What to do with a frame of the driving track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cut {
    /// No segment can start here (a video frame before the first keyframe).
    Drop,
    /// The first frame of the stream's first segment.
    Open,
    /// The frame continues the current part.
    Extend,
    /// The current part ends before this frame, which starts the next one.
    Part {
        /// Decode time where the ending part started.
        part_start: Timestamp,
    },
    /// The current part and segment end before this frame (a keyframe),
    /// which starts the next segment.
    Segment {
        /// Decode time where the ending part started.
        part_start: Timestamp,
        /// Decode time where the ending segment started.
        segment_start: Timestamp,
    },
}

/// Frames per part and the part target they fit in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PartPlan {
    /// Frames per part.
    pub(super) frames: u32,
    /// The Part Target Duration to advertise.
    pub(super) target: Timestamp,
}

/// Segment and part boundaries of one stream.
#[derive(Clone, Debug)]
pub(super) struct Cutter {
    target: Timestamp,
    part_target: Timestamp,
    /// Fixed at the first cut, since `PART-TARGET` must not change.
    plan: Option<PartPlan>,
    segment_start: Option<Timestamp>,
    part_start: Timestamp,
    part_frames: u32,
    /// For the mean frame interval.
    first: Timestamp,
    last: Timestamp,
    frames: i64,
}

impl Cutter {
    pub(super) fn new(target: Timestamp, part_target: Timestamp) -> Cutter {
        Cutter {
            target,
            part_target,
            plan: None,
            segment_start: None,
            part_start: Timestamp::ZERO,
            part_frames: 0,
            first: Timestamp::ZERO,
            last: Timestamp::ZERO,
            frames: 0,
        }
    }

    /// The mean interval between frames of the driving track so far.
    pub(super) fn interval(&self) -> Option<i64> {
        (self.frames > 1).then(|| ((self.last.0 - self.first.0) / (self.frames - 1)).max(1))
    }

    /// The plan: fixed once a part was cut, else what the frames so far say.
    pub(super) fn plan(&self) -> PartPlan {
        self.plan
            .unwrap_or_else(|| fit(self.part_target, self.interval()))
    }

    /// Where the open segment started, if one is open.
    pub(super) fn segment_start(&self) -> Option<Timestamp> {
        self.segment_start
    }

    /// Where the current part started.
    pub(super) fn part_start(&self) -> Timestamp {
        self.part_start
    }

    /// Where the last frame seen ends: its decode time plus one interval.
    pub(super) fn end(&self) -> Timestamp {
        Timestamp(self.last.0 + self.interval().unwrap_or(0).max(1))
    }

    /// Whether [`decide`](Self::decide) would start a segment at this frame.
    pub(super) fn starts_segment(&self, dts: Timestamp, keyframe: bool, force: bool) -> bool {
        keyframe
            && self
                .segment_start
                .is_none_or(|start| force || dts.0 - start.0 >= self.target.0)
    }

    /// Decides for the next frame of the driving track. `keyframe`: a segment
    /// may start here; `force`: one must, if it may (a new configuration).
    pub(super) fn decide(&mut self, dts: Timestamp, keyframe: bool, force: bool) -> Cut {
        if self.frames == 0 {
            self.first = dts;
        }
        self.frames += 1;
        self.last = dts;

        let Some(segment_start) = self.segment_start else {
            if !keyframe {
                return Cut::Drop;
            }
            self.start(dts, true);
            return Cut::Open;
        };
        let part_start = self.part_start;
        if keyframe && (force || dts.0 - segment_start.0 >= self.target.0) {
            self.freeze();
            self.start(dts, true);
            return Cut::Segment {
                part_start,
                segment_start,
            };
        }
        let plan = self.plan();
        let interval = self.interval().unwrap_or(0);
        // A gap in the input would push the part past its target: end it
        // early rather than late.
        let overdue = self.part_frames > 0
            && dts.0 - part_start.0 + interval > plan.target.0 + jitter(interval);
        if self.part_frames >= plan.frames || overdue {
            self.freeze();
            self.start(dts, false);
            return Cut::Part { part_start };
        }
        self.part_frames += 1;
        Cut::Extend
    }

    fn start(&mut self, dts: Timestamp, segment: bool) {
        if segment {
            self.segment_start = Some(dts);
        }
        self.part_start = dts;
        self.part_frames = 1;
    }

    fn freeze(&mut self) {
        if self.plan.is_none() {
            self.plan = Some(self.plan());
        }
    }
}

/// Timestamps with an interval that is not a whole millisecond were
/// rounded to one: allow that much on top of whole frames.
fn jitter(interval: i64) -> i64 {
    if interval % MS == 0 { 0 } else { MS }
}

/// Frames per part for a part target and frame interval: as many as fit,
/// or one more if those fill less than 85 % of the target, in which case
/// the target grows to hold them.
fn fit(part_target: Timestamp, interval: Option<i64>) -> PartPlan {
    let target = part_target.0;
    let Some(interval) = interval else {
        return PartPlan {
            frames: u32::MAX,
            target: part_target,
        };
    };
    let mut frames = (target / interval).max(1);
    if frames * interval * 100 < target * 85 {
        frames += 1;
    }
    let span = frames * interval + jitter(interval);
    let target = if span <= target {
        target
    } else {
        span.div_euclid(MS) * MS + if span % MS == 0 { 0 } else { MS }
    };
    PartPlan {
        frames: u32::try_from(frames).unwrap_or(u32::MAX),
        target: Timestamp(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cuts `count` frames at `fps` (millisecond timestamps, a keyframe
    /// every `gop`) and returns the part durations of each segment, the
    /// plan, and the segment durations.
    fn run(fps: f64, gop: u32, count: u32) -> (Vec<Vec<i64>>, PartPlan, Vec<i64>) {
        let mut cutter = Cutter::new(Timestamp(2_000_000), Timestamp(200_000));
        let mut segments = vec![Vec::new()];
        let mut segment_durations = Vec::new();
        for i in 0..count {
            let dts = Timestamp::from_millis((f64::from(i) * 1000.0 / fps).round() as i64);
            match cutter.decide(dts, i % gop == 0, false) {
                Cut::Drop => unreachable!(),
                Cut::Open | Cut::Extend => {}
                Cut::Part { part_start } => {
                    segments.last_mut().unwrap().push(dts.0 - part_start.0);
                }
                Cut::Segment {
                    part_start,
                    segment_start,
                } => {
                    segments.last_mut().unwrap().push(dts.0 - part_start.0);
                    segments.push(Vec::new());
                    segment_durations.push(dts.0 - segment_start.0);
                }
            }
        }
        segments.pop();
        (segments, cutter.plan(), segment_durations)
    }

    /// Every part at most the target, and all but each segment's last at
    /// least 85 % of it.
    fn check(segments: &[Vec<i64>], plan: PartPlan) {
        assert!(!segments.is_empty());
        for parts in segments {
            for (i, &part) in parts.iter().enumerate() {
                assert!(part <= plan.target.0, "{part} > {plan:?}: {parts:?}");
                if i + 1 < parts.len() {
                    assert!(part * 100 >= plan.target.0 * 85, "{part}: {parts:?}");
                }
            }
        }
    }

    #[test]
    fn twenty_five_fps_makes_five_frame_parts() {
        let (segments, plan, durations) = run(25.0, 50, 500);
        assert_eq!(
            plan,
            PartPlan {
                frames: 5,
                target: Timestamp(200_000)
            }
        );
        assert_eq!(segments[0], [200_000; 10]);
        assert_eq!(durations, [2_000_000; 9]);
        check(&segments, plan);
    }

    #[test]
    fn thirty_fps_keeps_a_millisecond_of_slack() {
        let (segments, plan, _) = run(30.0, 60, 600);
        assert_eq!(plan.frames, 6);
        assert_eq!(plan.target, Timestamp(201_000));
        check(&segments, plan);
    }

    #[test]
    fn twenty_four_fps_grows_the_part_target() {
        let (segments, plan, durations) = run(24.0, 48, 480);
        assert_eq!(plan.frames, 5);
        assert_eq!(plan.target, Timestamp(209_000));
        check(&segments, plan);
        assert!(durations.iter().all(|&d| d == 2_000_000), "{durations:?}");
    }

    #[test]
    fn aac_frames_make_audio_only_parts() {
        // 1024 samples at 44.1 kHz, every frame a possible segment start.
        let (segments, plan, durations) = run(44_100.0 / 1024.0, 1, 500);
        assert_eq!(plan.frames, 8);
        assert_eq!(plan.target, Timestamp(200_000));
        check(&segments, plan);
        // Cut on the first frame at or after 2 s.
        assert!(
            durations
                .iter()
                .all(|&d| (2_000_000..2_024_000).contains(&d))
        );
    }

    #[test]
    fn waits_for_a_keyframe_and_cuts_early_on_gaps() {
        let mut cutter = Cutter::new(Timestamp(2_000_000), Timestamp(200_000));
        assert_eq!(cutter.decide(Timestamp(0), false, false), Cut::Drop);
        assert_eq!(cutter.decide(Timestamp(40_000), true, false), Cut::Open);
        assert_eq!(cutter.segment_start(), Some(Timestamp(40_000)));
        assert_eq!(cutter.decide(Timestamp(80_000), false, false), Cut::Extend);
        // A frame 300 ms late.
        assert_eq!(
            cutter.decide(Timestamp(380_000), false, false),
            Cut::Part {
                part_start: Timestamp(40_000)
            }
        );
        // A forced segment on the next keyframe.
        assert_eq!(
            cutter.decide(Timestamp(420_000), true, true),
            Cut::Segment {
                part_start: Timestamp(380_000),
                segment_start: Timestamp(40_000)
            }
        );
    }
}
