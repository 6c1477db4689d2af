//! The fMP4 tracks arcly writes for a stream (HLS and recordings alike):
//! video is track 1 at 90 kHz, audio track 2 at its sample rate.

use arcly_engine::Codec;
use bytes::Bytes;

use super::{Fmp4Track, TrackMedia};
use crate::codec::TrackInfo;

/// The video track's id.
pub const VIDEO_TRACK_ID: u32 = 1;
/// The audio track's id.
pub const AUDIO_TRACK_ID: u32 = 2;
/// The video timescale players expect.
pub const VIDEO_TIMESCALE: u32 = 90_000;

impl Fmp4Track {
    /// The video track `info` describes, configured by `config` (the
    /// config frame's payload); `size` is the picture size when `info` has
    /// none (VP9's `vpcC` carries none: it comes from a keyframe). `None`
    /// without a picture size.
    pub fn video(info: &TrackInfo, config: Bytes, size: Option<(u32, u32)>) -> Option<Fmp4Track> {
        let (width, height) = match (info.width, info.height) {
            (Some(w), Some(h)) => (w, h),
            _ => size?,
        };
        Some(Fmp4Track {
            track_id: VIDEO_TRACK_ID,
            timescale: VIDEO_TIMESCALE,
            media: TrackMedia::Video {
                codec: info.codec,
                width,
                height,
                config,
            },
        })
    }

    /// The audio track `info` describes, configured by `config` (ignored
    /// for MP3, which has no decoder configuration). `None` without a
    /// sample rate and channel count.
    pub fn audio(info: &TrackInfo, config: Bytes) -> Option<Fmp4Track> {
        let sample_rate = info.sample_rate?;
        Some(Fmp4Track {
            track_id: AUDIO_TRACK_ID,
            timescale: sample_rate,
            media: TrackMedia::Audio {
                codec: info.codec,
                sample_rate,
                channels: info.channels?,
                config: match info.codec {
                    Codec::Mp3 => Bytes::new(),
                    _ => config,
                },
            },
        })
    }
}
