//! One continuous timeline for a recording, whatever its publishers sent.
//!
//! A recording starts at 0 and never goes back: when a publisher reconnects
//! within the grace period, its encoder usually starts its clock at 0 again;
//! a stream's timestamps may also leap forward after an outage. Either
//! would break the fMP4 `tfdt` order (and play as a long gap), so the
//! recording shifts the new timestamps to continue right after the newest
//! media it holds, and reports the break so the next segment is marked as
//! a discontinuity.

use arcly_engine::{MediaFrame, Timestamp, TrackKind};

/// A jump forward in one track longer than this is a break, not a pause.
pub(super) const MAX_JUMP: Timestamp = Timestamp(5_000_000);
/// The longest gap between two frames of a track taken as a frame's
/// duration; longer ones are pauses.
const MAX_DURATION: Timestamp = Timestamp(1_000_000);

/// Shifts a stream's timestamps onto the recording's timeline.
#[derive(Debug, Default)]
pub(super) struct Rebase {
    /// Added to every incoming `dts` and `pts`; `None` before the start.
    offset: Option<i64>,
    /// Per track (video, audio): the last shifted `dts` and the best guess
    /// of that frame's duration (the last gap between frames, pauses over
    /// [`MAX_DURATION`] left out).
    last: [Option<(Timestamp, Timestamp)>; 2],
    /// The latest presentation end: a frame's shifted `pts` plus its
    /// guessed duration, the newest of all.
    presented: Timestamp,
}

impl Rebase {
    /// Whether the recording has started.
    pub(super) fn is_started(&self) -> bool {
        self.offset.is_some()
    }

    /// Starts the timeline: `first` (the frame a recording opens with)
    /// plays at 0.
    pub(super) fn start(&mut self, first: Timestamp) {
        self.offset = Some(-first.0);
    }

    /// `frame` on the recording's timeline, and whether its timestamps broke
    /// from what came before (went back, or leapt ahead by over
    /// [`MAX_JUMP`]); a broken frame is placed right after the end of the
    /// newest frame. Call only once started, with media frames (not
    /// configs or script data).
    pub(super) fn apply(&mut self, frame: &MediaFrame) -> (MediaFrame, bool) {
        let track = slot(frame.track());
        let mut offset = self.offset.unwrap_or(-frame.dts.0);
        let mut dts = frame.dts.0.saturating_add(offset);
        let broke = match self.last[track] {
            Some((last, _)) => dts < last.0 || dts > last.0.saturating_add(MAX_JUMP.0),
            None => false,
        };
        if broke {
            let end = self.end().0;
            offset = end.saturating_sub(frame.dts.0);
            dts = end;
            // The other track continues from the new offset, unchecked
            // against the old publisher's times.
            self.last = [None, None];
        }
        self.offset = Some(offset);
        let duration = match self.last[track] {
            Some((last, previous)) => {
                let gap = dts - last.0;
                match gap > 0 && gap <= MAX_DURATION.0 {
                    true => Timestamp(gap),
                    false => previous,
                }
            }
            None => Timestamp::ZERO,
        };
        self.last[track] = Some((Timestamp(dts), duration));
        let pts = frame.pts.0.saturating_add(offset);
        self.presented = self
            .presented
            .max(Timestamp(pts.saturating_add(duration.0)));
        let shifted = MediaFrame {
            dts: Timestamp(dts),
            pts: Timestamp(pts),
            ..frame.clone()
        };
        (shifted, broke)
    }

    /// The end of the newest frame of `track`: its `dts` plus its guessed
    /// duration (a frame lasts about as long as the one before).
    pub(super) fn track_end(&self, track: TrackKind) -> Option<Timestamp> {
        self.last[slot(track)].map(|(dts, gap)| Timestamp(dts.0 + gap.0))
    }

    /// Where frames after a break start: after the end of every frame
    /// decoded and presented so far, so neither decode nor presentation
    /// times repeat (with B-frames the last frames before a drop may be
    /// presented after the newest one decoded).
    fn end(&self) -> Timestamp {
        let video = self.track_end(TrackKind::Video);
        let audio = self.track_end(TrackKind::Audio);
        let decoded = video.max(audio).unwrap_or(Timestamp::ZERO);
        decoded.max(self.presented)
    }
}

fn slot(track: TrackKind) -> usize {
    match track {
        TrackKind::Video => 0,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use arcly_engine::{Codec, FrameFlags};
    use bytes::Bytes;

    use super::*;

    fn frame(codec: Codec, ms: i64) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms + 40),
            flags: FrameFlags::NONE,
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn starts_at_zero_and_keeps_composition_offsets() {
        let mut rebase = Rebase::default();
        rebase.start(Timestamp::from_millis(5_000));
        let (f, broke) = rebase.apply(&frame(Codec::H264, 5_000));
        assert!(!broke);
        assert_eq!(
            (f.dts, f.pts),
            (Timestamp::ZERO, Timestamp::from_millis(40))
        );
        let (f, _) = rebase.apply(&frame(Codec::H264, 5_033));
        assert_eq!(f.dts, Timestamp::from_millis(33));
    }

    #[test]
    fn a_reconnect_from_zero_continues_after_the_newest_frame() {
        let mut rebase = Rebase::default();
        rebase.start(Timestamp::ZERO);
        for ms in (0..=1_000).step_by(40) {
            rebase.apply(&frame(Codec::H264, ms));
        }
        rebase.apply(&frame(Codec::Aac, 990));
        rebase.apply(&frame(Codec::Aac, 1_011));
        // The new publisher starts its clock at 0, audio first.
        // It goes on after the last presentation: video at 1,000 is
        // presented at 1,040 and lasts 40 ms.
        let (a, broke) = rebase.apply(&frame(Codec::Aac, 0));
        assert!(broke);
        assert_eq!(a.dts, Timestamp::from_millis(1_080));
        let (v, broke) = rebase.apply(&frame(Codec::H264, 0));
        assert!(!broke);
        assert_eq!(v.dts, Timestamp::from_millis(1_080));
        let (v, _) = rebase.apply(&frame(Codec::H264, 40));
        assert_eq!(v.dts, Timestamp::from_millis(1_120));
    }

    #[test]
    fn a_long_leap_forward_is_a_break_but_a_short_gap_is_kept() {
        let mut rebase = Rebase::default();
        rebase.start(Timestamp::ZERO);
        rebase.apply(&frame(Codec::Aac, 0));
        rebase.apply(&frame(Codec::Aac, 20));
        let (f, broke) = rebase.apply(&frame(Codec::Aac, 2_020));
        assert!(!broke);
        assert_eq!(f.dts, Timestamp::from_millis(2_020));
        let (f, broke) = rebase.apply(&frame(Codec::Aac, 60_000));
        assert!(broke);
        assert_eq!(f.dts, Timestamp::from_millis(2_060 + 20));
    }
}
