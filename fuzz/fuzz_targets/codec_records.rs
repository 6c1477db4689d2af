//! The codec configuration records: `avcC`, the H.264 SPS and the AAC
//! AudioSpecificConfig. Each decoder reads the whole input.
//!
//! Checked: an `avcC` that decodes re-encodes and decodes to the same
//! record, and its first SPS parses or is refused without panicking; an
//! SPS that decodes has a picture no larger than `MAX_PICTURE_DIMENSION`
//! either way and not empty; codec strings and the frame rate are computed
//! for everything that decodes.
#![no_main]

use arcly_media::codec::{AudioSpecificConfig, AvcDecoderConfig, MAX_PICTURE_DIMENSION, Sps};
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
});
