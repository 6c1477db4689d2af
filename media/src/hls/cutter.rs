//! Where segments and parts end, decided frame by frame on the driving track
//! (video, or audio in an audio-only stream).
//!
//! Segments start on the first keyframe at or after the target duration.
//! Parts hold a planned number of frames, chosen once from the measured
//! frame interval so that every part but the last of a segment lasts between
//! 85 % and 100 % of the Part Target Duration, as rfc8216bis §4.4.4.9
//! requires. When whole frames cannot fill 85 % of the configured part
//! target (24 fps into 200 ms: four frames are 167 ms, five 208 ms), the
//! advertised part target grows to fit one more frame. Frames with
//! millisecond timestamps whose interval is not a whole millisecond jitter by
//! one, and the part target keeps that much slack.
//!
//! A part ends with the frame that completes it, so that it can be served as
//! soon as that frame is in rather than one frame later, when the next one
//! arrives. Its last frame then lasts the mean frame interval: a prediction.
//! Parts are laid end to end, each starting where the one before ended, so a
//! prediction that is off (timestamps rounded to milliseconds, a dropped
//! frame) lengthens or shortens the next part instead of adding up: the
//! parts of a segment last, together, from where the previous segment ended
//! to where its own last part did, which is the media it holds within that
//! one prediction. The media keep their real times, since every fragment
//! carries its absolute decode time (`tfdt`): a wrong prediction shows only
//! as a last sample that overlaps the next part's first, or leaves a gap
//! before it, by the error, and the next part's media start where they
//! really do.
//!
//! Where the frames do not come as planned:
//!
//! - A segment's last part is short when its keyframe comes before the part
//!   is complete (a GOP that is not a whole number of parts): it ends at that
//!   keyframe, when the keyframe arrives.
//! - A part completes early when its next frame could not fit in the part
//!   target (a dropped frame made its start earlier than its first frame).
//! - A frame that cannot fit in the part it would join (a gap in the input)
//!   ends that part before it; a part that would have to start before a gap
//!   longer than it can hold starts at its first frame instead, and the gap
//!   is then left out of the playlist's durations.

use arcly_engine::Timestamp;

const MS: i64 = 1_000;

/// Where a part lies on the playlist's timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    /// Where the part starts: where the part before it ended, or its first
    /// frame's decode time.
    pub(super) start: Timestamp,
    /// Where it ends: the decode time of the frame after it, or the
    /// predicted end of its last frame.
    pub(super) end: Timestamp,
}

impl Span {
    /// How long the part lasts.
    pub(super) fn duration(self) -> Timestamp {
        Timestamp(self.end.0 - self.start.0)
    }
}

/// What happens before a frame of the driving track goes into a part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Before {
    /// No segment can start here (a video frame before the first keyframe):
    /// the frame is dropped.
    Drop,
    /// The frame opens the stream's first segment.
    Open,
    /// Nothing: the frame goes into the current part, or starts the next one
    /// if the current one completed.
    Continue,
    /// A part ends before the frame, which comes too late to fit in it.
    Part(Span),
    /// The segment ends before the frame (a keyframe), which starts the next
    /// one; its last part ends here too if the frames it had were fewer than
    /// planned.
    Segment(Option<Span>),
}

