//! fMP4 tracks from a stream's config frames, built as the HLS packager
//! builds them (`Fmp4Track::video` / `audio`).

use arcly_engine::{Codec, MediaFrame};
use arcly_media::codec::{self, TrackInfo};
use arcly_media::fmp4::Fmp4Track;

use super::error::RecordError;

/// The video track described by `config`. `keyframe` gives a VP9 picture
/// size, which `vpcC` does not carry.
pub(super) fn video_track(
    config: &MediaFrame,
    keyframe: Option<&MediaFrame>,
) -> Result<Fmp4Track, RecordError> {
    let info = describe(config)?;
    let vp9_size = match info.codec {
        Codec::Vp9 => keyframe.and_then(|k| codec::vp9_frame_size(&k.payload)),
        _ => None,
    };
    Fmp4Track::video(&info, config.payload.clone(), vp9_size)
        .ok_or(RecordError::Incomplete(info.codec))
}

/// The audio track described by `config` (for MP3, any of its frames).
pub(super) fn audio_track(config: &MediaFrame) -> Result<Fmp4Track, RecordError> {
    let info = describe(config)?;
    Fmp4Track::audio(&info, config.payload.clone()).ok_or(RecordError::Incomplete(info.codec))
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
