//! What a player measures of the frames it receives — join time, delivery
//! latency, gaps per track, frames and bytes — whatever protocol brought
//! them: RTMP and HTTP-FLV players both hand every frame to one [`Watch`].

use std::time::Instant;

use arcly_engine::{MediaFrame, TrackKind};

use crate::player::{PlayerPlan, PlayerRecord};
use crate::source::stamp_in;
use crate::tally::Tally;

/// What a player measures of one frame. RTMP hands over whole frames;
/// HTTP-FLV only the head of each tag's body, so the payload may be cut
/// short (never before the stamp of a frame that carries one).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReceivedFrame<'a> {
    pub(crate) track: TrackKind,
    pub(crate) keyframe: bool,
    /// A sequence header (decoder configuration), not media.
    pub(crate) config: bool,
    /// Decode time, µs.
    pub(crate) dts_us: i64,
    /// Payload bytes (codec headers not counted).
    pub(crate) len: u64,
    /// The payload's first bytes.
    pub(crate) payload_head: &'a [u8],
}

impl<'a> ReceivedFrame<'a> {
    /// A whole frame.
    pub(crate) fn of(frame: &'a MediaFrame) -> ReceivedFrame<'a> {
        ReceivedFrame {
            track: frame.track(),
            keyframe: frame.is_keyframe(),
            config: frame.is_config(),
            dts_us: frame.dts.as_micros(),
            len: frame.len() as u64,
            payload_head: &frame.payload,
        }
    }
}

/// A player's measurements as frames arrive.
///
/// Latency: with stamps, receive wall clock − the stamp's send time. Without
/// (a replayed file), the spacing of arrivals: (receive − dts) minus the
/// smallest such offset the player has seen, i.e. the delay beyond its
/// quickest frame. Either is recorded only in the steady window, only by
/// probes, and only for live frames: a joiner's GOP, sent before it
/// connected (or, without stamps, its first GOP), is join time, not
/// delivery latency. Samples are corrected for coordinated omission at the
/// track's frame interval.
#[derive(Debug)]
pub(crate) struct Watch {
    stamped: bool,
    probe: bool,
    intervals: [u64; 2],
    started: Instant,
    /// Wall clock at `started`, µs since the UNIX epoch.
    started_wall_us: u64,
    keyframes: u64,
    last_video: Option<Instant>,
    /// The first GOP came whole (a second keyframe arrived).
    pub(crate) gop_complete: bool,
    /// Next expected sequence number, per track (video, audio).
    next_seq: [Option<u64>; 2],
    /// Smallest (receive − dts) seen, µs (unstamped sources).
    min_offset_us: Option<i64>,
}

impl Watch {
    /// A player that started at `started` (wall clock `started_wall_us`,
    /// µs since the UNIX epoch); probes record latency.
    pub(crate) fn new(
        plan: &PlayerPlan,
        probe: bool,
        started: Instant,
        started_wall_us: u64,
    ) -> Watch {
        Watch {
            stamped: plan.stamped,
            probe,
            intervals: [plan.video_interval_us, plan.audio_interval_us],
            started,
            started_wall_us,
            keyframes: 0,
            last_video: None,
            gop_complete: false,
            next_seq: [None, None],
            min_offset_us: None,
        }
    }

    /// Whether a keyframe arrived.
    pub(crate) fn joined(&self) -> bool {
        self.keyframes > 0
    }

