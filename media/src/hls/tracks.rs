//! The muxers of one stream configuration: what its config frames say, as an
//! MPEG-TS muxer, one fMP4 fragmenter per track and an init segment.

use arcly_engine::{Codec, MediaFrame, TrackKind};
use bytes::Bytes;

use super::HlsError;
use crate::codec::{self, AudioSpecificConfig, AvcDecoderConfig, HevcDecoderConfig, TrackInfo};
use crate::fmp4::{self, Fmp4Track, Fragmenter};
use crate::ts::{TsAudio, TsMuxer, TsVideo};

/// A track's decoder configuration: its config frame (for MP3, which has
/// none, its first frame) and what it says.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TrackConfig {
    pub(super) frame: MediaFrame,
    pub(super) info: TrackInfo,
}

impl TrackConfig {
    /// Reads a config frame (or an MP3 frame).
    pub(super) fn read(frame: &MediaFrame) -> Result<TrackConfig, HlsError> {
        match frame.codec {
            Codec::H264 | Codec::H265 | Codec::Av1 | Codec::Vp9 => {}
            Codec::Aac | Codec::Opus | Codec::Mp3 => {}
            Codec::Vvc | Codec::Script => return Err(HlsError::UnsupportedCodec(frame.codec)),
        }
        Ok(TrackConfig {
            frame: frame.clone(),
            info: codec::describe(frame)?,
        })
    }

    /// Whether another config frame says the same.
    pub(super) fn same_as(&self, frame: &MediaFrame) -> bool {
        self.frame.codec == frame.codec
            && (frame.codec == Codec::Mp3 || self.frame.payload == frame.payload)
    }
}

/// The muxers for one configuration.
#[derive(Debug)]
pub(super) struct Muxers {
    /// `None` when MPEG-TS cannot carry a codec (AV1, VP9, Opus).
    pub(super) ts: Option<TsMuxer>,
    pub(super) video: Option<Fragmenter>,
    pub(super) audio: Option<Fragmenter>,
    pub(super) init: Bytes,
}

impl Muxers {
    /// Builds the muxers. `vp9_size` is the picture size read from the first
    /// VP9 keyframe, since `vpcC` does not carry one.
    pub(super) fn new(
        video: Option<&TrackConfig>,
        audio: Option<&TrackConfig>,
        vp9_size: Option<(u32, u32)>,
    ) -> Result<Muxers, HlsError> {
        let video_track = video.map(|v| fmp4_video(v, vp9_size)).transpose()?;
        let audio_track = audio.map(fmp4_audio).transpose()?;
        let tracks: Vec<Fmp4Track> = video_track.iter().chain(&audio_track).cloned().collect();
        let init = fmp4::init_segment(&tracks)?;
        let ts_video = video.map(ts_video).transpose()?;
        let ts_audio = audio.map(ts_audio).transpose()?;
        // Both tracks or no MPEG-TS: a rendition that drops one would play.
        let ts = match (ts_video, ts_audio) {
            (Some(None), _) | (_, Some(None)) => None,
            (v, a) => Some(TsMuxer::new(v.flatten(), a.flatten())?),
        };
        Ok(Muxers {
            ts,
            video: video_track.map(|t| Fragmenter::new(&[t])),
            audio: audio_track.map(|t| Fragmenter::new(&[t])),
            init,
        })
    }

    /// Whether frames of this track have somewhere to go.
    pub(super) fn carries(&self, track: TrackKind) -> bool {
        match track {
            TrackKind::Video => self.video.is_some(),
            TrackKind::Audio => self.audio.is_some(),
            TrackKind::Data => false,
        }
    }
}

fn fmp4_video(config: &TrackConfig, vp9_size: Option<(u32, u32)>) -> Result<Fmp4Track, HlsError> {
    let info = &config.info;
    Fmp4Track::video(info, config.frame.payload.clone(), vp9_size)
        .ok_or(HlsError::UnknownPictureSize(info.codec))
}

fn fmp4_audio(config: &TrackConfig) -> Result<Fmp4Track, HlsError> {
    let info = &config.info;
    Fmp4Track::audio(info, config.frame.payload.clone())
        .ok_or(HlsError::UnknownAudioFormat(info.codec))
}

/// The MPEG-TS video track; `Some(None)` when MPEG-TS cannot carry it.
fn ts_video(config: &TrackConfig) -> Result<Option<TsVideo>, HlsError> {
    let payload = &config.frame.payload;
    let video = match config.frame.codec {
        Codec::H264 => {
            let record = AvcDecoderConfig::decode(payload)?;
            TsVideo {
                codec: Codec::H264,
                length_size: record.length_size,
                parameter_sets: record.sps.iter().chain(&record.pps).cloned().collect(),
            }
        }
        Codec::H265 => {
            let record = HevcDecoderConfig::decode(payload)?;
            TsVideo {
                codec: Codec::H265,
                length_size: record.length_size,
                parameter_sets: record.parameter_sets().cloned().collect(),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(video))
}

/// The MPEG-TS audio track; `Some(None)` when MPEG-TS cannot carry it.
fn ts_audio(config: &TrackConfig) -> Result<Option<TsAudio>, HlsError> {
    let audio = match config.frame.codec {
        Codec::Aac => TsAudio {
            codec: Codec::Aac,
            aac: Some(AudioSpecificConfig::decode(&config.frame.payload)?),
        },
        Codec::Mp3 => TsAudio {
            codec: Codec::Mp3,
            aac: None,
        },
        _ => return Ok(None),
    };
    Ok(Some(audio))
}
