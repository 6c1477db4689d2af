//! The codec configuration records: `avcC`, the H.264 SPS, the AAC
//! AudioSpecificConfig, `hvcC` and the HEVC SPS, `av1C` and the AV1
//! sequence header, `vpcC`, `OpusHead` / `dOps`; and the keyframe
//! classification of frame payloads. Each decoder reads the whole input.
//!
//! Checked: an `avcC` that decodes re-encodes and decodes to the same
//! record, and its first SPS parses or is refused without panicking; an
//! SPS that decodes has a picture no larger than `MAX_PICTURE_DIMENSION`
//! either way and not empty; codec strings and the frame rate are computed
//! for everything that decodes; an Opus head that decodes writes a `dOps`
//! that decodes to the same head.
#![no_main]

use arcly_engine::Codec;
use arcly_media::codec::{
    AudioSpecificConfig, Av1CodecConfig, AvcDecoderConfig, HevcDecoderConfig, HevcSps,
    MAX_PICTURE_DIMENSION, OpusHead, Sps, VpCodecConfig, is_random_access, vp9_frame_size,
};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fn avc_decoder_config(record: &Bytes) {
    let Ok(config) = AvcDecoderConfig::decode(record) else {
        return;
    };
    config.codec_string();
    let encoded = config.encode().expect("a decoded avcC encodes");
    let again = AvcDecoderConfig::decode(&encoded).expect("an encoded avcC decodes");
    assert_eq!(again, config, "avcC round trip");
    if let Ok(Some(sps)) = config.first_sps() {
        check_sps(&sps);
    }
}

fn check_sps(sps: &Sps) {
    assert!(
        (1..=MAX_PICTURE_DIMENSION).contains(&sps.width)
            && (1..=MAX_PICTURE_DIMENSION).contains(&sps.height),
        "picture size {}x{} outside 1..={MAX_PICTURE_DIMENSION}",
        sps.width,
        sps.height
    );
    sps.frame_rate();
}

fuzz_target!(|data: &[u8]| {
    let record = Bytes::copy_from_slice(data);
    avc_decoder_config(&record);
    if let Ok(sps) = Sps::decode(data) {
        check_sps(&sps);
    }
    if let Ok(config) = AudioSpecificConfig::decode(&record) {
        config.codec_string();
    }
    if let Ok(config) = HevcDecoderConfig::decode(&record) {
        config.codec_string();
        config.frame_rate();
        let _ = config.first_sps();
        assert!(config.parameter_sets().count() <= config.arrays.iter().map(|a| a.nal_units.len()).sum());
    }
    let _ = HevcSps::decode(data);
    if let Ok(config) = Av1CodecConfig::decode(&record) {
        config.codec_string();
        if let Ok(Some(header)) = config.sequence_header() {
            header.frame_rate();
        }
    }
    if let Ok(config) = VpCodecConfig::decode(&record) {
        config.codec_string();
    }
    let _ = vp9_frame_size(data);
    if let Ok(head) = OpusHead::decode(&record) {
        let again = OpusHead::decode(&head.encode_dops()).expect("a written dOps decodes");
        assert_eq!(again, head, "OpusHead -> dOps round trip");
    }
    for codec in [Codec::H264, Codec::H265, Codec::Av1, Codec::Vp9, Codec::Vvc, Codec::Aac] {
        let _ = is_random_access(codec, data);
    }
});
