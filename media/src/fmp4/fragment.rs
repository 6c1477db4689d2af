//! Fragments: `moof` + `mdat`, one `traf` per track with samples.

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use bytes::Bytes;

use super::boxes::BoxWriter;
use super::{
    Fmp4Error, Fmp4Track, MAX_FRAGMENT_BYTES, MAX_FRAGMENT_SAMPLES, MAX_SAMPLE_SIZE, TrackMedia,
};

const MICROS_PER_SECOND: i128 = 1_000_000;

/// `tfhd` flag: data offsets count from the first byte of the `moof`
/// (what CMAF requires, and what lets a fragment move without rewriting).
const DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;

/// `trun` flags: which fields are present.
const DATA_OFFSET_PRESENT: u32 = 0x000001;
const SAMPLE_DURATION_PRESENT: u32 = 0x000100;
const SAMPLE_SIZE_PRESENT: u32 = 0x000200;
const SAMPLE_FLAGS_PRESENT: u32 = 0x000400;
const SAMPLE_COMPOSITION_TIME_OFFSETS_PRESENT: u32 = 0x000800;

/// Sample flags (ISO/IEC 14496-12 8.8.3.1) of a sync sample: depends on no
/// other sample.
const SYNC_SAMPLE_FLAGS: u32 = 2 << 24;
/// `sample_is_non_sync_sample`.
const NON_SYNC: u32 = 1 << 16;
/// Sample flags of any other sample: depends on others, not a sync sample.
const NON_SYNC_SAMPLE_FLAGS: u32 = 1 << 24 | NON_SYNC;
/// `sample_is_depended_on` = 2: no other sample refers to this one.
const NOT_DEPENDED_ON: u32 = 2 << 22;

/// `moof` bytes besides the samples: `mfhd`, and per track `traf`, `tfhd`,
/// `tfdt` and the `trun` header.
const MOOF_OVERHEAD: usize = 8 + 16;
const TRAF_OVERHEAD: usize = 8 + 16 + 20 + 20;
/// `trun` bytes per sample with every field present.
const TRUN_SAMPLE_LEN: usize = 16;

/// One fragment: a `moof` and its `mdat`, ready to serve as an HLS segment
/// or LL-HLS part after the init segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// `moof` + `mdat`.
    pub bytes: Bytes,
    /// How long the fragment plays: the span of its video track, or with no
    /// video samples, of its longest track.
    pub duration: Timestamp,
    /// Whether every track starts with a sync sample (video with a
    /// keyframe; audio samples always are), so that playback can start here.
    pub starts_with_keyframe: bool,
    /// The decode time of the first sample of the track `duration` measures.
    pub first_dts: Timestamp,
}

/// Collects frames and cuts them into fragments.
///
/// Drive it with [`push`](Fragmenter::push) for every frame of the stream,
/// in decode order per track, and [`cut`](Fragmenter::cut) wherever a
/// fragment should end: before the keyframe that starts the next segment,
/// or every few hundred milliseconds for LL-HLS parts. A fragment holds
/// every track's frames pushed since the last cut, so the caller decides how
/// audio and video interleave.
///
/// Frames are routed to tracks by codec; config and script frames are
/// ignored (a new config needs a new init segment, which is the caller's to
/// write).
#[derive(Debug)]
pub struct Fragmenter {
    tracks: Vec<TrackState>,
    /// Samples pending over all tracks.
    samples: usize,
    /// Payload bytes pending over all tracks.
    bytes: usize,
}

#[derive(Debug)]
struct TrackState {
    track_id: u32,
    timescale: u32,
    codec: Codec,
    video: bool,
    /// The duration of a last sample with nothing better to go by.
    nominal_duration: u32,
    samples: Vec<Sample>,
    payloads: Vec<Bytes>,
    /// The original decode time of the first pending sample.
    first_dts: Timestamp,
    /// Decode time of the last sample pushed, in ticks and as pushed: it
    /// survives cuts, so the next fragment's first sample is checked against
    /// the previous one's last.
    last_dts: Option<(u64, Timestamp)>,
    /// The last duration learnt from two consecutive samples.
    last_duration: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Decode time in track ticks.
    dts: u64,
    /// Ticks until the next sample; known when it arrives or at the cut.
    duration: u32,
    size: u32,
    flags: u32,
    /// `pts - dts` in ticks.
    composition_offset: i32,
}

