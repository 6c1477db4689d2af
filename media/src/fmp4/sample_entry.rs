//! Sample entries (`stsd` children): what a decoder needs before the first
//! sample, for every codec arcly carries in fMP4.
//!
//! - `avc1`/`avcC`, `hvc1`/`hvcC`, `av01`/`av1C`: the record of the config
//!   frame, unchanged (ISO/IEC 14496-15, AV1-ISOBMFF).
//! - `vp09`/`vpcC` (VP-Codec-ISOBMFF): a full box of version 1; the record is
//!   accepted with or without those four header bytes, since Enhanced RTMP
//!   publishers differ.
//! - `mp4a`/`esds` (ISO/IEC 14496-14 and -1): AAC with its
//!   AudioSpecificConfig, MP3 as MPEG-1 (or, below 32 kHz, MPEG-2) audio.
//! - `Opus`/`dOps` (Opus-in-ISOBMFF): from a `dOps` body or the `OpusHead`
//!   that Enhanced RTMP carries, converted to big-endian.
//!
//! `hvc1` rather than `hev1` because Apple's players want it; the parameter
//! sets in `hvcC` are what starts decoding either way.

use arcly_engine::Codec;
use bytes::Bytes;

use super::boxes::BoxWriter;
use super::{Fmp4Error, Fmp4Track, MAX_CONFIG_SIZE, TrackMedia};

/// `objectTypeIndication` of ISO/IEC 14496-1 for AAC (MPEG-4 Audio).
const OTI_MPEG4_AUDIO: u8 = 0x40;
/// `objectTypeIndication` for MPEG-1 audio (layer III at 32 to 48 kHz).
const OTI_MPEG1_AUDIO: u8 = 0x6b;
/// `objectTypeIndication` for MPEG-2 low sampling rate audio (16 to 24 kHz).
const OTI_MPEG2_AUDIO: u8 = 0x69;
/// `streamType` 5 (audio), `upStream` 0, reserved bit 1.
const AUDIO_STREAM_TYPE_BYTE: u8 = 5 << 2 | 1;

/// Descriptor tags of ISO/IEC 14496-1 7.2.2.1.
const ES_DESCR_TAG: u8 = 0x03;
const DECODER_CONFIG_DESCR_TAG: u8 = 0x04;
const DEC_SPECIFIC_INFO_TAG: u8 = 0x05;
const SL_CONFIG_DESCR_TAG: u8 = 0x06;
/// `SLConfigDescriptor.predefined` 2: the value 14496-14 requires in MP4.
const SL_PREDEFINED_MP4: u8 = 2;

/// Length of a `dOps` body without a channel mapping table.
const DOPS_LEN: usize = 11;
/// Length of an `OpusHead` without a channel mapping table.
const OPUS_HEAD_LEN: usize = 19;

/// A track's sample entry, checked and ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SampleEntry {
    /// A `VisualSampleEntry` and its configuration box.
    Visual {
        /// `avc1`, `hvc1`, `av01`, `vp09`.
        kind: [u8; 4],
        /// Picture width in pixels.
        width: u16,
        /// Picture height in pixels.
        height: u16,
        /// `avcC`, `hvcC`, `av1C`, `vpcC`.
        config_kind: [u8; 4],
        /// The full box version and flags `vpcC` starts with.
        full_box: Option<(u8, u32)>,
        /// The configuration box body.
        config: Bytes,
    },
    /// An `AudioSampleEntry` and its configuration box.
    Audio {
        /// `mp4a` or `Opus`.
        kind: [u8; 4],
        /// `channelcount`.
        channels: u16,
        /// `samplerate` as 16.16 fixed point (0 above 65535 Hz).
        sample_rate: u32,
        /// `esds` or `dOps`.
        config: AudioConfig,
    },
}

/// The configuration box of an audio sample entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AudioConfig {
    /// An `esds` with this object type and decoder-specific info (the AAC
    /// AudioSpecificConfig; empty for MP3).
    Esds {
        /// `objectTypeIndication`.
        object_type: u8,
        /// `DecoderSpecificInfo` contents.
        specific_info: Bytes,
    },
    /// A `dOps` body, big-endian.
    DOps(Bytes),
}

