//! The config records ffmpeg 5.1 muxed into MP4 for x265, libaom, SVT-AV1,
//! libvpx-vp9 and libopus (see `data/README.md`) decode to the sizes ffprobe
//! reports and to the codec strings the specifications give.
//!
//! Reference codec strings: ffmpeg's DASH muxer writes `av01.0.00M.08`,
//! `av01.0.00M.10`, `vp09.00.20.08` and `vp09.02.20.10` for these files
//! (`ffmpeg -i in.mp4 -c copy -f dash out.mpd`). For HEVC it writes no full
//! string, so the expected ones follow ISO/IEC 14496-15 E.3 (as Shaka
//! Packager implements it): x265 Main signals compatibility flags 1 and 2
//! (`0x60000000`, reversed `0x6`), Main 10 flag 2 (`0x4`), progressive and
//! frame-only constraint bits (`0x90`), and ffprobe reports level 60 (2.0)
//! and 93 (3.1).

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::codec::{
    Av1CodecConfig, HevcDecoderConfig, OpusHead, TrackInfo, VpCodecConfig, describe, vp9_frame_size,
};
use bytes::Bytes;

const X265_320X240: &[u8] = include_bytes!("data/ffmpeg_x265_320x240.hvcC");
const X265_320X180: &[u8] = include_bytes!("data/ffmpeg_x265_320x180.hvcC");
const X265_MAIN10_720P: &[u8] = include_bytes!("data/ffmpeg_x265_main10_1280x720.hvcC");
const LIBAOM: &[u8] = include_bytes!("data/ffmpeg_libaom_320x240.av1C");
const LIBAOM_10BIT: &[u8] = include_bytes!("data/ffmpeg_libaom_10bit_320x240.av1C");
const SVTAV1: &[u8] = include_bytes!("data/ffmpeg_svtav1_320x240.av1C");
const VP9: &[u8] = include_bytes!("data/ffmpeg_libvpx_vp9_320x240.vpcC");
const VP9_KEY: &[u8] = include_bytes!("data/ffmpeg_libvpx_vp9_320x240.keyframe");
const VP9_INTER: &[u8] = include_bytes!("data/ffmpeg_libvpx_vp9_320x240.interframe");
const VP9_10BIT: &[u8] = include_bytes!("data/ffmpeg_libvpx_vp9_10bit_320x240.vpcC");
const VP9_10BIT_KEY: &[u8] = include_bytes!("data/ffmpeg_libvpx_vp9_10bit_320x240.keyframe");
const OPUS_STEREO: &[u8] = include_bytes!("data/ffmpeg_libopus_stereo.dOps");
const OPUS_5_1: &[u8] = include_bytes!("data/ffmpeg_libopus_5_1.dOps");
const OPUS_HEAD: &[u8] = include_bytes!("data/ffmpeg_libopus_stereo.OpusHead");

fn config_frame(codec: Codec, payload: &'static [u8]) -> MediaFrame {
    MediaFrame {
        codec,
        dts: Timestamp::ZERO,
        pts: Timestamp::ZERO,
        flags: FrameFlags::CONFIG | FrameFlags::KEYFRAME,
        payload: Bytes::from_static(payload),
    }
}

fn nal_type(nal: &Bytes) -> u8 {
    (nal[0] >> 1) & 0x3f
}

#[test]
fn x265_main_record() {
    let record = Bytes::from_static(X265_320X240);
    let config = HevcDecoderConfig::decode(&record).unwrap();
    assert_eq!(config.version, 1);
    assert_eq!(
        (config.general_profile_idc, config.general_level_idc),
        (1, 60)
    );
    assert_eq!(config.general_profile_compatibility_flags, 0x6000_0000);
    assert_eq!(config.codec_string(), "hvc1.1.6.L60.90");
    assert_eq!(config.length_size, 4);
    assert_eq!((config.bit_depth_luma, config.chroma_format), (8, 1));
    // x265 adds its settings as an SEI array, which is no parameter set.
    let types: Vec<u8> = config.arrays.iter().map(|a| a.nal_unit_type).collect();
    assert_eq!(types, [32, 33, 34, 39]);
    let sets: Vec<u8> = config.parameter_sets().map(nal_type).collect();
    assert_eq!(sets, [32, 33, 34]);
    // Zero-copy: the SPS lies inside the record's buffer.
    let sps_nal = config.nal_units(33).next().unwrap();
    let start = sps_nal.as_ptr() as usize - record.as_ptr() as usize;
    assert!(start + sps_nal.len() <= record.len());

    let sps = config.first_sps().unwrap().unwrap();
    assert_eq!((sps.width, sps.height), (320, 240));
    assert_eq!((sps.profile_idc, sps.level_idc), (1, 60));
    assert_eq!(sps.bit_depth_luma, 8);
}

#[test]
fn x265_conformance_window_crops_to_180_lines() {
    let config = HevcDecoderConfig::decode(&Bytes::from_static(X265_320X180)).unwrap();
    let sps = config.first_sps().unwrap().unwrap();
    // Coded in whole 8x8 blocks: 184 lines, 4 cropped at the bottom.
    assert_eq!((sps.coded_width, sps.coded_height), (320, 184));
    assert_eq!((sps.width, sps.height), (320, 180));
}