impl Fragmenter {
    /// A fragmenter for `tracks` (the tracks of the init segment). Tracks
    /// with a zero timescale refuse every frame; [`init_segment`] refuses
    /// them up front.
    ///
    /// [`init_segment`]: super::init_segment
    pub fn new(tracks: &[Fmp4Track]) -> Fragmenter {
        Fragmenter {
            tracks: tracks.iter().map(TrackState::new).collect(),
            samples: 0,
            bytes: 0,
        }
    }

    /// Samples waiting for the next cut, over all tracks.
    pub fn pending_samples(&self) -> usize {
        self.samples
    }

    /// Payload bytes waiting for the next cut, over all tracks.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Adds a frame to the pending fragment (config and script frames are
    /// ignored). Its `dts` and `pts` are converted to the track timescale
    /// from their absolute values, so no rounding error builds up; the
    /// previous sample of the track lasts until this one's `dts`.
    ///
    /// Refused, leaving the fragment as it was: a codec with no track, a
    /// payload over [`MAX_SAMPLE_SIZE`], a fragment that is full
    /// ([`MAX_FRAGMENT_SAMPLES`], [`MAX_FRAGMENT_BYTES`]), a negative `dts`,
    /// a `dts` before the track's previous one or more than 2^32 ticks after
    /// it, and a `pts - dts` outside 32 signed bits of ticks.
    pub fn push(&mut self, frame: &MediaFrame) -> Result<(), Fmp4Error> {
        if frame.is_config() || frame.codec == Codec::Script {
            return Ok(());
        }
        let index = self
            .tracks
            .iter()
            .position(|t| t.codec == frame.codec)
            .ok_or(Fmp4Error::NoTrackForCodec(frame.codec))?;
        let track = &self.tracks[index];
        let track_id = track.track_id;
        if track.timescale == 0 {
            return Err(Fmp4Error::ZeroTimescale { track_id });
        }
        let len = frame.payload.len();
        if len > MAX_SAMPLE_SIZE {
            return Err(Fmp4Error::SampleTooLarge {
                track_id,
                len,
                limit: MAX_SAMPLE_SIZE,
            });
        }
        if self.samples >= MAX_FRAGMENT_SAMPLES {
            return Err(Fmp4Error::TooManySamples {
                limit: MAX_FRAGMENT_SAMPLES,
            });
        }
        let bytes = self.bytes + len;
        if bytes > MAX_FRAGMENT_BYTES {
            return Err(Fmp4Error::FragmentTooLarge {
                bytes,
                limit: MAX_FRAGMENT_BYTES,
            });
        }
        if frame.dts < Timestamp::ZERO {
            return Err(Fmp4Error::NegativeDts {
                track_id,
                dts: frame.dts,
            });
        }
        let dts = u64::try_from(to_ticks(frame.dts, track.timescale)).map_err(|_| {
            Fmp4Error::TimeOutOfRange {
                track_id,
                time: frame.dts,
                timescale: track.timescale,
            }
        })?;
        let offset = to_ticks(frame.pts, track.timescale) - i128::from(dts);
        let composition_offset =
            i32::try_from(offset).map_err(|_| Fmp4Error::CompositionOffsetOutOfRange {
                track_id,
                ticks: offset,
            })?;
        let gap = match track.last_dts {
            Some((last, last_micros)) => {
                if frame.dts < last_micros {
                    return Err(Fmp4Error::DtsWentBack {
                        track_id,
                        last: last_micros,
                        dts: frame.dts,
                    });
                }
                // Rounding is monotonic, so `dts >= last` in ticks too.
                let ticks = dts.saturating_sub(last);
                Some(u32::try_from(ticks).map_err(|_| Fmp4Error::GapTooLong { track_id, ticks })?)
            }
            None => None,
        };

        // Every check passed: commit.
        let track = &mut self.tracks[index];
        if let Some(gap) = gap {
            if let Some(previous) = track.samples.last_mut() {
                previous.duration = gap;
            }
            track.last_duration = Some(gap);
        }
        if track.samples.is_empty() {
            track.first_dts = frame.dts;
        }
        let sync = !track.video || frame.is_keyframe();
        let mut flags = if sync {
            SYNC_SAMPLE_FLAGS
        } else {
            NON_SYNC_SAMPLE_FLAGS
        };
        if frame.flags.contains(FrameFlags::DISCARDABLE) {
            flags |= NOT_DEPENDED_ON;
        }
        track.samples.push(Sample {
            dts,
            duration: 0,
            // At most MAX_SAMPLE_SIZE.
            size: len as u32,
            flags,
            composition_offset,
        });
        track.payloads.push(frame.payload.clone());
        track.last_dts = Some((dts, frame.dts));
        self.samples += 1;
        self.bytes = bytes;
        Ok(())
    }