impl SampleEntry {
    /// Checks a track and prepares its sample entry.
    pub(crate) fn for_track(track: &Fmp4Track) -> Result<SampleEntry, Fmp4Error> {
        let track_id = track.track_id;
        match &track.media {
            TrackMedia::Video {
                codec,
                width,
                height,
                config,
            } => {
                check_config_len(track_id, config)?;
                let (Ok(w), Ok(h)) = (u16::try_from(*width), u16::try_from(*height)) else {
                    return Err(Fmp4Error::PictureTooLarge {
                        track_id,
                        width: *width,
                        height: *height,
                    });
                };
                let (kind, config_kind, full_box, config) = video_config(track_id, *codec, config)?;
                Ok(SampleEntry::Visual {
                    kind,
                    width: w,
                    height: h,
                    config_kind,
                    full_box,
                    config,
                })
            }
            TrackMedia::Audio {
                codec,
                sample_rate,
                channels,
                config,
            } => {
                check_config_len(track_id, config)?;
                let (kind, config, rate) = match codec {
                    Codec::Aac => {
                        if config.is_empty() {
                            return Err(Fmp4Error::MissingConfig {
                                track_id,
                                codec: *codec,
                            });
                        }
                        let esds = AudioConfig::Esds {
                            object_type: OTI_MPEG4_AUDIO,
                            specific_info: config.clone(),
                        };
                        (*b"mp4a", esds, *sample_rate)
                    }
                    Codec::Mp3 => {
                        let object_type = if *sample_rate >= 32_000 {
                            OTI_MPEG1_AUDIO
                        } else {
                            OTI_MPEG2_AUDIO
                        };
                        let esds = AudioConfig::Esds {
                            object_type,
                            specific_info: Bytes::new(),
                        };
                        (*b"mp4a", esds, *sample_rate)
                    }
                    // Opus-in-ISOBMFF fixes the entry's rate at 48 kHz.
                    Codec::Opus => (
                        *b"Opus",
                        AudioConfig::DOps(dops(track_id, config, *channels, *sample_rate)?),
                        48_000,
                    ),
                    codec => {
                        return Err(Fmp4Error::UnsupportedCodec {
                            track_id,
                            codec: *codec,
                            kind: "audio",
                        });
                    }
                };
                // 16.16 fixed point; rates that do not fit (88.2, 96 kHz) are
                // written as 0, as ffmpeg does, and read from the config.
                let sample_rate = if rate <= u32::from(u16::MAX) {
                    rate << 16
                } else {
                    0
                };
                Ok(SampleEntry::Audio {
                    kind,
                    channels: u16::from(*channels),
                    sample_rate,
                    config,
                })
            }
        }
    }

    /// Writes the sample entry box.
    pub(crate) fn write(&self, w: &mut BoxWriter) {
        match self {
            SampleEntry::Visual {
                kind,
                width,
                height,
                config_kind,
                full_box,
                config,
            } => w.write_box(*kind, |w| {
                sample_entry_header(w);
                w.u16(0); // pre_defined
                w.u16(0); // reserved
                w.zeros(12); // pre_defined
                w.u16(*width);
                w.u16(*height);
                w.u32(0x0048_0000); // horizresolution: 72 dpi
                w.u32(0x0048_0000); // vertresolution
                w.u32(0); // reserved
                w.u16(1); // frame_count
                w.zeros(32); // compressorname: none
                w.u16(0x0018); // depth: colour, no alpha
                w.u16(0xffff); // pre_defined = -1
                match full_box {
                    Some((version, flags)) => {
                        w.write_full_box(*config_kind, *version, *flags, |w| w.bytes(config))
                    }
                    None => w.write_box(*config_kind, |w| w.bytes(config)),
                }
            }),
            SampleEntry::Audio {
                kind,
                channels,
                sample_rate,
                config,
            } => w.write_box(*kind, |w| {
                sample_entry_header(w);
                w.zeros(8); // reserved
                w.u16(*channels);
                w.u16(16); // samplesize
                w.u16(0); // pre_defined
                w.u16(0); // reserved
                w.u32(*sample_rate);
                match config {
                    AudioConfig::Esds {
                        object_type,
                        specific_info,
                    } => write_esds(w, *object_type, specific_info),
                    AudioConfig::DOps(body) => w.write_box(*b"dOps", |w| w.bytes(body)),
                }
            }),
        }
    }
}

fn check_config_len(track_id: u32, config: &Bytes) -> Result<(), Fmp4Error> {
    if config.len() > MAX_CONFIG_SIZE {
        return Err(Fmp4Error::ConfigTooLarge {
            track_id,
            len: config.len(),
            limit: MAX_CONFIG_SIZE,
        });
    }
    Ok(())
}

