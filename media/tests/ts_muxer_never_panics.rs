//! Whatever tracks it is built with and whatever frames it is pushed, the
//! MPEG-TS muxer returns `Ok` or `Err` without panicking, writes only whole
//! packets, and writes nothing for a frame it refuses.

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::codec::AudioSpecificConfig;
use arcly_media::ts::{PACKET_SIZE, TsAudio, TsMuxer, TsVideo};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

const CODECS: &[Codec] = &[
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

/// One step of the script the fuzz input is read as.
#[derive(Debug, Clone)]
enum Op {
    Tables,
    Push(MediaFrame),
}

/// Mostly the codecs a track can have, sometimes any.
fn codec(likely: &'static [Codec]) -> impl Strategy<Value = Codec> {
    prop_oneof![
        3 => proptest::sample::select(likely),
        1 => proptest::sample::select(CODECS),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// Payloads that are mostly NAL units behind 4-byte prefixes, some of them
/// lying, so that the Annex B path is reached as often as the errors.
fn payload() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        bytes(600),
        proptest::collection::vec((bytes(300), 0u32..8, any::<bool>()), 0..5).prop_map(|nals| {
            let mut out = Vec::new();
            for (nal, slack, lie) in nals {
                let len = nal.len() as u32 + if lie { slack } else { 0 };
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&nal);
            }
            Bytes::from(out)
        }),
    ]
}

fn frame() -> impl Strategy<Value = MediaFrame> {
    (
        codec(&[Codec::H264, Codec::H265, Codec::Aac, Codec::Mp3]),
        any::<i64>(),
        prop_oneof![Just(0i64), -1000i64..1000, any::<i64>()],
        any::<(bool, bool, bool)>(),
        payload(),
    )
        .prop_map(|(codec, dts, cts, (key, config, discardable), payload)| {
            let mut flags = FrameFlags::NONE;
            for (set, flag) in [
                (key, FrameFlags::KEYFRAME),
                (config, FrameFlags::CONFIG),
                (discardable, FrameFlags::DISCARDABLE),
            ] {
                if set {
                    flags = flags | flag;
                }
            }
            MediaFrame {
                codec,
                dts: Timestamp(dts),
                pts: Timestamp(dts.wrapping_add(cts)),
                flags,
                payload,
            }
        })
}

fn video() -> impl Strategy<Value = Option<TsVideo>> {
    proptest::option::of(
        (
            codec(&[Codec::H264, Codec::H265]),
            prop_oneof![3 => Just(4u8), 1 => 0u8..6],
            proptest::collection::vec(bytes(8), 0..4),
        )
            .prop_map(|(codec, length_size, parameter_sets)| TsVideo {
                codec,
                length_size,
                parameter_sets,
            }),
    )
}

fn audio() -> impl Strategy<Value = Option<TsAudio>> {
    proptest::option::of(
        (
            codec(&[Codec::Aac, Codec::Mp3]),
            proptest::option::of(prop_oneof![
                Just(vec![0x12, 0x08]),
                proptest::collection::vec(any::<u8>(), 0..6),
            ]),
        )
            .prop_map(|(codec, record)| TsAudio {
                codec,
                aac: record.and_then(|r| AudioSpecificConfig::decode(&Bytes::from(r)).ok()),
            }),
    )
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(
        prop_oneof![1 => Just(Op::Tables), 8 => frame().prop_map(Op::Push)],
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn pushing_arbitrary_frames_never_panics(video in video(), audio in audio(), ops in ops()) {
        let Ok(mut muxer) = TsMuxer::new(video, audio) else {
            return Ok(());
        };
        let mut out = BytesMut::new();
        for op in ops {
            let before = out.len();
            match op {
                Op::Tables => {
                    muxer.write_tables(&mut out);
                    prop_assert_eq!(out.len() - before, 2 * PACKET_SIZE);
                }
                Op::Push(frame) => {
                    if muxer.push(&frame, &mut out).is_err() {
                        prop_assert_eq!(out.len(), before);
                    }
                }
            }
            prop_assert_eq!(out.len() % PACKET_SIZE, 0);
        }
        for packet in out.chunks(PACKET_SIZE) {
            prop_assert_eq!(packet[0], 0x47);
        }
    }
}
