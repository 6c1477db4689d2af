//! The sliding window of segments and parts a live HLS stream keeps in
//! memory.
//!
//! A [`Timeline`] holds the complete segments, oldest first, and at most one
//! open segment whose finished parts are already published. The packager
//! drives it (`open_segment`, `push_part`, `expect_segment_end`,
//! `close_segment`, `end`); the playlist renderers, the blocking-request
//! check and the HTTP layer read it.

use std::collections::VecDeque;

use arcly_engine::Timestamp;
use bytes::{Bytes, BytesMut};

use super::{HlsError, HlsSettings};

/// A Partial Segment: one `moof`+`mdat` of the fMP4 rendition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Its index within the segment, from 0.
    pub index: u32,
    /// Media time it covers.
    pub duration: Timestamp,
    /// Whether it starts with a keyframe (`INDEPENDENT=YES`).
    pub independent: bool,
    /// The fragment. Once the segment closes, a slice of
    /// [`Segment::fmp4`].
    pub bytes: Bytes,
    /// The driver's `now` when the part became ready, to measure how long
    /// media waits before a player can fetch it.
    pub ready_at: Timestamp,
}

/// A Media Segment, complete or still open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Its Media Sequence Number.
    pub msn: u64,
    /// Decode time of its first frame.
    pub first_dts: Timestamp,
    /// Media time it covers; while open, the sum of its parts.
    pub duration: Timestamp,
    /// Its parts, in order.
    pub parts: Vec<Part>,
    /// The MPEG-TS rendition (`seg{msn}.ts`), once complete.
    pub ts: Option<Bytes>,
    /// The fMP4 rendition (`seg{msn}.m4s`): the concatenation of the parts,
    /// once complete.
    pub fmp4: Option<Bytes>,
    /// Whether the segment is closed.
    pub complete: bool,
    /// Whether an `EXT-X-DISCONTINUITY` precedes it.
    pub discontinuity: bool,
    /// Its Discontinuity Sequence Number.
    pub discontinuity_sequence: u64,
    /// The version of the init segment it needs (see
    /// [`init_uri`](super::init_uri)).
    pub init: u32,
    /// Wall-clock time of its first frame, Unix microseconds, for
    /// `EXT-X-PROGRAM-DATE-TIME`.
    pub program_date_time: Option<Timestamp>,
}

/// How a new segment starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentStart {
    /// Decode time of its first frame.
    pub first_dts: Timestamp,
    /// Whether it follows a discontinuity (timestamps or encoding change).
    pub discontinuity: bool,
    /// Whether it needs a new init segment (a codec configuration change);
    /// implies a discontinuity.
    pub new_init: bool,
    /// Wall-clock time of its first frame, Unix microseconds.
    pub program_date_time: Option<Timestamp>,
}

/// Which rendition a figure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Container {
    /// MPEG-TS segments.
    Ts,
    /// fMP4 segments (the init segment not counted).
    Fmp4,
}

/// Bit rates for `EXT-X-STREAM-INF`, in bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    /// The peak segment bit rate: the highest rate of any run of consecutive
    /// segments lasting 0.5 to 1.5 target durations (rfc8216bis §4.4.6.2).
    pub peak: u64,
    /// Total bits over total duration.
    pub average: u64,
}

/// The segments and parts of one live stream.
#[derive(Clone, Debug)]
pub struct Timeline {
    settings: HlsSettings,
    segments: VecDeque<Segment>,
    open: Option<Segment>,
    next_msn: u64,
    part_target: Timestamp,
    longest_segment: Timestamp,
    discontinuity_sequence: u64,
    init: u32,
    any_part: bool,
    /// Whether the open segment is expected to end before another part.
    segment_ending: bool,
    ended: bool,
}

impl Timeline {
    /// An empty timeline.
    pub fn new(settings: HlsSettings) -> Result<Timeline, HlsError> {
        settings.validate()?;
        Ok(Timeline {
            part_target: settings.part_target,
            settings,
            segments: VecDeque::new(),
            open: None,
            next_msn: 0,
            longest_segment: Timestamp::ZERO,
            discontinuity_sequence: 0,
            init: 0,
            any_part: false,
            segment_ending: false,
            ended: false,
        })
    }

