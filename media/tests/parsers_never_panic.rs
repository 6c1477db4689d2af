//! Every parser in the crate returns `Ok` or `Err` on any input: none of them
//! panics, whatever the bytes.

use arcly_media::codec::{AudioSpecificConfig, AvcDecoderConfig, Sps};
use arcly_media::flv::{FlvReader, TagHeader, decode_audio, decode_script, decode_video};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

/// First bytes that reach every branch of the body decoders.
const VIDEO_PREFIXES: &[&[u8]] = &[
    b"\x17\x00",
    b"\x17\x01",
    b"\x27\x01",
    b"\x1c\x01",
    b"\x90hvc1",
    b"\x91hvc1",
    b"\x93hvc1",
    b"\x91av01",
    b"\x91avc1",
    b"\x96\x01hvc1",
    b"\x96\x12vp09",
    b"\x96\x21",
    b"\x97",
    b"\x97\x02",
];
const AUDIO_PREFIXES: &[&[u8]] = &[
    b"\xaf\x00",
    b"\xaf\x01",
    b"\x2f",
    b"\x90Opus",
    b"\x91mp4a",
    b"\x95\x11Opus",
    b"\x95\x21",
    b"\x97",
];

fn with_prefix(prefixes: &'static [&'static [u8]]) -> impl Strategy<Value = Bytes> {
    (
        proptest::sample::select(prefixes),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(prefix, tail)| {
            let mut body = prefix.to_vec();
            body.extend(tail);
            Bytes::from(body)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn body_decoders_never_panic(body in proptest::collection::vec(any::<u8>(), 0..128), dts in any::<i64>()) {
        let body = Bytes::from(body);
        let _ = decode_video(dts, body.clone());
        let _ = decode_audio(dts, body.clone());
        let _ = decode_script(dts, body);
    }

    #[test]
    fn video_decoder_never_panics_past_the_header(body in with_prefix(VIDEO_PREFIXES)) {
        let _ = decode_video(0, body);
    }

    #[test]
    fn audio_decoder_never_panics_past_the_header(body in with_prefix(AUDIO_PREFIXES)) {
        let _ = decode_audio(0, body);
    }

    #[test]
    fn tag_header_never_panics(bytes in any::<[u8; 11]>()) {
        let _ = TagHeader::decode(&bytes);
    }

    #[test]
    fn reader_never_panics(
        tail in proptest::collection::vec(any::<u8>(), 0..512),
        piece in 1usize..64,
        limit in 0u32..1024,
    ) {
        let mut stream = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        stream.extend(tail);
        let mut reader = FlvReader::new().with_max_tag_size(limit);
        let mut buf = BytesMut::new();
        'feed: for chunk in stream.chunks(piece) {
            buf.extend_from_slice(chunk);
            loop {
                match reader.feed(&mut buf) {
                    Ok(Some(tag)) => {
                        prop_assert!(tag.body.len() <= limit as usize);
                        let _ = tag.decode_frame();
                    }
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
    }

    #[test]
    fn codec_records_never_panic(record in proptest::collection::vec(any::<u8>(), 0..96)) {
        let record = Bytes::from(record);
        let _ = AvcDecoderConfig::decode(&record);
        let _ = AudioSpecificConfig::decode(&record);
        let _ = Sps::decode(&record);
        let mut sps = vec![0x67];
        sps.extend_from_slice(&record);
        let _ = Sps::decode(&sps);
    }

    #[test]
    fn avcc_round_trips(
        profile in any::<u8>(),
        level in any::<u8>(),
        sps in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4),
        pps in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4),
    ) {
        let config = AvcDecoderConfig {
            profile_indication: profile,
            profile_compatibility: 0,
            level_indication: level,
            length_size: 4,
            sps: sps.into_iter().map(Bytes::from).collect(),
            pps: pps.into_iter().map(Bytes::from).collect(),
            high_profile_ext: None,
        };
        let bytes = config.encode().unwrap();
        prop_assert_eq!(AvcDecoderConfig::decode(&bytes).unwrap(), config);
    }
}
