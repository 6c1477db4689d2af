//! fMP4 tracks from a stream's config frames.
//!
//! The same mapping as the HLS packager's (`arcly_media::hls`, whose
//! builders are private to it): video is track 1 at 90 kHz, audio track 2
//! at its sample rate.

use arcly_engine::{Codec, MediaFrame};
use arcly_media::codec::{self, TrackInfo};
use arcly_media::fmp4::{Fmp4Track, TrackMedia};
use bytes::Bytes;

use super::error::RecordError;

/// fMP4 track ids.
const VIDEO_TRACK_ID: u32 = 1;
const AUDIO_TRACK_ID: u32 = 2;
/// The video timescale players expect.
const VIDEO_TIMESCALE: u32 = 90_000;

/// The video track described by `config`. `keyframe` gives a VP9 picture
/// size, which `vpcC` does not carry.
pub(super) fn video_track(
    config: &MediaFrame,
    keyframe: Option<&MediaFrame>,
) -> Result<Fmp4Track, RecordError> {
    let info = describe(config)?;
    let size = match (info.width, info.height) {
        (Some(w), Some(h)) => Some((w, h)),
        _ if info.codec == Codec::Vp9 => keyframe.and_then(|k| codec::vp9_frame_size(&k.payload)),
        _ => None,
    };
    let (width, height) = size.ok_or(RecordError::Incomplete(info.codec))?;
    Ok(Fmp4Track {
        track_id: VIDEO_TRACK_ID,
        timescale: VIDEO_TIMESCALE,
        media: TrackMedia::Video {
            codec: info.codec,
            width,
            height,
            config: config.payload.clone(),
        },
    })
}

/// The audio track described by `config` (for MP3, any of its frames).
pub(super) fn audio_track(config: &MediaFrame) -> Result<Fmp4Track, RecordError> {
    let info = describe(config)?;
    let sample_rate = info
        .sample_rate
        .ok_or(RecordError::Incomplete(info.codec))?;
    let channels = info.channels.ok_or(RecordError::Incomplete(info.codec))?;
    Ok(Fmp4Track {
        track_id: AUDIO_TRACK_ID,
        timescale: sample_rate,
        media: TrackMedia::Audio {
            codec: info.codec,
            sample_rate,
            channels,
            config: match info.codec {
                Codec::Mp3 => Bytes::new(),
                _ => config.payload.clone(),
            },
        },
    })
}

fn describe(config: &MediaFrame) -> Result<TrackInfo, RecordError> {
    match config.codec {
        Codec::H264 | Codec::H265 | Codec::Av1 | Codec::Vp9 => {}
        Codec::Aac | Codec::Opus | Codec::Mp3 => {}
        Codec::Vvc | Codec::Script => {
            return Err(RecordError::UnsupportedCodec {
                format: "fmp4",
                codec: config.codec,
            });
        }
    }
    codec::describe(config).map_err(|source| RecordError::Config {
        codec: config.codec,
        source,
    })
}