    // Getters.

    /// The settings it was made with.
    pub fn settings(&self) -> &HlsSettings {
        &self.settings
    }

    /// The Part Target Duration.
    pub fn part_target(&self) -> Timestamp {
        self.part_target
    }

    /// `EXT-X-TARGETDURATION` in seconds: the setting rounded up, or the
    /// longest segment so far rounded to the nearest second (RFC 8216
    /// §4.3.3.1), whichever is larger. It never decreases.
    pub fn target_duration(&self) -> u64 {
        let setting = (self.settings.target_duration.0.max(0) as u64).div_ceil(1_000_000);
        let longest = (self.longest_segment.0.max(0) as u64 + 500_000) / 1_000_000;
        setting.max(longest).max(1)
    }

    /// Whether the publisher left (`EXT-X-ENDLIST`).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The complete segments kept, oldest first.
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &Segment> + ExactSizeIterator {
        self.segments.iter()
    }

    /// The open segment, whose finished parts are published.
    pub fn open(&self) -> Option<&Segment> {
        self.open.as_ref()
    }

    /// The segment with this Media Sequence Number, complete or open.
    pub fn segment(&self, msn: u64) -> Option<&Segment> {
        if let Some(open) = &self.open
            && open.msn == msn
        {
            return Some(open);
        }
        let first = self.segments.front()?.msn;
        let index = usize::try_from(msn.checked_sub(first)?).ok()?;
        self.segments.get(index)
    }

    /// A part of a segment, complete or open.
    pub fn part(&self, msn: u64, index: u32) -> Option<&Part> {
        self.segment(msn)?.parts.get(index as usize)
    }

    /// The Media Sequence Number of the newest complete segment.
    pub fn last_complete_msn(&self) -> Option<u64> {
        self.segments.back().map(|s| s.msn)
    }

    /// The newest part: its segment's Media Sequence Number and its index.
    pub fn last_part(&self) -> Option<(u64, u32)> {
        let newest = match &self.open {
            Some(open) if !open.parts.is_empty() => open,
            _ => self.segments.back()?,
        };
        let last = newest.parts.last()?;
        Some((newest.msn, last.index))
    }

    /// Where the next part will go if the open segment takes another.
    pub fn next_part(&self) -> (u64, u32) {
        match &self.open {
            Some(open) => (open.msn, open.parts.len() as u32),
            None => (self.next_msn, 0),
        }
    }

    /// The part `EXT-X-PRELOAD-HINT` names: the [`next_part`](Self::next_part),
    /// or the next segment's first when the open segment is expected to end
    /// before another part (see
    /// [`expect_segment_end`](Self::expect_segment_end)).
    pub fn preload_hint(&self) -> (u64, u32) {
        match &self.open {
            Some(open) if self.segment_ending => (open.msn + 1, 0),
            _ => self.next_part(),
        }
    }

    /// The Media Sequence Number the next segment opened will get.
    pub fn next_msn(&self) -> u64 {
        self.next_msn
    }

    /// The init segment version the next segment will need.
    pub fn init_version(&self) -> u32 {
        self.init
    }

    /// Bit rates of the complete segments kept, or `None` before the first
    /// one (or when none holds the container).
    pub fn bandwidth(&self, container: Container) -> Option<Bandwidth> {
        let sized: Vec<(usize, i64)> = self
            .segments
            .iter()
            .filter_map(|s| {
                let bytes = match container {
                    Container::Ts => s.ts.as_ref(),
                    Container::Fmp4 => s.fmp4.as_ref(),
                }?;
                Some((bytes.len(), s.duration.0))
            })
            .collect();
        let total_bytes: usize = sized.iter().map(|(b, _)| b).sum();
        let total_us: i64 = sized.iter().map(|(_, d)| d).sum();
        if total_us <= 0 {
            return None;
        }
        let rate = |bytes: usize, us: i64| (bytes as u128 * 8_000_000 / us as u128) as u64;
        let target = self.target_duration() as i64 * 1_000_000;
        let mut peak = 0;
        for start in 0..sized.len() {
            let (mut bytes, mut us) = (0, 0);
            for &(b, d) in &sized[start..] {
                bytes += b;
                us += d;
                if us * 2 > target * 3 {
                    break;
                }
                if us * 2 >= target {
                    peak = peak.max(rate(bytes, us));
                }
            }
        }
        let average = rate(total_bytes, total_us);
        // A stream of segments all shorter than half a target duration has no
        // run in range; the average is the best figure left.
        Some(Bandwidth {
            peak: peak.max(average),
            average,
        })
    }

