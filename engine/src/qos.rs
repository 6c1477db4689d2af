//! Quality of service: bitrate and frame rate per track over a sliding window.

use std::time::{Duration, Instant};

use crate::{MediaFrame, TrackKind};

/// Buckets per window: rates are exact to one bucket (a tenth of the window)
/// and a meter's memory is fixed however many frames arrive.
const BUCKETS: usize = 10;

/// Measured rates of one track.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrackQos {
    /// Payload bits per second over the window.
    pub bitrate_bps: u64,
    /// Frames per second over the window.
    pub fps: f64,
    /// Frames since the meter started.
    pub frames_total: u64,
    /// Payload bytes since the meter started.
    pub bytes_total: u64,
}

/// Measured rates of a stream, per track.
#[derive(Clone, Debug, PartialEq)]
pub struct QosReport {
    /// The window the rates are averaged over.
    pub window: Duration,
    /// The video track.
    pub video: TrackQos,
    /// The audio track.
    pub audio: TrackQos,
    /// The data track (script messages).
    pub data: TrackQos,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Which bucket of the timeline this is; `u64::MAX` when unused.
    index: u64,
    frames: u64,
    bytes: u64,
}

const UNUSED: Bucket = Bucket {
    index: u64::MAX,
    frames: 0,
    bytes: 0,
};

#[derive(Clone, Debug)]
struct Meter {
    buckets: [Bucket; BUCKETS],
    frames_total: u64,
    bytes_total: u64,
}

/// Per-track meters of one stream copy; time comes in as `now`.
#[derive(Clone, Debug)]
pub struct Qos {
    window: Duration,
    bucket_nanos: u64,
    started: Instant,
    meters: [Meter; 3],
}

impl Qos {
    /// The window streams are measured over.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(5);

    /// Meters that start at `now` and average over `window`.
    pub fn new(window: Duration, now: Instant) -> Qos {
        let bucket_nanos = nanos(window / BUCKETS as u32).max(1);
        let meter = Meter {
            buckets: [UNUSED; BUCKETS],
            frames_total: 0,
            bytes_total: 0,
        };
        Qos {
            window,
            bucket_nanos,
            started: now,
            meters: [meter.clone(), meter.clone(), meter],
        }
    }

    /// Counts one frame, seen at `now`.
    pub fn record(&mut self, frame: &MediaFrame, now: Instant) {
        let index = self.bucket_of(now);
        let meter = &mut self.meters[slot(frame.track())];
        let bucket = &mut meter.buckets[(index % BUCKETS as u64) as usize];
        if bucket.index != index {
            *bucket = Bucket {
                index,
                frames: 0,
                bytes: 0,
            };
        }
        let len = frame.len() as u64;
        bucket.frames += 1;
        bucket.bytes += len;
        meter.frames_total += 1;
        meter.bytes_total += len;
    }

    /// The rates of one track over the window ending at `now`.
    pub fn track(&self, track: TrackKind, now: Instant) -> TrackQos {
        let meter = &self.meters[slot(track)];
        let current = self.bucket_of(now);
        let oldest = current.saturating_sub(BUCKETS as u64 - 1);
        let (frames, bytes) = meter
            .buckets
            .iter()
            .filter(|b| (oldest..=current).contains(&b.index))
            .fold((0, 0), |(f, b), bucket| {
                (f + bucket.frames, b + bucket.bytes)
            });
        let span_nanos = self
            .elapsed_nanos(now)
            .saturating_sub(oldest * self.bucket_nanos);
        let span = span_nanos as f64 / 1e9;
        let (bitrate_bps, fps) = if span > 0.0 {
            ((bytes as f64 * 8.0 / span) as u64, frames as f64 / span)
        } else {
            (0, 0.0)
        };
        TrackQos {
            bitrate_bps,
            fps,
            frames_total: meter.frames_total,
            bytes_total: meter.bytes_total,
        }
    }

    /// The rates of every track over the window ending at `now`.
    pub fn report(&self, now: Instant) -> QosReport {
        QosReport {
            window: self.window,
            video: self.track(TrackKind::Video, now),
            audio: self.track(TrackKind::Audio, now),
            data: self.track(TrackKind::Data, now),
        }
    }

    fn elapsed_nanos(&self, now: Instant) -> u64 {
        nanos(now.saturating_duration_since(self.started))
    }

    fn bucket_of(&self, now: Instant) -> u64 {
        self.elapsed_nanos(now) / self.bucket_nanos
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn slot(track: TrackKind) -> usize {
    match track {
        TrackKind::Video => 0,
        TrackKind::Audio => 1,
        TrackKind::Data => 2,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::{Codec, FrameFlags, Timestamp};

    fn frame(codec: Codec, len: usize) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags: FrameFlags::NONE,
            payload: Bytes::from(vec![0; len]),
        }
    }

    #[test]
    fn measures_a_steady_stream() {
        let t0 = Instant::now();
        let mut qos = Qos::new(Qos::DEFAULT_WINDOW, t0);
        // 25 fps of 5,000-byte frames = 1 Mbit/s, for 20 seconds.
        for i in 0..500u64 {
            qos.record(
                &frame(Codec::H264, 5000),
                t0 + Duration::from_millis(i * 40),
            );
        }
        let report = qos.report(t0 + Duration::from_millis(20_000));
        assert!((report.video.fps - 25.0).abs() < 1.0, "{report:?}");
        let bps = report.video.bitrate_bps as f64;
        assert!((bps - 1e6).abs() < 0.05e6, "{report:?}");
        assert_eq!(report.video.frames_total, 500);
        assert_eq!(report.video.bytes_total, 2_500_000);
        assert_eq!(report.audio, TrackQos::default());
    }

    #[test]
    fn is_accurate_before_a_full_window() {
        let t0 = Instant::now();
        let mut qos = Qos::new(Qos::DEFAULT_WINDOW, t0);
        for i in 0..50u64 {
            qos.record(&frame(Codec::Aac, 100), t0 + Duration::from_millis(i * 20));
        }
        let audio = qos.track(TrackKind::Audio, t0 + Duration::from_secs(1));
        assert!((audio.fps - 50.0).abs() < 1.0, "{audio:?}");
        assert!((audio.bitrate_bps as f64 - 40_000.0).abs() < 1000.0);
    }

    #[test]
    fn old_frames_leave_the_window() {
        let t0 = Instant::now();
        let mut qos = Qos::new(Qos::DEFAULT_WINDOW, t0);
        qos.record(&frame(Codec::Script, 10), t0);
        let later = qos.track(TrackKind::Data, t0 + Duration::from_secs(60));
        assert_eq!((later.fps, later.bitrate_bps), (0.0, 0));
        assert_eq!(later.frames_total, 1);
    }

    #[test]
    fn a_report_at_the_start_is_zero() {
        let t0 = Instant::now();
        let report = Qos::new(Duration::ZERO, t0).report(t0);
        assert_eq!(report.video, TrackQos::default());
    }
}