/// Sample entry type, config box type, its full box header and body.
type VideoConfig = ([u8; 4], [u8; 4], Option<(u8, u32)>, Bytes);

fn video_config(track_id: u32, codec: Codec, config: &Bytes) -> Result<VideoConfig, Fmp4Error> {
    let (kind, config_kind, full_box) = match codec {
        Codec::H264 => (*b"avc1", *b"avcC", None),
        Codec::H265 => (*b"hvc1", *b"hvcC", None),
        Codec::Av1 => (*b"av01", *b"av1C", None),
        Codec::Vp9 => (*b"vp09", *b"vpcC", Some((1, 0))),
        codec => {
            return Err(Fmp4Error::UnsupportedCodec {
                track_id,
                codec,
                kind: "video",
            });
        }
    };
    if config.is_empty() {
        return Err(Fmp4Error::MissingConfig { track_id, codec });
    }
    let body = match codec {
        // configurationVersion 1, then profile, compatibility, level, the
        // length size byte and the parameter set counts.
        Codec::H264 => (config.len() >= 7 && config[0] == 1).then(|| config.clone()),
        // configurationVersion 1 and the 22 fixed bytes after it.
        Codec::H265 => (config.len() >= 23 && config[0] == 1).then(|| config.clone()),
        // marker 1 and version 1 in the first byte, then three bytes.
        Codec::Av1 => (config.len() >= 4 && config[0] == 0x81).then(|| config.clone()),
        _ => vpcc_body(config),
    };
    let body = body.ok_or(Fmp4Error::BadConfig {
        track_id,
        what: match codec {
            Codec::H264 => "avcC record",
            Codec::H265 => "hvcC record",
            Codec::Av1 => "av1C record",
            _ => "vpcC record",
        },
    })?;
    Ok((kind, config_kind, full_box, body))
}

/// The `vpcC` record after its full box header: the 8 fixed bytes and the
/// codec initialization data. ffmpeg's Enhanced RTMP writer sends the
/// version and flags too; the specification's record starts without them.
fn vpcc_body(config: &Bytes) -> Option<Bytes> {
    let init_len = |at: usize| usize::from(u16::from_be_bytes([config[at], config[at + 1]]));
    if config.len() >= 12 && config[..4] == [1, 0, 0, 0] && 12 + init_len(10) == config.len() {
        return Some(config.slice(4..));
    }
    (config.len() >= 8).then(|| config.clone())
}

/// The `dOps` body for an Opus track: `config` as it is if it is one, the
/// `OpusHead` it is converted, or, with no config, a mono or stereo default.
fn dops(track_id: u32, config: &Bytes, channels: u8, sample_rate: u32) -> Result<Bytes, Fmp4Error> {
    let bad = |what| Fmp4Error::BadConfig { track_id, what };
    if config.is_empty() {
        if !(1..=2).contains(&channels) {
            return Err(Fmp4Error::MissingConfig {
                track_id,
                codec: Codec::Opus,
            });
        }
        let mut body = vec![0, channels, 0, 0];
        body.extend_from_slice(&sample_rate.to_be_bytes());
        body.extend_from_slice(&[0, 0, 0]);
        return Ok(Bytes::from(body));
    }
    if let Some(head) = config.strip_prefix(b"OpusHead") {
        if config.len() < OPUS_HEAD_LEN {
            return Err(bad("opus head"));
        }
        let channel_count = head[1];
        let family = head[10];
        let mapping_len = if family == 0 {
            0
        } else {
            2 + usize::from(channel_count)
        };
        let mapping = head
            .get(11..11 + mapping_len)
            .ok_or(bad("opus head channel mapping"))?;
        let mut body = Vec::with_capacity(DOPS_LEN + mapping_len);
        body.push(0); // Version
        body.push(channel_count);
        body.extend_from_slice(&[head[3], head[2]]); // PreSkip
        body.extend_from_slice(&[head[7], head[6], head[5], head[4]]); // InputSampleRate
        body.extend_from_slice(&[head[9], head[8]]); // OutputGain
        body.push(family);
        body.extend_from_slice(mapping);
        return Ok(Bytes::from(body));
    }
    if config.len() < DOPS_LEN || config[0] != 0 {
        return Err(bad("dOps record"));
    }
    let family = config[10];
    let len = if family == 0 {
        DOPS_LEN
    } else {
        DOPS_LEN + 2 + usize::from(config[1])
    };
    if config.len() < len {
        return Err(bad("dOps channel mapping"));
    }
    Ok(config.slice(..len))
}