    /// Ends the pending fragment and returns it, or `None` if no sample is
    /// pending.
    ///
    /// `end` is the decode time where the next fragment starts (the `dts` of
    /// the frame about to be pushed, or anything not after the last `dts`
    /// at the end of the stream): the last sample of each track lasts until
    /// `end`, or, if that is not after its `dts` (or 2^32 ticks or more
    /// after it), as long as the track's previous sample. A track with no
    /// previous sample gets one nominal frame: 1/30 s of video, 1024 AAC
    /// samples, 1152 MP3 samples, 20 ms of Opus.
    ///
    /// The `moof` holds an `mfhd` with `sequence_number`, then per track with
    /// samples a `traf`: `tfhd` (default-base-is-moof), `tfdt` (version 1)
    /// and `trun` (version 1: data offset, and per sample duration, size,
    /// flags and, if any is non-zero, signed composition offsets).
    pub fn cut(&mut self, sequence_number: u32, end: Timestamp) -> Option<Fragment> {
        if self.samples == 0 {
            return None;
        }
        for track in &mut self.tracks {
            let end_ticks = to_ticks(end, track.timescale);
            let fallback = track.last_duration.unwrap_or(track.nominal_duration);
            if let Some(last) = track.samples.last_mut() {
                last.duration = u32::try_from(end_ticks - i128::from(last.dts))
                    .ok()
                    .filter(|&ticks| ticks > 0)
                    .unwrap_or(fallback);
            }
        }

        let active = || self.tracks.iter().filter(|t| !t.samples.is_empty());
        let moof_capacity =
            MOOF_OVERHEAD + active().count() * TRAF_OVERHEAD + self.samples * TRUN_SAMPLE_LEN;
        let mut w = BoxWriter::with_capacity(moof_capacity + 8 + self.bytes);
        // Where each trun's data offset goes, and where its data starts in
        // the mdat body.
        let mut data_offsets = Vec::new();
        w.write_box(*b"moof", |w| {
            w.write_full_box(*b"mfhd", 0, 0, |w| w.u32(sequence_number));
            let mut in_mdat = 0;
            for track in active() {
                w.write_box(*b"traf", |w| {
                    w.write_full_box(*b"tfhd", 0, DEFAULT_BASE_IS_MOOF, |w| w.u32(track.track_id));
                    w.write_full_box(*b"tfdt", 1, 0, |w| w.u64(track.samples[0].dts));
                    let offsets = track.samples.iter().any(|s| s.composition_offset != 0);
                    let mut flags = DATA_OFFSET_PRESENT
                        | SAMPLE_DURATION_PRESENT
                        | SAMPLE_SIZE_PRESENT
                        | SAMPLE_FLAGS_PRESENT;
                    if offsets {
                        flags |= SAMPLE_COMPOSITION_TIME_OFFSETS_PRESENT;
                    }
                    w.write_full_box(*b"trun", 1, flags, |w| {
                        // At most MAX_FRAGMENT_SAMPLES.
                        w.u32(track.samples.len() as u32);
                        data_offsets.push((w.position(), in_mdat));
                        w.u32(0);
                        for sample in &track.samples {
                            w.u32(sample.duration);
                            w.u32(sample.size);
                            w.u32(sample.flags);
                            if offsets {
                                w.i32(sample.composition_offset);
                            }
                        }
                    });
                });
                in_mdat += track.samples.iter().map(|s| s.size as usize).sum::<usize>();
            }
        });
        let moof_len = w.position();
        w.write_box(*b"mdat", |w| {
            for track in active() {
                for payload in &track.payloads {
                    w.bytes(payload);
                }
            }
        });
        for (at, in_mdat) in data_offsets {
            // Below MAX_FRAGMENT_BYTES plus the moof: far inside 31 bits.
            w.patch_u32(at, (moof_len + 8 + in_mdat) as u32);
        }

        let reference = active()
            .find(|t| t.video)
            .or_else(|| active().max_by_key(|t| t.span()))?;
        let fragment = Fragment {
            bytes: w.finish().freeze(),
            duration: reference.span(),
            starts_with_keyframe: active().all(|t| t.samples[0].flags & NON_SYNC == 0),
            first_dts: reference.first_dts,
        };
        for track in &mut self.tracks {
            track.samples.clear();
            track.payloads.clear();
        }
        self.samples = 0;
        self.bytes = 0;
        Some(fragment)
    }
}