    /// Measures one frame that arrived at `now` (wall clock `wall_us`);
    /// the steady window's counters and latency only while `measuring`.
    pub(crate) fn on_frame(
        &mut self,
        frame: &ReceivedFrame<'_>,
        now: Instant,
        wall_us: u64,
        measuring: bool,
        tally: &mut Tally,
        record: &PlayerRecord,
    ) {
        let track = match frame.track {
            _ if frame.config => return,
            TrackKind::Video => 0,
            TrackKind::Audio => 1,
            TrackKind::Data => return,
        };
        let len = frame.len;
        tally.frames += 1;
        tally.bytes += len;
        if measuring {
            tally.window_frames += 1;
            tally.window_bytes += len;
        }
        if track == 0 {
            if frame.keyframe {
                self.keyframes += 1;
                let since_start = |t: Instant| t.duration_since(self.started).as_micros() as u64;
                if self.keyframes == 1 {
                    tally.join_key_us.saturating_record(since_start(now));
                } else if self.keyframes == 2 {
                    let last = self.last_video.unwrap_or(now);
                    tally.join_gop_us.saturating_record(since_start(last));
                    self.gop_complete = true;
                }
            }
            self.last_video = Some(now);
        }
        let interval = self.intervals[track];
        let (latency, live) = if self.stamped {
            let Some(stamp) = stamp_in(frame.track, frame.payload_head) else {
                return;
            };
            let expected = self.next_seq[track].unwrap_or(stamp.seq);
            if stamp.seq > expected {
                record.gaps.set(record.gaps.get() + stamp.seq - expected);
            }
            self.next_seq[track] = Some(expected.max(stamp.seq + 1));
            (
                wall_us.saturating_sub(stamp.sent_us),
                stamp.sent_us >= self.started_wall_us,
            )
        } else {
            let offset = wall_us as i64 - frame.dts_us;
            let min = *self.min_offset_us.get_or_insert(offset);
            let min = min.min(offset);
            self.min_offset_us = Some(min);
            ((offset - min) as u64, self.gop_complete)
        };
        if measuring && self.probe && live {
            let _ = tally
                .latency_us
                .record_correct(latency.min(3_600_000_000), interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use arcly_media::flv::FlvTag;

    use std::time::Duration;

    use super::*;
    use crate::player::Role;
    use crate::player::tests::plan;
    use crate::source::{Shape, Synthetic, stamp_of};

    /// The frames of `secs` of the standard synthetic stream, as a player
    /// decodes them, stamped as sent at `sent_us(due)`.
    fn stream(secs: u64, sent_us: impl Fn(Duration) -> u64) -> Vec<MediaFrame> {
        let mut source = Synthetic::new(Shape {
            bitrate_kbps: 200,
            fps: 25.0,
            gop_secs: 2.0,
            audio_kbps: 32,
        })
        .unwrap();
        let mut frames = Vec::new();
        while source.next_due().0 < Duration::from_secs(secs) {
            let frame = source.take(sent_us(source.next_due().0));
            let tag = FlvTag::from_frame(&frame).unwrap();
            frames.push(tag.decode_frame().unwrap().unwrap());
        }
        frames
    }

    #[test]
    fn measures_join_gop_latency_and_gaps() {
        let t0 = Instant::now();
        let base = 1_000_000_000u64;
        let frames = stream(5, |due| base + due.as_micros() as u64);
        let mut watch = Watch::new(&plan(true), true, t0, 0);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        let mut dropped = 0;
        for (i, frame) in frames.iter().enumerate() {
            // Lose video frames 10 and 11 and one audio frame.
            if frame.track() == TrackKind::Video && matches!(stamp_of(frame).unwrap().seq, 10 | 11)
                || frame.track() == TrackKind::Audio && stamp_of(frame).unwrap().seq == 30
            {
                dropped += 1;
                continue;
            }
            // Every frame arrives 5 ms after it was sent.
            let sent = stamp_of(frame).unwrap().sent_us;
            let at = t0 + Duration::from_micros(sent - base);
            watch.on_frame(
                &ReceivedFrame::of(frame),
                at,
                sent + 5_000,
                i > 10,
                &mut tally,
                &record,
            );
        }
        assert_eq!(dropped, 3);
        assert_eq!(record.gaps.get(), 3);
        assert!(watch.gop_complete);
        assert_eq!(tally.join_key_us.max(), 0);
        // The last video frame of the first GOP is frame 49, at 1.96 s.
        let gop = tally.join_gop_us.max();
        assert!((1_959_000..=1_961_000).contains(&gop), "{gop}");
        let latency = &tally.latency_us;
        assert!(
            latency.equivalent(latency.min(), 5_000) && latency.equivalent(latency.max(), 5_000)
        );
        assert_eq!(tally.frames as usize, frames.len() - 3);
    }

    #[test]
    fn only_probes_record_latency() {
        let t0 = Instant::now();
        let mut watch = Watch::new(&plan(true), false, t0, 0);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        for frame in stream(1, |_| 0).iter().take(10) {
            watch.on_frame(
                &ReceivedFrame::of(frame),
                t0,
                1_000,
                true,
                &mut tally,
                &record,
            );
        }
        assert_eq!(tally.latency_us.len(), 0);
        assert_eq!(tally.window_frames, 10);
    }

    #[test]
    fn frames_sent_before_the_player_connected_are_not_latency() {
        let t0 = Instant::now();
        // The player connected at 1.0 s; the GOP it gets first was sent
        // from 0 s on, all of it arriving at 1.01 s.
        let mut watch = Watch::new(&plan(true), true, t0, 1_000_000);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        for frame in stream(2, |due| due.as_micros() as u64) {
            let sent = stamp_of(&frame).unwrap().sent_us;
            let wall = sent.max(1_010_000);
            watch.on_frame(
                &ReceivedFrame::of(&frame),
                t0,
                wall,
                true,
                &mut tally,
                &record,
            );
        }
        // Only frames sent from 1.0 s on count: 25 video and 43 audio,
        // none more than 10 ms late.
        assert_eq!(tally.latency_us.len(), 25 + 43);
        assert!(tally.latency_us.max() <= tally.latency_us.highest_equivalent(10_000));
    }

    #[test]
    fn a_late_frame_is_corrected_for_coordinated_omission() {
        let t0 = Instant::now();
        let mut watch = Watch::new(&plan(true), true, t0, 0);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        let frames = stream(1, |_| 0);
        let video: Vec<_> = frames
            .iter()
            .filter(|f| f.track() == TrackKind::Video)
            .collect();
        watch.on_frame(
            &ReceivedFrame::of(video[0]),
            t0,
            1_000,
            true,
            &mut tally,
            &record,
        );
        // 200 ms late: the 4 frames that should have come in between are
        // filled in at 160, 120, 80 and 40 ms.
        watch.on_frame(
            &ReceivedFrame::of(video[1]),
            t0,
            200_000,
            true,
            &mut tally,
            &record,
        );
        assert_eq!(tally.latency_us.len(), 6);
        assert_eq!(record.gaps.get(), 0);
    }

    #[test]
    fn unstamped_latency_is_the_delay_beyond_the_quickest_frame() {
        let t0 = Instant::now();
        let mut watch = Watch::new(&plan(false), true, t0, 0);
        // Past its first GOP, the player is live.
        watch.gop_complete = true;
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        let mut frames = stream(1, |_| 0);
        frames.retain(|f| f.track() == TrackKind::Video);
        // dts 0 arrives at 10 ms, dts 40 ms at 50 ms, dts 80 ms at 100 ms.
        for (frame, wall_ms) in frames.iter().zip([10u64, 50, 100]) {
            watch.on_frame(
                &ReceivedFrame::of(frame),
                t0,
                wall_ms * 1000,
                true,
                &mut tally,
                &record,
            );
        }
        assert_eq!(tally.latency_us.len(), 3);
        assert_eq!(tally.latency_us.min(), 0);
        assert!(tally.latency_us.equivalent(tally.latency_us.max(), 10_000));
    }
}