/// The fields every sample entry starts with.
fn sample_entry_header(w: &mut BoxWriter) {
    w.zeros(6); // reserved
    w.u16(1); // data_reference_index: the one `dref` entry
}

/// An `esds` box: `ES_Descriptor` { `DecoderConfigDescriptor` {
/// `DecoderSpecificInfo` }, `SLConfigDescriptor` }.
fn write_esds(w: &mut BoxWriter, object_type: u8, specific_info: &[u8]) {
    let dsi_len = if specific_info.is_empty() {
        0
    } else {
        descriptor_len(specific_info.len())
    };
    // objectTypeIndication, streamType byte, bufferSizeDB, max and avg
    // bitrate, then the DecoderSpecificInfo.
    let dcd_body = 1 + 1 + 3 + 4 + 4 + dsi_len;
    // ES_ID and flags, the DecoderConfigDescriptor, the SLConfigDescriptor.
    let es_body = 2 + 1 + descriptor_len(dcd_body) + 3;
    w.write_full_box(*b"esds", 0, 0, |w| {
        descriptor_header(w, ES_DESCR_TAG, es_body);
        // ES_ID 0, as 14496-14 asks of a stored stream; no dependence, URL
        // or OCR stream; priority 0.
        w.u16(0);
        w.u8(0);
        descriptor_header(w, DECODER_CONFIG_DESCR_TAG, dcd_body);
        w.u8(object_type);
        w.u8(AUDIO_STREAM_TYPE_BYTE);
        // bufferSizeDB, maxBitrate and avgBitrate are unknown to a live
        // muxer; 0 is what the standard allows for "not known".
        w.u24(0);
        w.u32(0);
        w.u32(0);
        if !specific_info.is_empty() {
            descriptor_header(w, DEC_SPECIFIC_INFO_TAG, specific_info.len());
            w.bytes(specific_info);
        }
        descriptor_header(w, SL_CONFIG_DESCR_TAG, 1);
        w.u8(SL_PREDEFINED_MP4);
    });
}

/// Bytes a descriptor takes: tag, size field and body.
fn descriptor_len(body: usize) -> usize {
    1 + size_field_len(body) + body
}

/// Bytes of the expandable size field (7 bits a byte) for `size`.
fn size_field_len(size: usize) -> usize {
    match size {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        0x4000..0x20_0000 => 3,
        _ => 4,
    }
}

