//! Every codec reader returns `Ok` or `Err` (or `None`) on any input: none
//! of them panics, whatever the bytes, and what decodes stays within the
//! documented limits.

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::codec::{
    Av1CodecConfig, Av1SequenceHeader, HevcDecoderConfig, HevcSps, MAX_PICTURE_DIMENSION, OpusHead,
    VpCodecConfig, describe, is_random_access, vp9_frame_size,
};
use bytes::Bytes;
use proptest::prelude::*;

const CODECS: [Codec; 9] = [
    Codec::H264,
    Codec::H265,
    Codec::Av1,
    Codec::Vp9,
    Codec::Vvc,
    Codec::Aac,
    Codec::Opus,
    Codec::Mp3,
    Codec::Script,
];

/// Arbitrary bytes after a prefix that gets past each reader's first check
/// (version byte, magic, marker), so the fuzzing reaches the fields behind.
fn with_prefix(prefixes: &'static [&'static [u8]]) -> impl Strategy<Value = Bytes> {
    (
        proptest::sample::select(prefixes),
        proptest::collection::vec(any::<u8>(), 0..96),
    )
        .prop_map(|(prefix, tail)| {
            let mut body = prefix.to_vec();
            body.extend(tail);
            Bytes::from(body)
        })
}

const PREFIXES: &[&[u8]] = &[
    b"",
    b"\x01",
    b"\x81",
    b"\x81\x00\x0c\x00\x0a",
    b"\x01\x00\x00\x00",
    b"OpusHead\x01",
    b"\x00\x02",
    b"\x42\x01",
    b"\x82\x49\x83\x42",
    b"\x12\x00\x0a",
    b"\x00\x00\x00\x02\x26\x01",
];

fn check_size(width: u32, height: u32) {
    assert!(
        (1..=MAX_PICTURE_DIMENSION).contains(&width)
            && (1..=MAX_PICTURE_DIMENSION).contains(&height),
        "picture size {width}x{height} outside 1..={MAX_PICTURE_DIMENSION}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn hevc_readers_never_panic(data in with_prefix(PREFIXES)) {
        if let Ok(config) = HevcDecoderConfig::decode(&data) {
            config.codec_string();
            config.parameter_sets().count();
            if let Ok(Some(sps)) = config.first_sps() {
                check_size(sps.width, sps.height);
            }
        }
        if let Ok(sps) = HevcSps::decode(&data) {
            check_size(sps.width, sps.height);
            prop_assert!(sps.width <= sps.coded_width && sps.height <= sps.coded_height);
        }
    }

    #[test]
    fn av1_readers_never_panic(data in with_prefix(PREFIXES)) {
        if let Ok(config) = Av1CodecConfig::decode(&data) {
            config.codec_string();
            let _ = config.sequence_header();
        }
        if let Ok(seq) = Av1SequenceHeader::decode(&data) {
            seq.frame_rate();
            prop_assert!(seq.max_frame_width >= 1 && seq.max_frame_width <= 1 << 16);
        }
    }

    #[test]
    fn vp9_and_opus_readers_never_panic(data in with_prefix(PREFIXES)) {
        if let Ok(config) = VpCodecConfig::decode(&data) {
            config.codec_string();
        }
        if let Some((width, height)) = vp9_frame_size(&data) {
            prop_assert!(width >= 1 && height >= 1 && width <= 1 << 16 && height <= 1 << 16);
        }
        if let Ok(head) = OpusHead::decode(&data) {
            // What decodes re-encodes as dOps and reads back the same.
            let again = OpusHead::decode(&head.encode_dops()).unwrap();
            prop_assert_eq!(again, head);
        }
    }

    #[test]
    fn describe_and_random_access_never_panic(data in with_prefix(PREFIXES)) {
        for codec in CODECS {
            let _ = is_random_access(codec, &data);
            let frame = MediaFrame {
                codec,
                dts: Timestamp::ZERO,
                pts: Timestamp::ZERO,
                flags: FrameFlags::CONFIG,
                payload: data.clone(),
            };
            if let Ok(info) = describe(&frame) {
                prop_assert_eq!(info.codec, codec);
                prop_assert!(!info.codec_string.is_empty());
            }
        }
    }
}

#[test]
fn every_prefix_of_a_real_record_is_handled() {
    let records: [&[u8]; 4] = [
        include_bytes!("data/ffmpeg_x265_320x240.hvcC"),
        include_bytes!("data/ffmpeg_libaom_320x240.av1C"),
        include_bytes!("data/ffmpeg_libvpx_vp9_320x240.vpcC"),
        include_bytes!("data/ffmpeg_libopus_5_1.dOps"),
    ];
    for record in records {
        for len in 0..=record.len() {
            let data = Bytes::copy_from_slice(&record[..len]);
            let _ = HevcDecoderConfig::decode(&data).map(|c| c.first_sps());
            let _ = Av1CodecConfig::decode(&data).map(|c| c.sequence_header());
            let _ = VpCodecConfig::decode(&data);
            let _ = OpusHead::decode(&data);
        }
    }
}