impl TrackState {
    fn new(track: &Fmp4Track) -> TrackState {
        let timescale = track.timescale;
        // Ticks of `samples` audio samples at `rate`, at least one.
        let per_rate = |samples: u64, rate: u32| {
            let ticks = samples * u64::from(timescale) / u64::from(rate.max(1));
            u32::try_from(ticks).unwrap_or(u32::MAX).max(1)
        };
        let nominal_duration = match &track.media {
            TrackMedia::Video { .. } => (timescale / 30).max(1),
            TrackMedia::Audio {
                codec, sample_rate, ..
            } => match codec {
                Codec::Aac => per_rate(1024, *sample_rate),
                Codec::Mp3 => per_rate(1152, *sample_rate),
                _ => (timescale / 50).max(1),
            },
        };
        TrackState {
            track_id: track.track_id,
            timescale,
            codec: track.media.codec(),
            video: track.media.is_video(),
            nominal_duration,
            samples: Vec::new(),
            payloads: Vec::new(),
            first_dts: Timestamp::ZERO,
            last_dts: None,
            last_duration: None,
        }
    }

    /// How long the pending samples play.
    fn span(&self) -> Timestamp {
        let ticks: i128 = self.samples.iter().map(|s| i128::from(s.duration)).sum();
        let timescale = i128::from(self.timescale.max(1));
        let micros = (ticks * MICROS_PER_SECOND + timescale / 2) / timescale;
        Timestamp(i64::try_from(micros).unwrap_or(i64::MAX))
    }
}