fn descriptor_header(w: &mut BoxWriter, tag: u8, size: usize) {
    w.u8(tag);
    let len = size_field_len(size);
    for i in (0..len).rev() {
        // Bodies are bounded by MAX_CONFIG_SIZE, far below 2^28.
        let group = ((size >> (7 * i)) & 0x7f) as u8;
        w.u8(if i == 0 { group } else { group | 0x80 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_bytes(track: &Fmp4Track) -> Vec<u8> {
        let mut w = BoxWriter::with_capacity(0);
        SampleEntry::for_track(track).unwrap().write(&mut w);
        w.finish().to_vec()
    }

    fn video(codec: Codec, config: &[u8]) -> Fmp4Track {
        Fmp4Track {
            track_id: 1,
            timescale: 90_000,
            media: TrackMedia::Video {
                codec,
                width: 320,
                height: 240,
                config: Bytes::copy_from_slice(config),
            },
        }
    }

    fn audio(codec: Codec, sample_rate: u32, channels: u8, config: &[u8]) -> Fmp4Track {
        Fmp4Track {
            track_id: 2,
            timescale: sample_rate,
            media: TrackMedia::Audio {
                codec,
                sample_rate,
                channels,
                config: Bytes::copy_from_slice(config),
            },
        }
    }

    /// The 78-byte `VisualSampleEntry` fields for 320x240.
    fn visual_header() -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0, 0, 0, 0, 1];
        v.extend([0; 16]);
        v.extend([0x01, 0x40, 0x00, 0xf0]);
        v.extend([0, 0x48, 0, 0, 0, 0x48, 0, 0, 0, 0, 0, 0, 0, 1]);
        v.extend([0; 32]);
        v.extend([0, 0x18, 0xff, 0xff]);
        v
    }

    #[test]
    fn writes_avc1_with_the_record_unchanged() {
        let avcc: &[u8] = &[1, 0x64, 0, 0x0d, 0xff, 0xe0, 0];
        let out = entry_bytes(&video(Codec::H264, avcc));
        let mut expected = vec![0, 0, 0, 101];
        expected.extend(b"avc1");
        expected.extend(visual_header());
        expected.extend([0, 0, 0, 15]);
        expected.extend(b"avcC");
        expected.extend(avcc);
        assert_eq!(out, expected);
    }

    #[test]
    fn writes_hvc1_and_av01() {
        let mut hvcc = [0u8; 23];
        hvcc[0] = 1;
        let out = entry_bytes(&video(Codec::H265, &hvcc));
        assert_eq!(&out[4..8], b"hvc1");
        assert_eq!(&out[86..94], b"\0\0\0\x1fhvcC");
        assert_eq!(&out[94..], &hvcc[..]);

        let out = entry_bytes(&video(Codec::Av1, b"\x81\x00\x0c\x00"));
        assert_eq!(&out[86..], b"\0\0\0\x0cav1C\x81\x00\x0c\x00");
    }

    #[test]
    fn writes_vpcc_as_a_version_1_full_box_either_way() {
        let record: &[u8] = b"\x00\x1f\x80\x02\x02\x02\x00\x00";
        let bare = entry_bytes(&video(Codec::Vp9, record));
        assert_eq!(&bare[4..8], b"vp09");
        assert_eq!(
            &bare[86..],
            b"\0\0\0\x14vpcC\x01\0\0\0\x00\x1f\x80\x02\x02\x02\x00\x00"
        );
        let with_header = entry_bytes(&video(
            Codec::Vp9,
            b"\x01\0\0\0\x00\x1f\x80\x02\x02\x02\x00\x00",
        ));
        assert_eq!(bare, with_header);
    }

    #[test]
    fn writes_mp4a_with_a_complete_esds() {
        let out = entry_bytes(&audio(Codec::Aac, 44_100, 1, &[0x12, 0x08]));
        let mut expected = vec![0, 0, 0, 75];
        expected.extend(b"mp4a");
        expected.extend([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend([0, 1, 0, 16, 0, 0, 0, 0, 0xac, 0x44, 0, 0]);
        expected.extend([0, 0, 0, 39]);
        expected.extend(b"esds");
        expected.extend([0, 0, 0, 0]);
        // ES_Descriptor: 25 bytes, ES_ID 0, flags 0.
        expected.extend([0x03, 25, 0, 0, 0]);
        // DecoderConfigDescriptor: AAC, audio stream, no buffer or bitrates.
        expected.extend([0x04, 17, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        // DecSpecificInfo: the AudioSpecificConfig.
        expected.extend([0x05, 2, 0x12, 0x08]);
        // SLConfigDescriptor: predefined 2.
        expected.extend([0x06, 1, 2]);
        assert_eq!(out, expected);
    }

    #[test]
    fn writes_mp3_without_specific_info() {
        let out = entry_bytes(&audio(Codec::Mp3, 44_100, 2, b""));
        assert_eq!(
            &out[36..],
            &[
                0, 0, 0, 35, b'e', b's', b'd', b's', 0, 0, 0, 0, 0x03, 21, 0, 0, 0, 0x04, 13, 0x6b,
                0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x06, 1, 2
            ][..]
        );
        let out = entry_bytes(&audio(Codec::Mp3, 22_050, 2, b""));
        assert_eq!(out[55], 0x69);
    }

    #[test]
    fn writes_long_descriptor_sizes_in_several_bytes() {
        let mut w = BoxWriter::with_capacity(0);
        descriptor_header(&mut w, 5, 0x80);
        descriptor_header(&mut w, 5, 0x4000);
        descriptor_header(&mut w, 5, 0x7f);
        assert_eq!(
            &w.finish()[..],
            &[5, 0x81, 0x00, 5, 0x81, 0x80, 0x00, 5, 0x7f]
        );
    }

    #[test]
    fn converts_opus_head_to_dops() {
        // OpusHead: version 1, stereo, pre-skip 312, 48 kHz, gain 0, family 0.
        let head: &[u8] = b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
        let out = entry_bytes(&audio(Codec::Opus, 48_000, 2, head));
        assert_eq!(&out[4..8], b"Opus");
        // The entry's rate is 48 kHz whatever the input rate.
        assert_eq!(&out[32..36], &[0xbb, 0x80, 0, 0]);
        assert_eq!(
            &out[36..],
            b"\0\0\0\x13dOps\x00\x02\x01\x38\x00\x00\xbb\x80\x00\x00\x00"
        );
        // A dOps body is kept; no config gives the default.
        let dops_body: &[u8] = b"\x00\x02\x01\x38\x00\x00\xbb\x80\x00\x00\x00";
        assert_eq!(entry_bytes(&audio(Codec::Opus, 48_000, 2, dops_body)), out);
        let default = entry_bytes(&audio(Codec::Opus, 48_000, 2, b""));
        assert_eq!(
            &default[44..],
            b"\x00\x02\x00\x00\x00\x00\xbb\x80\x00\x00\x00"
        );
    }

    #[test]
    fn keeps_opus_channel_mapping_tables() {
        // Family 1, 3 channels: stream count, coupled count, 3 mapping bytes.
        let head: &[u8] =
            b"OpusHead\x01\x03\x00\x00\x80\xbb\x00\x00\x00\x00\x01\x02\x01\x00\x02\x01";
        let out = entry_bytes(&audio(Codec::Opus, 48_000, 3, head));
        assert_eq!(
            &out[44..],
            b"\x00\x03\x00\x00\x00\x00\xbb\x80\x00\x00\x01\x02\x01\x00\x02\x01"
        );
        let short = &head[..head.len() - 1];
        let track = audio(Codec::Opus, 48_000, 3, short);
        assert!(matches!(
            SampleEntry::for_track(&track),
            Err(Fmp4Error::BadConfig { .. })
        ));
    }

    #[test]
    fn refuses_what_it_cannot_describe() {
        let err = |track: Fmp4Track| SampleEntry::for_track(&track).unwrap_err();
        assert_eq!(
            err(video(Codec::H264, b"")),
            Fmp4Error::MissingConfig {
                track_id: 1,
                codec: Codec::H264
            }
        );
        assert!(matches!(
            err(video(Codec::H264, b"\x00\x64\x00\x0d\xff\xe0\x00")),
            Fmp4Error::BadConfig { .. }
        ));
        assert!(matches!(
            err(video(Codec::H265, b"\x01\x01")),
            Fmp4Error::BadConfig { .. }
        ));
        assert!(matches!(
            err(video(Codec::Av1, b"\x01\x00\x00\x00")),
            Fmp4Error::BadConfig { .. }
        ));
        assert!(matches!(
            err(video(Codec::Vp9, b"\x00\x1f")),
            Fmp4Error::BadConfig { .. }
        ));
        assert!(matches!(
            err(video(Codec::Vvc, b"\x01")),
            Fmp4Error::UnsupportedCodec { kind: "video", .. }
        ));
        assert!(matches!(
            err(video(Codec::Aac, b"\x12\x08")),
            Fmp4Error::UnsupportedCodec { kind: "video", .. }
        ));
        assert!(matches!(
            err(audio(Codec::H264, 48_000, 2, b"\x01")),
            Fmp4Error::UnsupportedCodec { kind: "audio", .. }
        ));
        assert!(matches!(
            err(audio(Codec::Aac, 48_000, 2, b"")),
            Fmp4Error::MissingConfig { .. }
        ));
        assert!(matches!(
            err(audio(Codec::Opus, 48_000, 6, b"")),
            Fmp4Error::MissingConfig { .. }
        ));
        assert!(matches!(
            err(audio(Codec::Opus, 48_000, 2, b"\x01\x02")),
            Fmp4Error::BadConfig { .. }
        ));

        let mut big = video(Codec::H264, b"\x01\x64\x00\x0d\xff\xe0\x00");
        if let TrackMedia::Video { width, .. } = &mut big.media {
            *width = 70_000;
        }
        assert!(matches!(
            err(big),
            Fmp4Error::PictureTooLarge { width: 70_000, .. }
        ));
        let mut huge = video(Codec::H264, b"");
        if let TrackMedia::Video { config, .. } = &mut huge.media {
            *config = Bytes::from(vec![1; MAX_CONFIG_SIZE + 1]);
        }
        assert!(matches!(err(huge), Fmp4Error::ConfigTooLarge { .. }));
    }

    #[test]
    fn writes_zero_for_rates_above_16_bits() {
        let out = entry_bytes(&audio(Codec::Aac, 96_000, 2, &[0x10, 0x10]));
        assert_eq!(&out[32..36], &[0, 0, 0, 0]);
    }
}