    // Commands.

    /// Changes the Part Target Duration; only before the first part is
    /// published, since `PART-TARGET` must not change.
    pub fn set_part_target(&mut self, part_target: Timestamp) -> Result<(), HlsError> {
        if self.any_part {
            return Err(HlsError::PartTargetFixed);
        }
        if part_target.0 < 1_000 {
            return Err(HlsError::InvalidSettings(
                "part target is under a millisecond",
            ));
        }
        self.part_target = part_target;
        Ok(())
    }

    /// Opens the next segment and returns its Media Sequence Number.
    pub fn open_segment(&mut self, start: SegmentStart) -> Result<u64, HlsError> {
        if self.ended {
            return Err(HlsError::Ended);
        }
        if let Some(open) = &self.open {
            return Err(HlsError::SegmentStillOpen { msn: open.msn });
        }
        let first = self.next_msn == 0;
        let discontinuity = !first && (start.discontinuity || start.new_init);
        if discontinuity {
            self.discontinuity_sequence += 1;
        }
        if start.new_init && !first {
            self.init += 1;
        }
        let msn = self.next_msn;
        self.next_msn += 1;
        self.segment_ending = false;
        self.open = Some(Segment {
            msn,
            first_dts: start.first_dts,
            duration: Timestamp::ZERO,
            parts: Vec::new(),
            ts: None,
            fmp4: None,
            complete: false,
            discontinuity,
            discontinuity_sequence: self.discontinuity_sequence,
            init: self.init,
            program_date_time: start.program_date_time,
        });
        Ok(msn)
    }

    /// Publishes the next part of the open segment; returns its segment and
    /// index.
    pub fn push_part(
        &mut self,
        duration: Timestamp,
        independent: bool,
        bytes: Bytes,
        ready_at: Timestamp,
    ) -> Result<(u64, u32), HlsError> {
        let open = self.open.as_mut().ok_or(HlsError::NoOpenSegment)?;
        let index = open.parts.len() as u32;
        open.parts.push(Part {
            index,
            duration,
            independent,
            bytes,
            ready_at,
        });
        open.duration = Timestamp(open.duration.0 + duration.0);
        self.any_part = true;
        self.segment_ending = false;
        Ok((open.msn, index))
    }

    /// Says the open segment is expected to end before another part (its
    /// last part came where a keyframe is due), so that the preload hint
    /// names the next segment's first part rather than one that would never
    /// exist. A guess: if another part comes after all, it is published as
    /// usual and the hint moves on. Ignored without an open segment.
    pub fn expect_segment_end(&mut self) {
        self.segment_ending = self.open.as_ref().is_some_and(|o| !o.parts.is_empty());
    }

    /// Closes the open segment with its media duration and its MPEG-TS
    /// rendition, and drops the segments beyond what is kept.
    ///
    /// The fMP4 rendition is the parts laid end to end; the parts become
    /// slices of it, so the segment is held in memory once.
    pub fn close_segment(
        &mut self,
        duration: Timestamp,
        ts: Option<Bytes>,
    ) -> Result<u64, HlsError> {
        let mut segment = self.open.take().ok_or(HlsError::NoOpenSegment)?;
        if segment.parts.is_empty() {
            let msn = segment.msn;
            self.open = Some(segment);
            return Err(HlsError::EmptySegment { msn });
        }
        let len = segment.parts.iter().map(|p| p.bytes.len()).sum();
        let mut whole = BytesMut::with_capacity(len);
        for part in &segment.parts {
            whole.extend_from_slice(&part.bytes);
        }
        let whole = whole.freeze();
        let mut offset = 0;
        for part in &mut segment.parts {
            let end = offset + part.bytes.len();
            part.bytes = whole.slice(offset..end);
            offset = end;
        }
        segment.fmp4 = Some(whole);
        segment.ts = ts;
        segment.duration = duration;
        segment.complete = true;
        self.longest_segment = self.longest_segment.max(duration);
        let msn = segment.msn;
        self.segments.push_back(segment);
        while self.segments.len() > self.settings.kept_segments() {
            self.segments.pop_front();
        }
        Ok(msn)
    }

