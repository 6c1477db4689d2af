//! The synthetic H.264 + AAC source: frames shaped like a real encoder's
//! (bitrate, frame rate, GOP length, audio rate), each carrying a
//! [`Stamp`].
//!
//! Video is AVCC (4-byte NAL lengths): every frame opens with an SEI NAL
//! (`user_data_unregistered`) holding the stamp, then one slice NAL, IDR
//! (type 5) on keyframes and non-IDR (type 1) otherwise, padded to the
//! frame's share of the bitrate. A keyframe weighs [`KEYFRAME_WEIGHT`]
//! inter frames. The sequence header is a real x264 `avcC` (High profile,
//! 320x240); the slices are filler, so a decoder shows garbage, but every
//! server relays them (none parses slice data). Audio is AAC-LC, 44.1 kHz
//! stereo, 1024 samples per frame; each raw frame opens with the stamp.

use std::time::Duration;

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp, TrackKind};
use bytes::{BufMut, Bytes, BytesMut};

use super::stamp::{STAMP_LEN, Stamp};

/// A keyframe is this many inter frames' worth of bytes.
pub(crate) const KEYFRAME_WEIGHT: u64 = 8;

/// AAC samples per second and per frame.
const AAC_RATE: u64 = 44_100;
const AAC_FRAME: u64 = 1024;

/// The `avcC` of x264 (High, level 1.3, 320x240), as ffmpeg wrote it in
/// `media/tests/data/ffmpeg_h264_aac.flv`.
const AVCC: &[u8] = &[
    0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41,
    0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99,
    0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
];

/// AudioSpecificConfig: AAC-LC, 44.1 kHz, 2 channels.
const AAC_CONFIG: &[u8] = &[0x12, 0x10];

/// NAL unit header bytes.
const NAL_SEI: u8 = 0x06;
const NAL_IDR: u8 = 0x65;
const NAL_NON_IDR: u8 = 0x41;

/// SEI payload type `user_data_unregistered`.
const SEI_USER_DATA_UNREGISTERED: u8 = 5;

/// The SEI NAL: header, payload type, payload size, stamp, RBSP trailing
/// bits.
const SEI_NAL_LEN: usize = 3 + STAMP_LEN + 1;

/// The smallest video frame: length + SEI NAL, length + slice header byte.
const MIN_VIDEO_FRAME: usize = 4 + SEI_NAL_LEN + 4 + 1;

/// What the source looks like.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub(crate) struct Shape {
    /// Video bitrate, kbit/s.
    pub(crate) bitrate_kbps: u32,
    /// Video frames per second.
    pub(crate) fps: f64,
    /// Seconds between keyframes.
    pub(crate) gop_secs: f64,
    /// Audio bitrate, kbit/s; 0 for no audio.
    pub(crate) audio_kbps: u32,
}

impl Shape {
    /// Time between video frames.
    pub(crate) fn video_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.fps)
    }

    /// Time between audio frames.
    pub(crate) fn audio_interval(&self) -> Duration {
        Duration::from_micros(AAC_FRAME * 1_000_000 / AAC_RATE)
    }
}

/// The next frame of the synthetic stream, on demand.
#[derive(Debug)]
pub(crate) struct Synthetic {
    shape: Shape,
    gop_frames: u64,
    inter_bytes: usize,
    key_bytes: usize,
    audio_bytes: usize,
    next_video: u64,
    next_audio: u64,
    filler: Bytes,
}

impl Synthetic {
    /// A source of `shape`; refuses shapes that make no stream.
    pub(crate) fn new(shape: Shape) -> anyhow::Result<Synthetic> {
        anyhow::ensure!(
            shape.fps.is_finite() && shape.fps >= 1.0 && shape.fps <= 240.0,
            "--fps must be between 1 and 240"
        );
        anyhow::ensure!(
            shape.gop_secs.is_finite() && shape.gop_secs > 0.0 && shape.gop_secs <= 60.0,
            "--gop-secs must be above 0 and at most 60"
        );
        anyhow::ensure!(shape.bitrate_kbps > 0, "--bitrate-kbps must be at least 1");
        let gop_frames = ((shape.fps * shape.gop_secs).round() as u64).max(1);
        let gop_bytes =
            (f64::from(shape.bitrate_kbps) * 125.0 * gop_frames as f64 / shape.fps) as u64;
        let inter = gop_bytes / (gop_frames - 1 + KEYFRAME_WEIGHT);
        let inter_bytes = (inter as usize).max(MIN_VIDEO_FRAME);
        let key_bytes = ((inter * KEYFRAME_WEIGHT) as usize).max(MIN_VIDEO_FRAME);
        let audio_bytes = (u64::from(shape.audio_kbps) * 125 * AAC_FRAME / AAC_RATE) as usize;
        let audio_bytes = audio_bytes.max(STAMP_LEN);
        anyhow::ensure!(
            key_bytes < 8 << 20,
            "a keyframe of {key_bytes} bytes is too large; lower --bitrate-kbps"
        );
        Ok(Synthetic {
            shape,
            gop_frames,
            inter_bytes,
            key_bytes,
            audio_bytes,
            next_video: 0,
            next_audio: 0,
            filler: Bytes::from(vec![0xa5; key_bytes.max(audio_bytes)]),
        })
    }

