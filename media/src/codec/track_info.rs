//! One description of a track, whatever its codec: what playlists
//! (`CODECS`, `RESOLUTION`, `FRAME-RATE`), the API and the muxers need.

use arcly_engine::{Codec, MediaFrame};

use super::{
    AudioSpecificConfig, Av1CodecConfig, AvcDecoderConfig, CodecError, HevcDecoderConfig,
    OPUS_SAMPLE_RATE, OpusHead, VpCodecConfig,
};

/// The codec string HLS uses for MP3 (Apple's `mp4a` object type 34).
const MP3_CODEC_STRING: &str = "mp4a.40.34";

/// A track's codec string, picture size, frame rate and audio format.
///
/// A field is `None` when the config does not carry it: VP9's `vpcC` has no
/// picture size, few encoders write a frame rate, MP3 has no config record.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackInfo {
    /// The codec.
    pub codec: Codec,
    /// The RFC 6381 codec string (`avc1.64001f`, `hvc1.1.6.L93.B0`,
    /// `av01.0.08M.08`, `vp09.00.10.08`, `mp4a.40.2`, `opus`).
    pub codec_string: String,
    /// Displayed width in pixels.
    pub width: Option<u32>,
    /// Displayed height in pixels.
    pub height: Option<u32>,
    /// Frames per second.
    pub frame_rate: Option<f64>,
    /// Audio samples per second (Opus always plays at 48 kHz; AAC gives the
    /// core decoder's rate).
    pub sample_rate: Option<u32>,
    /// Audio channels.
    pub channels: Option<u8>,
}

impl TrackInfo {
    fn new(codec: Codec, codec_string: String) -> Self {
        TrackInfo {
            codec,
            codec_string,
            width: None,
            height: None,
            frame_rate: None,
            sample_rate: None,
            channels: None,
        }
    }

    fn with_size(mut self, width: u32, height: u32) -> Self {
        (self.width, self.height) = (Some(width), Some(height));
        self
    }
}

/// Describes a track from its config frame: the decoder configuration
/// record of the frame's codec, read per the [`Codec`] payload conventions
/// (`avcC`, `hvcC`, `av1C`, `vpcC`, AudioSpecificConfig, `OpusHead` or
/// `dOps`). H.264, H.265 and AV1 sizes come from the first SPS or the
/// sequence header inside the record.
///
/// MP3 has no config: any MP3 frame may be passed, and its header gives the
/// sample rate and channels if it parses.
///
/// Refused: a record or parameter set that does not parse, and codecs
/// without a reader here (VVC, script data).
pub fn describe(config: &MediaFrame) -> Result<TrackInfo, CodecError> {
    let payload = &config.payload;
    let codec = config.codec;
    let info = match codec {
        Codec::H264 => {
            let record = AvcDecoderConfig::decode(payload)?;
            let info = TrackInfo::new(codec, record.codec_string());
            match record.first_sps()? {
                Some(sps) => TrackInfo {
                    frame_rate: sps.frame_rate(),
                    ..info.with_size(sps.width, sps.height)
                },
                None => info,
            }
        }
        Codec::H265 => {
            let record = HevcDecoderConfig::decode(payload)?;
            let info = TrackInfo {
                frame_rate: record.frame_rate(),
                ..TrackInfo::new(codec, record.codec_string())
            };
            match record.first_sps()? {
                Some(sps) => info.with_size(sps.width, sps.height),
                None => info,
            }
        }
        Codec::Av1 => {
            let record = Av1CodecConfig::decode(payload)?;
            let info = TrackInfo::new(codec, record.codec_string());
            match record.sequence_header()? {
                Some(seq) => TrackInfo {
                    frame_rate: seq.frame_rate(),
                    ..info.with_size(seq.max_frame_width, seq.max_frame_height)
                },
                None => info,
            }
        }
        Codec::Vp9 => TrackInfo::new(codec, VpCodecConfig::decode(payload)?.codec_string()),
        Codec::Aac => {
            let asc = AudioSpecificConfig::decode(payload)?;
            TrackInfo {
                sample_rate: Some(asc.sampling_frequency),
                channels: aac_channels(asc.channel_configuration),
                ..TrackInfo::new(codec, asc.codec_string())
            }
        }
        Codec::Opus => {
            let head = OpusHead::decode(payload)?;
            TrackInfo {
                sample_rate: Some(OPUS_SAMPLE_RATE),
                channels: Some(head.channels),
                ..TrackInfo::new(codec, head.codec_string())
            }
        }
        Codec::Mp3 => {
            let header = mp3_header(payload);
            TrackInfo {
                sample_rate: header.map(|(rate, _)| rate),
                channels: header.map(|(_, channels)| channels),
                ..TrackInfo::new(codec, MP3_CODEC_STRING.to_owned())
            }
        }
        Codec::Vvc | Codec::Script => return Err(CodecError::UnsupportedCodec(codec)),
    };
    Ok(info)
}

/// Channels of an AAC `channelConfiguration` (ISO/IEC 14496-3 Table 1.19,
/// with the 23001-8 additions); `None` for 0 (a program config element
/// decides) and reserved values.
fn aac_channels(configuration: u8) -> Option<u8> {
    match configuration {
        1..=6 => Some(configuration),
        7 | 12 | 14 => Some(8),
        11 => Some(7),
        13 => Some(24),
        _ => None,
    }
}