    /// Marks the stream ended (`EXT-X-ENDLIST`). An open segment without
    /// parts is dropped; one with published parts must be closed first.
    pub fn end(&mut self) -> Result<(), HlsError> {
        if let Some(open) = &self.open {
            if !open.parts.is_empty() {
                return Err(HlsError::SegmentStillOpen { msn: open.msn });
            }
            self.open = None;
            self.next_msn -= 1;
        }
        self.ended = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(first_dts: i64) -> SegmentStart {
        SegmentStart {
            first_dts: Timestamp(first_dts),
            ..SegmentStart::default()
        }
    }

    /// Adds a complete 2 s segment of ten 200 ms parts.
    fn add_segment(timeline: &mut Timeline) -> u64 {
        timeline
            .open_segment(start(timeline.next_msn() as i64 * 2_000_000))
            .unwrap();
        for i in 0..10u8 {
            timeline
                .push_part(
                    Timestamp(200_000),
                    i == 0,
                    Bytes::from(vec![i; 100]),
                    Timestamp(0),
                )
                .unwrap();
        }
        timeline
            .close_segment(Timestamp(2_000_000), Some(Bytes::from(vec![0; 1_000])))
            .unwrap()
    }

    #[test]
    fn open_segment_exposes_its_parts() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        assert_eq!(timeline.next_part(), (0, 0));
        assert_eq!(timeline.last_part(), None);
        timeline.open_segment(start(0)).unwrap();
        let (msn, index) = timeline
            .push_part(
                Timestamp(200_000),
                true,
                Bytes::from_static(b"a"),
                Timestamp(7),
            )
            .unwrap();
        assert_eq!((msn, index), (0, 0));
        assert_eq!(timeline.last_part(), Some((0, 0)));
        assert_eq!(timeline.next_part(), (0, 1));
        assert_eq!(timeline.part(0, 0).unwrap().ready_at, Timestamp(7));
        assert_eq!(timeline.last_complete_msn(), None);
        assert_eq!(timeline.open().unwrap().duration, Timestamp(200_000));
        assert_eq!(timeline.preload_hint(), (0, 1));
    }