/// `time` in ticks of `timescale`, rounded to the nearest tick. In 128 bits
/// the product cannot overflow.
fn to_ticks(time: Timestamp, timescale: u32) -> i128 {
    let product = i128::from(time.0) * i128::from(timescale);
    (product + MICROS_PER_SECOND / 2).div_euclid(MICROS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::super::boxes::test_reader::{all, children, find, u32_at, u64_at};
    use super::*;

    fn tracks() -> Vec<Fmp4Track> {
        vec![
            Fmp4Track {
                track_id: 1,
                timescale: 90_000,
                media: TrackMedia::Video {
                    codec: Codec::H264,
                    width: 320,
                    height: 240,
                    config: Bytes::from_static(&[1, 0x64, 0, 0x0d, 0xff, 0xe0, 0]),
                },
            },
            Fmp4Track {
                track_id: 2,
                timescale: 44_100,
                media: TrackMedia::Audio {
                    codec: Codec::Aac,
                    sample_rate: 44_100,
                    channels: 1,
                    config: Bytes::from_static(&[0x12, 0x08]),
                },
            },
        ]
    }

    fn frame(
        codec: Codec,
        dts_ms: i64,
        pts_ms: i64,
        flags: FrameFlags,
        payload: &[u8],
    ) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(dts_ms),
            pts: Timestamp::from_millis(pts_ms),
            flags,
            payload: Bytes::copy_from_slice(payload),
        }
    }

    fn video(dts_ms: i64, pts_ms: i64, key: bool, payload: &[u8]) -> MediaFrame {
        let flags = if key {
            FrameFlags::KEYFRAME
        } else {
            FrameFlags::NONE
        };
        frame(Codec::H264, dts_ms, pts_ms, flags, payload)
    }

    fn audio(dts_ms: i64, payload: &[u8]) -> MediaFrame {
        frame(Codec::Aac, dts_ms, dts_ms, FrameFlags::KEYFRAME, payload)
    }

    /// (duration, size, flags, composition offset) of every sample of a trun.
    fn trun_samples(trun: &[u8]) -> Vec<(u32, u32, u32, i32)> {
        let flags = u32_at(trun, 0) & 0xff_ffff;
        let count = u32_at(trun, 4) as usize;
        let offsets = flags & SAMPLE_COMPOSITION_TIME_OFFSETS_PRESENT != 0;
        let stride = if offsets { 16 } else { 12 };
        (0..count)
            .map(|i| {
                let at = 12 + i * stride;
                let cto = if offsets {
                    u32_at(trun, at + 12) as i32
                } else {
                    0
                };
                (
                    u32_at(trun, at),
                    u32_at(trun, at + 4),
                    u32_at(trun, at + 8),
                    cto,
                )
            })
            .collect()
    }

    #[test]
    fn writes_moof_then_mdat() {
        let mut f = Fragmenter::new(&tracks());
        f.push(&video(0, 80, true, b"key")).unwrap();
        f.push(&audio(0, b"a0")).unwrap();
        f.push(&video(40, 40, false, b"p")).unwrap();
        f.push(&audio(23, b"a1")).unwrap();
        assert_eq!((f.pending_samples(), f.pending_bytes()), (4, 8));
        let fragment = f.cut(7, Timestamp::from_millis(80)).unwrap();
        assert_eq!((f.pending_samples(), f.pending_bytes()), (0, 0));
        assert_eq!(fragment.duration, Timestamp::from_millis(80));
        assert_eq!(fragment.first_dts, Timestamp::ZERO);
        assert!(fragment.starts_with_keyframe);

        let bytes = &fragment.bytes[..];
        let top: Vec<_> = children(bytes).into_iter().map(|(k, _)| k).collect();
        assert_eq!(top, [*b"moof", *b"mdat"]);
        assert_eq!(
            find(bytes, &[b"moof", b"mfhd"]).unwrap(),
            &[0, 0, 0, 0, 0, 0, 0, 7]
        );
        assert_eq!(find(bytes, &[b"mdat"]).unwrap(), b"keypa0a1");

        let moof = find(bytes, &[b"moof"]).unwrap();
        let trafs = all(moof, b"traf");
        assert_eq!(trafs.len(), 2);
        assert_eq!(
            find(trafs[0], &[b"tfhd"]).unwrap(),
            &[0, 2, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(
            find(trafs[1], &[b"tfhd"]).unwrap(),
            &[0, 2, 0, 0, 0, 0, 0, 2]
        );
        let tfdt = find(trafs[0], &[b"tfdt"]).unwrap();
        assert_eq!(tfdt, &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

        let trun = find(trafs[0], &[b"trun"]).unwrap();
        assert_eq!(u32_at(trun, 0), 0x0100_0f01);
        assert_eq!(
            trun_samples(trun),
            [(3600, 3, 0x0200_0000, 7200), (3600, 1, 0x0101_0000, 0)]
        );
        let audio_trun = find(trafs[1], &[b"trun"]).unwrap();
        // No composition offsets: the field is left out.
        assert_eq!(u32_at(audio_trun, 0), 0x0100_0701);
        // 23 ms and 80 - 23 = 57 ms at 44.1 kHz.
        assert_eq!(
            trun_samples(audio_trun),
            [(1014, 2, 0x0200_0000, 0), (2514, 2, 0x0200_0000, 0)]
        );

        // Data offsets count from the moof's first byte to each track's data.
        let moof_len = u32_at(bytes, 0) as usize;
        let video_data = u32_at(trun, 8) as usize;
        let audio_data = u32_at(audio_trun, 8) as usize;
        assert_eq!(video_data, moof_len + 8);
        assert_eq!(&bytes[video_data..video_data + 4], b"keyp");
        assert_eq!(&bytes[audio_data..], b"a0a1");
    }

    #[test]
    fn writes_exact_traf_bytes() {
        let mut f = Fragmenter::new(&tracks()[1..]);
        f.push(&audio(1000, b"xyz")).unwrap();
        let fragment = f.cut(1, Timestamp::from_millis(1020)).unwrap();
        let mut expected = Vec::new();
        expected.extend(b"\0\0\0\x64moof");
        expected.extend(b"\0\0\0\x10mfhd\0\0\0\0\0\0\0\x01");
        expected.extend(b"\0\0\0\x4ctraf");
        expected.extend(b"\0\0\0\x10tfhd\0\x02\0\0\0\0\0\x02");
        expected.extend(b"\0\0\0\x14tfdt\x01\0\0\0\0\0\0\0\0\0\xac\x44");
        expected.extend(b"\0\0\0\x20trun\x01\0\x07\x01\0\0\0\x01\0\0\0\x6c");
        // 20 ms at 44.1 kHz, 3 bytes, sync.
        expected.extend(b"\0\0\x03\x72\0\0\0\x03\x02\0\0\0");
        expected.extend(b"\0\0\0\x0bmdatxyz");
        assert_eq!(&fragment.bytes[..], &expected[..]);
        assert_eq!(fragment.first_dts, Timestamp::from_millis(1000));
        assert_eq!(fragment.duration, Timestamp(20_000));
    }

    #[test]
    fn converts_absolute_times_without_drift() {
        // AAC frames at 44.1 kHz last 23.2199 ms; FLV rounds each to a
        // millisecond. Converting deltas would lose a tick a frame; absolute
        // times keep the total exact.
        let mut f = Fragmenter::new(&tracks()[1..]);
        let frames = 1000i64;
        for i in 0..frames {
            let ms = i * 1024 * 1000 / 44_100;
            f.push(&audio(ms, b"a")).unwrap();
        }
        let end = Timestamp::from_millis(frames * 1024 * 1000 / 44_100);
        let fragment = f.cut(1, end).unwrap();
        let trun = find(&fragment.bytes, &[b"moof", b"traf", b"trun"]).unwrap();
        let total: u64 = trun_samples(trun).iter().map(|s| u64::from(s.0)).sum();
        assert_eq!(total, to_ticks(end, 44_100) as u64);
        assert!(total.abs_diff(1000 * 1024) <= 44);
    }

    #[test]
    fn carries_time_across_fragments() {
        let mut f = Fragmenter::new(&tracks()[..1]);
        f.push(&video(0, 0, true, b"a")).unwrap();
        f.push(&video(40, 40, false, b"b")).unwrap();
        let first = f.cut(1, Timestamp::from_millis(80)).unwrap();
        assert_eq!(first.duration, Timestamp::from_millis(80));
        // No sample: nothing to cut.
        assert_eq!(f.cut(2, Timestamp::from_millis(80)), None);
        f.push(&video(80, 80, false, b"c")).unwrap();
        let second = f.cut(2, Timestamp::from_millis(80)).unwrap();
        assert!(!second.starts_with_keyframe);
        assert_eq!(second.first_dts, Timestamp::from_millis(80));
        let traf = find(&second.bytes, &[b"moof", b"traf"]).unwrap();
        assert_eq!(u64_at(find(traf, &[b"tfdt"]).unwrap(), 4), 7200);
        // `end` is not after the sample: it lasts as long as the one before.
        assert_eq!(trun_samples(find(traf, &[b"trun"]).unwrap())[0].0, 3600);
        assert_eq!(second.duration, Timestamp::from_millis(40));
        // A dts before the previous fragment's last is refused.
        assert_eq!(
            f.push(&video(79, 79, true, b"d")),
            Err(Fmp4Error::DtsWentBack {
                track_id: 1,
                last: Timestamp::from_millis(80),
                dts: Timestamp::from_millis(79)
            })
        );
    }

    #[test]
    fn falls_back_to_a_nominal_duration() {
        let mut f = Fragmenter::new(&tracks());
        f.push(&video(0, 0, true, b"a")).unwrap();
        f.push(&audio(0, b"b")).unwrap();
        let fragment = f.cut(1, Timestamp::ZERO).unwrap();
        let moof = find(&fragment.bytes, &[b"moof"]).unwrap();
        let trafs = all(moof, b"traf");
        assert_eq!(trun_samples(find(trafs[0], &[b"trun"]).unwrap())[0].0, 3000);
        assert_eq!(trun_samples(find(trafs[1], &[b"trun"]).unwrap())[0].0, 1024);
    }

    #[test]
    fn writes_negative_composition_offsets_and_discardable_flags() {
        let mut f = Fragmenter::new(&tracks()[..1]);
        let mut b_frame = video(40, 0, false, b"b");
        b_frame.flags = FrameFlags::DISCARDABLE;
        f.push(&video(0, 40, true, b"i")).unwrap();
        f.push(&b_frame).unwrap();
        let fragment = f.cut(1, Timestamp::from_millis(80)).unwrap();
        let trun = find(&fragment.bytes, &[b"moof", b"traf", b"trun"]).unwrap();
        assert_eq!(
            trun_samples(trun),
            [(3600, 1, 0x0200_0000, 3600), (3600, 1, 0x0181_0000, -3600)]
        );
    }

    #[test]
    fn measures_audio_only_fragments_by_their_longest_track() {
        let mut f = Fragmenter::new(&tracks());
        f.push(&audio(100, b"a")).unwrap();
        let fragment = f.cut(1, Timestamp::from_millis(150)).unwrap();
        assert!(fragment.starts_with_keyframe);
        assert_eq!(fragment.first_dts, Timestamp::from_millis(100));
        assert_eq!(fragment.duration, Timestamp(50_000));
        assert_eq!(
            all(find(&fragment.bytes, &[b"moof"]).unwrap(), b"traf").len(),
            1
        );
    }

    #[test]
    fn ignores_config_and_script_frames() {
        let mut f = Fragmenter::new(&tracks());
        f.push(&frame(
            Codec::H264,
            0,
            0,
            FrameFlags::KEYFRAME | FrameFlags::CONFIG,
            b"cfg",
        ))
        .unwrap();
        f.push(&frame(Codec::Script, 0, 0, FrameFlags::NONE, b"meta"))
            .unwrap();
        assert_eq!(f.cut(1, Timestamp::ZERO), None);
    }

    #[test]
    fn refuses_frames_it_cannot_carry() {
        let mut f = Fragmenter::new(&tracks());
        assert_eq!(
            f.push(&frame(Codec::Opus, 0, 0, FrameFlags::KEYFRAME, b"o")),
            Err(Fmp4Error::NoTrackForCodec(Codec::Opus))
        );
        assert_eq!(
            f.push(&video(-1, 0, true, b"a")),
            Err(Fmp4Error::NegativeDts {
                track_id: 1,
                dts: Timestamp::from_millis(-1)
            })
        );
        let mut far = video(0, 0, true, b"a");
        far.pts = Timestamp::from_millis(30_000_000);
        assert!(matches!(
            f.push(&far),
            Err(Fmp4Error::CompositionOffsetOutOfRange { .. })
        ));
        let mut huge = video(0, 0, true, b"");
        huge.payload = Bytes::from(vec![0; MAX_SAMPLE_SIZE + 1]);
        assert!(matches!(
            f.push(&huge),
            Err(Fmp4Error::SampleTooLarge { .. })
        ));

        f.push(&video(0, 0, true, b"a")).unwrap();
        assert!(matches!(
            f.push(&video(50_000_000, 50_000_000, false, b"a")),
            Err(Fmp4Error::GapTooLong { track_id: 1, .. })
        ));
        // Nothing refused was added.
        assert_eq!(f.pending_samples(), 1);

        let mut fast = tracks();
        fast[0].timescale = u32::MAX;
        let mut f = Fragmenter::new(&fast);
        let late = video(i64::MAX / 1000, i64::MAX / 1000, true, b"");
        assert!(matches!(
            f.push(&late),
            Err(Fmp4Error::TimeOutOfRange { .. })
        ));

        let mut zero = tracks();
        zero[0].timescale = 0;
        let mut f = Fragmenter::new(&zero);
        assert_eq!(
            f.push(&video(0, 0, true, b"a")),
            Err(Fmp4Error::ZeroTimescale { track_id: 1 })
        );
    }

    #[test]
    fn bounds_a_fragment() {
        let mut f = Fragmenter::new(&tracks()[1..]);
        for i in 0..MAX_FRAGMENT_SAMPLES as i64 {
            f.push(&audio(i, b"")).unwrap();
        }
        assert_eq!(
            f.push(&audio(20_000, b"")),
            Err(Fmp4Error::TooManySamples {
                limit: MAX_FRAGMENT_SAMPLES
            })
        );
        assert!(f.cut(1, Timestamp::ZERO).is_some());

        let big = Bytes::from(vec![0; MAX_SAMPLE_SIZE]);
        let mut pushed = 0;
        let err = loop {
            let mut frame = audio(30_000 + pushed, b"");
            frame.payload = big.clone();
            match f.push(&frame) {
                Ok(()) => pushed += 1,
                Err(err) => break err,
            }
        };
        assert_eq!(pushed as usize, MAX_FRAGMENT_BYTES / MAX_SAMPLE_SIZE);
        assert!(matches!(err, Fmp4Error::FragmentTooLarge { .. }));
    }
}