    /// The sequence headers, sent before any frame.
    pub(crate) fn configs(&self) -> Vec<MediaFrame> {
        let config = |codec, payload: &'static [u8]| MediaFrame {
            codec,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags: FrameFlags::CONFIG,
            payload: Bytes::from_static(payload),
        };
        let mut configs = vec![config(Codec::H264, AVCC)];
        if self.shape.audio_kbps > 0 {
            configs.push(config(Codec::Aac, AAC_CONFIG));
        }
        configs
    }

    /// When the next frame is due, from the start of the stream, and its
    /// track.
    pub(crate) fn next_due(&self) -> (Duration, TrackKind) {
        let video = self.video_due(self.next_video);
        if self.shape.audio_kbps == 0 {
            return (video, TrackKind::Video);
        }
        let audio = audio_due(self.next_audio);
        if audio < video {
            (audio, TrackKind::Audio)
        } else {
            (video, TrackKind::Video)
        }
    }

    /// The next frame (see [`Synthetic::next_due`]), stamped as sent at
    /// `sent_us`.
    pub(crate) fn take(&mut self, sent_us: u64) -> MediaFrame {
        let (due, track) = self.next_due();
        let ts = Timestamp::from_millis(due.as_millis() as i64);
        let (codec, flags, payload) = if track == TrackKind::Audio {
            let seq = self.next_audio;
            self.next_audio += 1;
            let mut payload = BytesMut::with_capacity(self.audio_bytes);
            payload.put_slice(&Stamp { seq, sent_us }.encode());
            payload.put_slice(&self.filler[..self.audio_bytes - STAMP_LEN]);
            (Codec::Aac, FrameFlags::KEYFRAME, payload.freeze())
        } else {
            let seq = self.next_video;
            self.next_video += 1;
            let key = seq.is_multiple_of(self.gop_frames);
            let size = if key {
                self.key_bytes
            } else {
                self.inter_bytes
            };
            let flags = if key {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            };
            let payload = video_payload(Stamp { seq, sent_us }, key, size, &self.filler);
            (Codec::H264, flags, payload)
        };
        MediaFrame {
            codec,
            dts: ts,
            pts: ts,
            flags,
            payload,
        }
    }

    fn video_due(&self, n: u64) -> Duration {
        Duration::from_secs_f64(n as f64 / self.shape.fps)
    }
}

fn audio_due(n: u64) -> Duration {
    Duration::from_micros(n * AAC_FRAME * 1_000_000 / AAC_RATE)
}

/// An AVCC access unit of `size` bytes: the stamp's SEI NAL, then a slice.
fn video_payload(stamp: Stamp, key: bool, size: usize, filler: &[u8]) -> Bytes {
    let slice_len = size - 4 - SEI_NAL_LEN - 4;
    let mut out = BytesMut::with_capacity(size);
    out.put_u32(SEI_NAL_LEN as u32);
    out.put_u8(NAL_SEI);
    out.put_u8(SEI_USER_DATA_UNREGISTERED);
    out.put_u8(STAMP_LEN as u8);
    out.put_slice(&stamp.encode());
    out.put_u8(0x80);
    out.put_u32(slice_len as u32);
    out.put_u8(if key { NAL_IDR } else { NAL_NON_IDR });
    out.put_slice(&filler[..slice_len - 1]);
    out.freeze()
}

/// The stamp of a whole frame (see [`stamp_in`]).
#[cfg(test)]
pub(crate) fn stamp_of(frame: &MediaFrame) -> Option<Stamp> {
    stamp_in(frame.track(), &frame.payload)
}