/// Sample rate and channels from an MPEG audio frame header (ISO/IEC
/// 11172-3 2.4.1.3, with the MPEG-2 and 2.5 rates); `None` if `frame` does
/// not start with a valid one.
fn mp3_header(frame: &[u8]) -> Option<(u32, u8)> {
    let header = frame.get(..4)?;
    if header[0] != 0xff || header[1] & 0xe0 != 0xe0 {
        return None;
    }
    let divisor = match (header[1] >> 3) & 0x03 {
        0b11 => 1, // MPEG-1
        0b10 => 2, // MPEG-2
        0b00 => 4, // MPEG-2.5
        _ => return None,
    };
    if (header[1] >> 1) & 0x03 == 0 {
        return None; // reserved layer
    }
    let rate = [44_100, 48_000, 32_000].get(usize::from((header[2] >> 2) & 0x03))?;
    let channels = if header[3] >> 6 == 0b11 { 1 } else { 2 };
    Some((rate / divisor, channels))
}

#[cfg(test)]
mod tests {
    use arcly_engine::{FrameFlags, Timestamp};
    use bytes::Bytes;

    use super::*;

    fn config(codec: Codec, payload: &'static [u8]) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags: FrameFlags::CONFIG,
            payload: Bytes::from_static(payload),
        }
    }

    /// The `avcC` x264 wrote for 320x240 High profile level 1.3 at 25 fps.
    const X264_AVCC: &[u8] = &[
        0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41,
        0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1,
        0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8,
        0x00,
    ];

    #[test]
    fn describes_h264() {
        let info = describe(&config(Codec::H264, X264_AVCC)).unwrap();
        assert_eq!(
            info,
            TrackInfo {
                codec: Codec::H264,
                codec_string: "avc1.64000d".to_owned(),
                width: Some(320),
                height: Some(240),
                frame_rate: Some(25.0),
                sample_rate: None,
                channels: None,
            }
        );
        // A record without an SPS still names the codec.
        let bare = describe(&config(
            Codec::H264,
            &[1, 0x42, 0xc0, 0x1e, 0xff, 0xe0, 0x00],
        ))
        .unwrap();
        assert_eq!(bare.codec_string, "avc1.42c01e");
        assert_eq!(bare.width, None);
    }

    #[test]
    fn describes_audio() {
        let aac = describe(&config(Codec::Aac, &[0x12, 0x10])).unwrap();
        assert_eq!(aac.codec_string, "mp4a.40.2");
        assert_eq!((aac.sample_rate, aac.channels), (Some(44_100), Some(2)));
        assert_eq!((aac.width, aac.frame_rate), (None, None));

        let opus = describe(&config(
            Codec::Opus,
            b"\x00\x01\x00\x00\x00\x00\x3e\x80\x00\x00\x00",
        ))
        .unwrap();
        assert_eq!(opus.codec_string, "opus");
        assert_eq!((opus.sample_rate, opus.channels), (Some(48_000), Some(1)));

        // MPEG-1 Layer III, 128 kb/s, 44.1 kHz, joint stereo.
        let mp3 = describe(&config(Codec::Mp3, &[0xff, 0xfb, 0x90, 0x44, 0x00])).unwrap();
        assert_eq!(mp3.codec_string, "mp4a.40.34");
        assert_eq!((mp3.sample_rate, mp3.channels), (Some(44_100), Some(2)));
        let empty = describe(&config(Codec::Mp3, &[])).unwrap();
        assert_eq!((empty.sample_rate, empty.channels), (None, None));
    }

    #[test]
    fn describes_video_without_size() {
        let vp9 = describe(&config(
            Codec::Vp9,
            &[1, 0, 0, 0, 0, 10, 0x82, 2, 2, 2, 0, 0],
        ))
        .unwrap();
        assert_eq!(vp9.codec_string, "vp09.00.10.08");
        assert_eq!((vp9.width, vp9.height), (None, None));
        let av1 = describe(&config(Codec::Av1, &[0x81, 0x08, 0x0c, 0x00])).unwrap();
        assert_eq!(av1.codec_string, "av01.0.08M.08");
        assert_eq!(av1.width, None);
    }

    #[test]
    fn refuses_unknown_and_bad_configs() {
        assert_eq!(
            describe(&config(Codec::Vvc, &[1])),
            Err(CodecError::UnsupportedCodec(Codec::Vvc))
        );
        assert!(describe(&config(Codec::Script, &[])).is_err());
        assert!(describe(&config(Codec::H264, &[1, 0x64])).is_err());
        assert!(describe(&config(Codec::H265, &[1])).is_err());
        assert!(describe(&config(Codec::Aac, &[])).is_err());
    }

    #[test]
    fn reads_mp3_headers() {
        assert_eq!(mp3_header(&[0xff, 0xfb, 0x90, 0xc4]), Some((44_100, 1)));
        // MPEG-2 at 24 kHz, MPEG-2.5 at 8 kHz.
        assert_eq!(mp3_header(&[0xff, 0xf3, 0x94, 0x00]), Some((24_000, 2)));
        assert_eq!(mp3_header(&[0xff, 0xe3, 0x98, 0x00]), Some((8_000, 2)));
        // Reserved version, reserved layer, reserved rate, no sync.
        assert_eq!(mp3_header(&[0xff, 0xeb, 0x90, 0x00]), None);
        assert_eq!(mp3_header(&[0xff, 0xf9, 0x90, 0x00]), None);
        assert_eq!(mp3_header(&[0xff, 0xfb, 0x9c, 0x00]), None);
        assert_eq!(mp3_header(&[0x49, 0x44, 0x33, 0x04]), None);
    }
}