    #[test]
    fn hint_moves_to_the_next_segment_when_the_open_one_is_ending() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        timeline.expect_segment_end();
        assert_eq!(timeline.preload_hint(), (0, 0));
        timeline.open_segment(start(0)).unwrap();
        let part = |timeline: &mut Timeline| {
            timeline
                .push_part(Timestamp(200_000), false, Bytes::new(), Timestamp(0))
                .unwrap()
        };
        part(&mut timeline);
        timeline.expect_segment_end();
        assert_eq!(timeline.preload_hint(), (1, 0));
        assert_eq!(timeline.next_part(), (0, 1));
        // Wrong after all: another part, and the hint follows it.
        part(&mut timeline);
        assert_eq!(timeline.preload_hint(), (0, 2));
        timeline.expect_segment_end();
        timeline.close_segment(Timestamp(400_000), None).unwrap();
        assert_eq!(timeline.preload_hint(), (1, 0));
        timeline.open_segment(start(400_000)).unwrap();
        assert_eq!(timeline.preload_hint(), (1, 0));
    }

    #[test]
    fn closing_concatenates_the_parts() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        add_segment(&mut timeline);
        let segment = timeline.segment(0).unwrap();
        assert!(segment.complete);
        let whole = segment.fmp4.as_ref().unwrap();
        assert_eq!(whole.len(), 1_000);
        assert_eq!(&whole[100..200], &[1; 100][..]);
        // The parts now point into the segment.
        assert_eq!(segment.parts[3].bytes.as_ptr(), whole[300..].as_ptr());
        assert_eq!(timeline.next_part(), (1, 0));
        assert_eq!(timeline.last_part(), Some((0, 9)));
    }

    #[test]
    fn evicts_beyond_what_is_kept() {
        let settings = HlsSettings {
            delta_updates: false,
            retain: Some(0),
            ..HlsSettings::default()
        };
        let mut timeline = Timeline::new(settings).unwrap();
        for _ in 0..10 {
            add_segment(&mut timeline);
        }
        let msns: Vec<u64> = timeline.segments().map(|s| s.msn).collect();
        assert_eq!(msns, [4, 5, 6, 7, 8, 9]);
        assert!(timeline.segment(3).is_none());
        assert!(timeline.part(4, 9).is_some());
        assert!(timeline.part(4, 10).is_none());
        assert!(timeline.segment(10).is_none());
    }

    #[test]
    fn misuse_is_refused() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        assert_eq!(
            timeline.push_part(Timestamp(1), true, Bytes::new(), Timestamp(0)),
            Err(HlsError::NoOpenSegment)
        );
        timeline.open_segment(start(0)).unwrap();
        assert_eq!(
            timeline.open_segment(start(0)),
            Err(HlsError::SegmentStillOpen { msn: 0 })
        );
        assert_eq!(
            timeline.close_segment(Timestamp(1), None),
            Err(HlsError::EmptySegment { msn: 0 })
        );
        timeline
            .push_part(Timestamp(1_000), true, Bytes::new(), Timestamp(0))
            .unwrap();
        assert_eq!(timeline.end(), Err(HlsError::SegmentStillOpen { msn: 0 }));
        assert_eq!(
            timeline.set_part_target(Timestamp(100_000)),
            Err(HlsError::PartTargetFixed)
        );
    }

    #[test]
    fn ending_drops_an_empty_open_segment() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        add_segment(&mut timeline);
        timeline.open_segment(start(2_000_000)).unwrap();
        timeline.end().unwrap();
        assert!(timeline.is_ended());
        assert!(timeline.open().is_none());
        assert_eq!(timeline.next_msn(), 1);
        assert_eq!(timeline.open_segment(start(0)), Err(HlsError::Ended));
    }

    #[test]
    fn discontinuities_count_and_bump_the_init() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        add_segment(&mut timeline);
        timeline
            .open_segment(SegmentStart {
                new_init: true,
                ..start(0)
            })
            .unwrap();
        timeline
            .push_part(Timestamp(1_000), true, Bytes::new(), Timestamp(0))
            .unwrap();
        timeline.close_segment(Timestamp(1_000), None).unwrap();
        add_segment(&mut timeline);
        let seen: Vec<_> = timeline
            .segments()
            .map(|s| (s.discontinuity, s.discontinuity_sequence, s.init))
            .collect();
        assert_eq!(seen, [(false, 0, 0), (true, 1, 1), (false, 1, 1)]);
    }

    #[test]
    fn target_duration_grows_with_long_segments() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        assert_eq!(timeline.target_duration(), 2);
        timeline.open_segment(start(0)).unwrap();
        timeline
            .push_part(Timestamp(200_000), true, Bytes::new(), Timestamp(0))
            .unwrap();
        // 2.4 s rounds to 2; 2.5 s to 3.
        timeline.close_segment(Timestamp(2_400_000), None).unwrap();
        assert_eq!(timeline.target_duration(), 2);
        timeline.open_segment(start(0)).unwrap();
        timeline
            .push_part(Timestamp(200_000), true, Bytes::new(), Timestamp(0))
            .unwrap();
        timeline.close_segment(Timestamp(2_500_000), None).unwrap();
        assert_eq!(timeline.target_duration(), 3);
    }

    #[test]
    fn bandwidth_is_peak_and_average() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        assert_eq!(timeline.bandwidth(Container::Ts), None);
        add_segment(&mut timeline);
        add_segment(&mut timeline);
        // 1,000 bytes per 2 s segment.
        let expected = Bandwidth {
            peak: 4_000,
            average: 4_000,
        };
        assert_eq!(timeline.bandwidth(Container::Ts), Some(expected));
        assert_eq!(timeline.bandwidth(Container::Fmp4), Some(expected));
    }
}