/// The stamp of a frame of the synthetic stream as a player receives it:
/// in the leading SEI NAL of a video frame, or at the start of an audio
/// frame; `payload` may be only the head of the frame's payload. `None` for
/// frames of any other source.
pub(crate) fn stamp_in(track: TrackKind, payload: &[u8]) -> Option<Stamp> {
    match track {
        TrackKind::Audio => Stamp::decode(payload),
        TrackKind::Video => {
            let sei = payload.get(4..7)?;
            if sei[0] & 0x1f != NAL_SEI & 0x1f
                || sei[1] != SEI_USER_DATA_UNREGISTERED
                || usize::from(sei[2]) != STAMP_LEN
            {
                return None;
            }
            Stamp::decode(&payload[7..])
        }
        TrackKind::Data => None,
    }
}

#[cfg(test)]
mod tests {
    use arcly_media::flv::FlvTag;

    use super::*;

    const STANDARD: Shape = Shape {
        bitrate_kbps: 200,
        fps: 25.0,
        gop_secs: 2.0,
        audio_kbps: 32,
    };

    #[test]
    fn frames_carry_their_stamps_through_flv_tags() {
        let mut source = Synthetic::new(STANDARD).unwrap();
        for n in 0..200 {
            let frame = source.take(1_000 + n);
            let tag = FlvTag::from_frame(&frame).unwrap();
            let back = tag.decode_frame().unwrap().unwrap();
            assert_eq!(back.flags, frame.flags);
            let stamp = stamp_of(&back).unwrap();
            assert_eq!(stamp.sent_us, 1_000 + n);
        }
    }

    #[test]
    fn keyframes_every_gop_and_seqs_per_track() {
        let mut source = Synthetic::new(STANDARD).unwrap();
        let (mut video, mut audio) = (Vec::new(), Vec::new());
        // 4 s of stream.
        while source.next_due().0 < Duration::from_secs(4) {
            let frame = source.take(0);
            let stamp = stamp_of(&frame).unwrap();
            match frame.track() {
                TrackKind::Video => video.push((stamp.seq, frame.is_keyframe(), frame.dts)),
                _ => audio.push(stamp.seq),
            }
        }
        assert_eq!(video.len(), 100);
        assert_eq!(audio.len(), 173);
        assert!(audio.iter().enumerate().all(|(i, &s)| s == i as u64));
        let keys: Vec<u64> = video.iter().filter(|v| v.1).map(|v| v.0).collect();
        assert_eq!(keys, vec![0, 50]);
        assert_eq!(video[50].2, Timestamp::from_millis(2_000));
    }

    #[test]
    fn bitrates_match_the_shape() {
        let mut source = Synthetic::new(STANDARD).unwrap();
        let (mut video, mut audio) = (0usize, 0usize);
        while source.next_due().0 < Duration::from_secs(10) {
            let frame = source.take(0);
            match frame.track() {
                TrackKind::Video => video += frame.len(),
                _ => audio += frame.len(),
            }
        }
        let video_kbps = video as f64 * 8.0 / 10_000.0;
        let audio_kbps = audio as f64 * 8.0 / 10_000.0;
        assert!((195.0..=200.0).contains(&video_kbps), "{video_kbps}");
        assert!((31.0..=33.0).contains(&audio_kbps), "{audio_kbps}");
    }

    #[test]
    fn slices_are_idr_on_keyframes_only() {
        let mut source = Synthetic::new(Shape {
            audio_kbps: 0,
            ..STANDARD
        })
        .unwrap();
        for _ in 0..60 {
            let frame = source.take(0);
            let slice = 4 + SEI_NAL_LEN;
            let len = u32::from_be_bytes(frame.payload[slice..slice + 4].try_into().unwrap());
            assert_eq!(slice + 4 + len as usize, frame.len());
            let nal_type = frame.payload[slice + 4] & 0x1f;
            assert_eq!(nal_type == 5, frame.is_keyframe());
            assert!(nal_type == 5 || nal_type == 1);
        }
    }

    #[test]
    fn configs_decode_as_sequence_headers() {
        let source = Synthetic::new(STANDARD).unwrap();
        let configs = source.configs();
        assert_eq!(configs.len(), 2);
        for config in configs {
            let tag = FlvTag::from_frame(&config).unwrap();
            assert!(tag.decode_frame().unwrap().unwrap().is_config());
        }
    }
}