#[test]
fn x265_main10_record() {
    let config = HevcDecoderConfig::decode(&Bytes::from_static(X265_MAIN10_720P)).unwrap();
    assert_eq!(config.codec_string(), "hvc1.2.4.L93.90");
    assert_eq!((config.bit_depth_luma, config.bit_depth_chroma), (10, 10));
    let sps = config.first_sps().unwrap().unwrap();
    assert_eq!((sps.width, sps.height), (1280, 720));
    assert_eq!((sps.bit_depth_luma, sps.bit_depth_chroma), (10, 10));
}

#[test]
fn av1_records_from_libaom_and_svtav1() {
    for (record, codec_string, bit_depth) in [
        (LIBAOM, "av01.0.00M.08", 8),
        (LIBAOM_10BIT, "av01.0.00M.10", 10),
        (SVTAV1, "av01.0.00M.08", 8),
    ] {
        let config = Av1CodecConfig::decode(&Bytes::from_static(record)).unwrap();
        assert_eq!(config.codec_string(), codec_string);
        let seq = config.sequence_header().unwrap().unwrap();
        assert_eq!((seq.max_frame_width, seq.max_frame_height), (320, 240));
        // The sequence header agrees with the record's summary of it.
        assert_eq!(seq.seq_profile, config.seq_profile);
        assert_eq!(seq.seq_level_idx_0, config.seq_level_idx_0);
        assert_eq!(seq.color.bit_depth, bit_depth);
        assert_eq!(config.bit_depth(), bit_depth);
        assert_eq!(
            (seq.color.subsampling_x, seq.color.subsampling_y),
            (config.chroma_subsampling_x, config.chroma_subsampling_y)
        );
    }
}

#[test]
fn vp9_records_and_key_frame_sizes() {
    let config = VpCodecConfig::decode(&Bytes::from_static(VP9)).unwrap();
    // Level 2: 320x240 is above level 1.1's 73,728 luma samples.
    assert_eq!(config.codec_string(), "vp09.00.20.08");
    assert_eq!(vp9_frame_size(VP9_KEY), Some((320, 240)));
    assert_eq!(vp9_frame_size(VP9_INTER), None);

    let config = VpCodecConfig::decode(&Bytes::from_static(VP9_10BIT)).unwrap();
    assert_eq!(config.codec_string(), "vp09.02.20.10");
    assert_eq!(vp9_frame_size(VP9_10BIT_KEY), Some((320, 240)));
}

#[test]
fn opus_headers_in_both_encodings() {
    let dops = Bytes::from_static(OPUS_STEREO);
    let head = OpusHead::decode(&dops).unwrap();
    assert_eq!((head.channels, head.pre_skip), (2, 312));
    assert_eq!(head.input_sample_rate, 48_000);
    assert_eq!(head.mapping, None);
    assert_eq!(head.encode_dops(), dops);

    let surround = Bytes::from_static(OPUS_5_1);
    let head = OpusHead::decode(&surround).unwrap();
    assert_eq!((head.channels, head.mapping_family), (6, 1));
    assert_eq!(head.encode_dops(), surround);

    // The Ogg identification header of the same encoder carries the same
    // fields, little-endian behind a magic: written as dOps it is the MP4 box.
    let head = OpusHead::decode(&Bytes::from_static(OPUS_HEAD)).unwrap();
    assert_eq!(
        (head.channels, head.pre_skip, head.input_sample_rate),
        (2, 312, 48_000)
    );
    assert_eq!(head.encode_dops(), dops);
}

#[test]
fn describe_reads_every_config() {
    let video = |codec, codec_string: &str| TrackInfo {
        codec,
        codec_string: codec_string.to_owned(),
        width: Some(320),
        height: Some(240),
        frame_rate: None,
        sample_rate: None,
        channels: None,
    };
    let cases = [
        (
            config_frame(Codec::H265, X265_320X240),
            video(Codec::H265, "hvc1.1.6.L60.90"),
        ),
        (
            config_frame(Codec::Av1, LIBAOM),
            video(Codec::Av1, "av01.0.00M.08"),
        ),
        (
            config_frame(Codec::Av1, SVTAV1),
            video(Codec::Av1, "av01.0.00M.08"),
        ),
        (
            config_frame(Codec::Vp9, VP9),
            TrackInfo {
                width: None,
                height: None,
                ..video(Codec::Vp9, "vp09.00.20.08")
            },
        ),
        (
            config_frame(Codec::Opus, OPUS_5_1),
            TrackInfo {
                codec: Codec::Opus,
                codec_string: "opus".to_owned(),
                width: None,
                height: None,
                frame_rate: None,
                sample_rate: Some(48_000),
                channels: Some(6),
            },
        ),
    ];
    for (frame, expected) in cases {
        assert_eq!(describe(&frame).unwrap(), expected, "{}", frame.codec);
    }
}