/// What a frame of the driving track does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cut {
    /// What ends before the frame.
    pub(super) before: Before,
    /// The part the frame completes: it ends with this frame and can be
    /// published at once.
    pub(super) completes: Option<Span>,
    /// Whether that part is likely its segment's last: the next frame is due
    /// where the keyframe interval so far puts the next keyframe, and late
    /// enough to start a segment. A guess, for the preload hint.
    pub(super) ends_segment: bool,
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
    /// Decode time of the open segment's first frame.
    segment_start: Option<Timestamp>,
    /// Where the current part starts.
    part_start: Timestamp,
    /// Frames in the current part; 0 once it completed, until the next
    /// frame starts the next one.
    part_frames: u32,
    /// Where the last part cut ended, and so where the next one starts if
    /// its first frame is not too late for it.
    last_end: Option<Timestamp>,
    /// The decode time of the last frame seen.
    last: Option<Timestamp>,
    /// The intervals between frames, gaps left out: their sum and count.
    intervals: i64,
    interval_count: i64,
    /// Whether the last interval was a gap.
    after_gap: bool,
    /// The decode time of the last keyframe, and the interval between it and
    /// the one before, to guess where the next one comes.
    last_keyframe: Option<Timestamp>,
    keyframe_interval: Option<i64>,
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
            last_end: None,
            last: None,
            intervals: 0,
            interval_count: 0,
            after_gap: false,
            last_keyframe: None,
            keyframe_interval: None,
        }
    }

    /// The mean interval between frames of the driving track so far. An
    /// interval over 1.5 times the mean is a gap (a dropped frame, a stall)
    /// and left out, unless the one before it was long too: then the frame
    /// rate changed.
    pub(super) fn interval(&self) -> Option<i64> {
        (self.interval_count > 0).then(|| (self.intervals / self.interval_count).max(1))
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

    /// Whether [`decide`](Self::decide) would start a segment at this frame.
    pub(super) fn starts_segment(&self, dts: Timestamp, keyframe: bool, force: bool) -> bool {
        keyframe
            && self
                .segment_start
                .is_none_or(|start| force || dts.0 - start.0 >= self.target.0)
    }

    /// Decides for the next frame of the driving track. `keyframe`: a segment
    /// may start here; `force`: one must, if it may (a new configuration,
    /// after which parts start afresh at this frame).
    pub(super) fn decide(&mut self, dts: Timestamp, keyframe: bool, force: bool) -> Cut {
        let previous = self.measure(dts);
        if keyframe {
            if let Some(last) = self.last_keyframe {
                self.keyframe_interval = Some(dts.0 - last.0);
            }
            self.last_keyframe = Some(dts);
        }
        let frames = i64::from(self.plan().frames);
        let before = match self.segment_start {
            None if !keyframe => {
                return Cut {
                    before: Before::Drop,
                    completes: None,
                    ends_segment: false,
                };
            }
            None => Before::Open,
            Some(start) if keyframe && (force || dts.0 - start.0 >= self.target.0) => {
                let ended = self.end_before(dts, previous);
                if force {
                    self.last_end = None;
                }
                Before::Segment(ended)
            }
            Some(_) if self.part_frames > 0 && self.slot(self.part_start, dts) >= frames => {
                Before::Part(self.end_before(dts, previous).expect("frames pending"))
            }
            Some(_) => Before::Continue,
        };
        if matches!(before, Before::Open | Before::Segment(_)) {
            self.segment_start = Some(dts);
        }

        if self.part_frames == 0 {
            self.part_start = match self.last_end {
                Some(end) if self.slot(end, dts) < frames => end,
                _ => dts,
            };
        }
        self.part_frames += 1;
        // Re-read: the first frame with an interval changes the plan.
        let frames = i64::from(self.plan().frames);
        let full =
            i64::from(self.part_frames) >= frames || self.slot(self.part_start, dts) + 1 >= frames;
        let completes = full.then(|| {
            let end = self.predicted_end(dts);
            self.complete(end)
        });
        Cut {
            before,
            completes,
            ends_segment: completes.is_some() && self.segment_due(dts),
        }
    }

    /// Whether the frame after the one at `dts` is likely to start a
    /// segment: a keyframe due then, by the last keyframe interval, and far
    /// enough past the segment's start.
    fn segment_due(&self, dts: Timestamp) -> bool {
        let (Some(interval), Some(keyframe), Some(every), Some(start)) = (
            self.interval(),
            self.last_keyframe,
            self.keyframe_interval,
            self.segment_start,
        ) else {
            return false;
        };
        let next = dts.0 + interval;
        (next - (keyframe.0 + every)).abs() * 2 <= interval && next - start.0 >= self.target.0
    }

    /// Ends the pending part, if any, where its last frame is predicted to
    /// end: the stream ended.
    pub(super) fn finish(&mut self) -> Option<Span> {
        let last = self.last?;
        if self.segment_start.is_none() || self.part_frames == 0 {
            return None;
        }
        let end = self.predicted_end(last);
        Some(self.complete(end))
    }

    /// Takes a frame's decode time into the mean interval; returns the
    /// previous frame's.
    fn measure(&mut self, dts: Timestamp) -> Timestamp {
        let Some(last) = self.last.replace(dts) else {
            return dts;
        };
        let delta = dts.0 - last.0;
        let long = self.interval().is_some_and(|mean| delta * 2 > mean * 3);
        if !long || self.after_gap {
            self.intervals += delta;
            self.interval_count += 1;
        }
        self.after_gap = long;
        last
    }

    /// Which frame of a part starting at `start` a frame at `dts` is, from
    /// 0, going by the mean interval: dropped frames leave their place
    /// empty.
    fn slot(&self, start: Timestamp, dts: Timestamp) -> i64 {
        match self.interval() {
            Some(interval) => (dts.0 - start.0 + interval / 2).div_euclid(interval).max(0),
            None => 0,
        }
    }

    /// Where a frame at `dts` that completes the current part is predicted
    /// to end: one mean interval later.
    fn predicted_end(&self, dts: Timestamp) -> Timestamp {
        let interval = self.interval().unwrap_or(0).max(1);
        self.within_target(dts, Timestamp(dts.0 + interval))
    }

    /// `end`, or where the current part reaches the part target if that is
    /// sooner, but after the frame at `dts`.
    fn within_target(&self, dts: Timestamp, end: Timestamp) -> Timestamp {
        let limit = self.part_start.0 + self.plan().target.0;
        Timestamp(end.0.min(limit).max(dts.0 + 1))
    }

    /// Ends the pending part, if it has frames, before a frame at `dts`: at
    /// `dts`, or where its last frame (at `previous`) is predicted to end if
    /// a gap before `dts` would make it longer than the part target.
    fn end_before(&mut self, dts: Timestamp, previous: Timestamp) -> Option<Span> {
        if self.part_frames == 0 {
            return None;
        }
        let interval = self.interval().unwrap_or(0).max(1);
        let end = match dts.0 - self.part_start.0 <= self.plan().target.0 {
            true => dts,
            false => self.within_target(previous, Timestamp(previous.0 + interval)),
        };
        Some(self.complete(end))
    }

    /// Completes the current part at `end`, which fixes the plan.
    fn complete(&mut self, end: Timestamp) -> Span {
        if self.plan.is_none() {
            self.plan = Some(self.plan());
        }
        let span = Span {
            start: self.part_start,
            end: Timestamp(end.0.max(self.part_start.0 + 1)),
        };
        self.part_frames = 0;
        self.last_end = Some(span.end);
        span
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

    /// What a run of frames was cut into.
    #[derive(Debug)]
    struct Run {
        /// The parts of each segment, the open one last.
        segments: Vec<Vec<Span>>,
        /// The first decode time of each segment.
        starts: Vec<Timestamp>,
        /// Per part, in order: whether it completed with its own last frame
        /// (rather than when the frame after it came).
        on_time: Vec<bool>,
        /// The decode times of the frames that completed a part expected to
        /// end its segment.
        ends_segment: Vec<Timestamp>,
        plan: PartPlan,
    }

    impl Run {
        /// The durations of the closed segments: the sums of their parts.
        fn durations(&self) -> Vec<i64> {
            let closed = &self.segments[..self.segments.len() - 1];
            closed
                .iter()
                .map(|parts| parts.iter().map(|p| p.duration().0).sum())
                .collect()
        }

        fn parts(&self) -> impl Iterator<Item = Span> + '_ {
            self.segments.iter().flatten().copied()
        }
    }

    /// Cuts frames at these decode times (microseconds), each a keyframe
    /// or not.
    fn cut(frames: impl IntoIterator<Item = (i64, bool)>) -> Run {
        let mut cutter = Cutter::new(Timestamp(2_000_000), Timestamp(200_000));
        let mut run = Run {
            segments: Vec::new(),
            starts: Vec::new(),
            on_time: Vec::new(),
            ends_segment: Vec::new(),
            plan: cutter.plan(),
        };
        for (dts, keyframe) in frames {
            let decision = cutter.decide(Timestamp(dts), keyframe, false);
            match decision.before {
                Before::Drop => continue,
                Before::Continue => {}
                Before::Part(span) => {
                    run.segments.last_mut().unwrap().push(span);
                    run.on_time.push(false);
                }
                Before::Open | Before::Segment(_) => {
                    if let Before::Segment(Some(span)) = decision.before {
                        run.segments.last_mut().unwrap().push(span);
                        run.on_time.push(false);
                    }
                    run.segments.push(Vec::new());
                    run.starts.push(Timestamp(dts));
                }
            }
            if let Some(span) = decision.completes {
                run.segments.last_mut().unwrap().push(span);
                run.on_time.push(true);
            }
            if decision.ends_segment {
                run.ends_segment.push(Timestamp(dts));
            }
        }
        run.plan = cutter.plan();
        run
    }

    /// `count` frames at `fps` with millisecond timestamps, a keyframe every
    /// `gop`.
    fn frames(fps: f64, gop: u32, count: u32) -> impl Iterator<Item = (i64, bool)> {
        (0..count).map(move |i| {
            let ms = (f64::from(i) * 1000.0 / fps).round() as i64;
            (ms * MS, i % gop == 0)
        })
    }

    /// Every part at most the target, all but each closed segment's last at
    /// least 85 % of it, and every part starting where the one before ended.
    fn check(run: &Run) {
        let target = run.plan.target.0;
        let closed = run.segments.len() - 1;
        for (s, parts) in run.segments.iter().enumerate() {
            assert!(!parts.is_empty(), "{run:?}");
            for (i, part) in parts.iter().enumerate() {
                let duration = part.duration().0;
                assert!(duration <= target, "{duration} > {target}: {parts:?}");
                if s < closed && i + 1 < parts.len() {
                    assert!(duration * 100 >= target * 85, "{duration}: {parts:?}");
                }
            }
        }
        let parts: Vec<Span> = run.parts().collect();
        for pair in parts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "{pair:?}");
        }
    }

    #[test]
    fn the_fifth_frame_of_a_part_completes_it() {
        let mut cutter = Cutter::new(Timestamp(2_000_000), Timestamp(200_000));
        let first = cutter.decide(Timestamp(0), true, false);
        assert_eq!(first.before, Before::Open);
        for ms in [40, 80, 120] {
            let cut = cutter.decide(Timestamp::from_millis(ms), false, false);
            assert_eq!(
                cut,
                Cut {
                    before: Before::Continue,
                    completes: None,
                    ends_segment: false,
                }
            );
        }
        // Ready with its last frame, which lasts the 40 ms measured.
        let fifth = cutter.decide(Timestamp::from_millis(160), false, false);
        let span = Span {
            start: Timestamp(0),
            end: Timestamp(200_000),
        };
        assert_eq!(fifth.completes, Some(span));
        let sixth = cutter.decide(Timestamp::from_millis(200), false, false);
        assert_eq!(
            sixth,
            Cut {
                before: Before::Continue,
                completes: None,
                ends_segment: false,
            }
        );
    }

    #[test]
    fn twenty_five_fps_makes_five_frame_parts() {
        let run = cut(frames(25.0, 50, 500));
        assert_eq!(
            run.plan,
            PartPlan {
                frames: 5,
                target: Timestamp(200_000)
            }
        );
        let durations: Vec<i64> = run.segments[0].iter().map(|p| p.duration().0).collect();
        assert_eq!(durations, [200_000; 10]);
        assert_eq!(run.durations(), [2_000_000; 9]);
        assert!(run.on_time.iter().all(|&on_time| on_time));
        check(&run);
        // From the second keyframe on, the keyframe interval says where
        // segments end.
        let expected: Vec<Timestamp> = (2..=10)
            .map(|s| Timestamp(s * 2_000_000 - 40_000))
            .collect();
        assert_eq!(run.ends_segment, expected);
    }

    #[test]
    fn a_short_last_part_ends_at_the_keyframe() {
        // 53 frames a GOP: ten parts of five and one of three, which ends
        // when the keyframe comes.
        let run = cut(frames(25.0, 53, 530));
        let first: Vec<i64> = run.segments[0].iter().map(|p| p.duration().0).collect();
        assert_eq!(first[..10], [200_000; 10]);
        assert_eq!(first[10..], [120_000]);
        assert_eq!(
            run.on_time[..11],
            [true; 10].into_iter().chain([false]).collect::<Vec<_>>()[..]
        );
        assert_eq!(run.durations(), [2_120_000; 9]);
        // The keyframe comes before the part is complete: no part is the
        // last of its segment when it completes.
        assert!(run.ends_segment.is_empty());
        let gaps: Vec<i64> = run.starts.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert_eq!(run.durations(), gaps);
        check(&run);
    }

    #[test]
    fn thirty_fps_keeps_a_millisecond_of_slack() {
        let run = cut(frames(30.0, 60, 600));
        assert_eq!(run.plan.frames, 6);
        // Fixed with the first part, after five intervals of 33.4 ms on
        // average (the rounding's), plus the slack.
        assert_eq!(run.plan.target, Timestamp(202_000));
        check(&run);
        // Each segment's last frame is predicted to last a third of a
        // millisecond too long; the next segment's first part makes up for
        // it, so the error stays that and never adds up.
        let durations = run.durations();
        assert!(
            durations.iter().all(|&d| d.abs_diff(2_000_000) < 1_000),
            "{durations:?}"
        );
        let total: i64 = durations.iter().sum();
        assert!(total.abs_diff(2_000_000 * durations.len() as i64) < 1_000);
    }

    #[test]
    fn twenty_four_fps_grows_the_part_target() {
        let run = cut(frames(24.0, 48, 480));
        assert_eq!(run.plan.frames, 5);
        // Four intervals of 41.75 ms on average, plus the slack.
        assert_eq!(run.plan.target, Timestamp(210_000));
        check(&run);
        let durations = run.durations();
        assert!(
            durations.iter().all(|&d| d.abs_diff(2_000_000) <= 1_000),
            "{durations:?}"
        );
    }

    #[test]
    fn aac_frames_make_audio_only_parts() {
        // 1024 samples at 44.1 kHz, every frame a possible segment start.
        let run = cut(frames(44_100.0 / 1024.0, 1, 500));
        assert_eq!(run.plan.frames, 8);
        assert_eq!(run.plan.target, Timestamp(200_000));
        check(&run);
        // Cut on the first frame at or after 2 s, and the sum of the parts
        // is the span from keyframe to keyframe.
        let gaps: Vec<i64> = run.starts.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(gaps.iter().all(|&d| (2_000_000..2_024_000).contains(&d)));
        for (duration, gap) in run.durations().into_iter().zip(gaps) {
            assert!(duration.abs_diff(gap) <= 1_000, "{duration} vs {gap}");
        }
    }

    #[test]
    fn a_dropped_frame_is_made_up_by_the_next_part() {
        // 25 fps without the frames at 280 ms (inside a part) and 400 ms (a
        // part's first).
        let run = cut(frames(25.0, 50, 200).filter(|&(t, _)| t != 280_000 && t != 400_000));
        check(&run);
        let first: Vec<i64> = run.segments[0].iter().map(|p| p.duration().0).collect();
        assert_eq!(first, [200_000; 10]);
        assert_eq!(run.durations(), [2_000_000; 3]);
        assert!(run.on_time.iter().all(|&on_time| on_time));
    }

    #[test]
    fn waits_for_a_keyframe_and_cuts_early_on_gaps() {
        let mut cutter = Cutter::new(Timestamp(2_000_000), Timestamp(200_000));
        assert_eq!(
            cutter.decide(Timestamp(0), false, false).before,
            Before::Drop
        );
        assert_eq!(
            cutter.decide(Timestamp(40_000), true, false).before,
            Before::Open
        );
        assert_eq!(cutter.segment_start(), Some(Timestamp(40_000)));
        for ms in [80, 120, 160] {
            assert_eq!(
                cutter
                    .decide(Timestamp::from_millis(ms), false, false)
                    .completes,
                None
            );
        }
        let full = cutter.decide(Timestamp(200_000), false, false).completes;
        assert_eq!(full.map(|s| (s.start.0, s.end.0)), Some((40_000, 240_000)));
        assert_eq!(
            cutter.decide(Timestamp(240_000), false, false).before,
            Before::Continue
        );
        // A frame 300 ms late: the part before it ends where its frame
        // did, and the gap stays out of both parts.
        let late = cutter.decide(Timestamp(580_000), false, false);
        let ended = Span {
            start: Timestamp(240_000),
            end: Timestamp(280_000),
        };
        assert_eq!(late.before, Before::Part(ended));
        assert_eq!(late.completes, None);
        // A forced segment on the next keyframe; the new part starts at it.
        let forced = cutter.decide(Timestamp(620_000), true, true);
        let ended = Span {
            start: Timestamp(580_000),
            end: Timestamp(620_000),
        };
        assert_eq!(forced.before, Before::Segment(Some(ended)));
        assert_eq!(cutter.segment_start(), Some(Timestamp(620_000)));
        assert_eq!(cutter.finish().map(|s| s.start), Some(Timestamp(620_000)));
        assert_eq!(cutter.finish(), None);
    }
}
