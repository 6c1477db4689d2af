//! Whatever tracks and frames it is given, the fMP4 muxer returns `Ok` or
//! `Err` and never panics, and everything it does write is a well-formed box
//! tree whose data offsets point inside the fragment.

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::fmp4::{Fmp4Track, Fragmenter, TrackMedia, init_segment};
use bytes::Bytes;
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

/// Record starts that pass the sample entries' checks, so that the
/// strategies reach the writers and not only the refusals.
const CONFIG_PREFIXES: &[&[u8]] = &[
    b"",
    b"\x01\x64\x00\x1f\xff\xe1\x00",
    b"\x01\x01\x60\x00\x00\x00\x90\x00\x00\x00\x00\x00\x5d\xf0\x00\xfc\xfd\xf8\xf8\x00\x00\x0f\x03",
    b"\x81\x00\x0c\x00",
    b"\x01\x00\x00\x00\x00\x1f\x80\x02\x02\x02\x00\x00",
    b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00",
    b"OpusHead\x01\x03\x38\x01\x80\xbb\x00\x00\x00\x00\x01",
    b"\x00\x02\x01\x38\x00\x00\xbb\x80\x00\x00\x00",
    b"\x12\x10",
];

/// Boxes whose bodies are boxes.
const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"moof", b"traf",
];

fn track() -> impl Strategy<Value = Fmp4Track> {
    (
        0u32..5,
        prop_oneof![Just(0u32), Just(90_000), Just(48_000), any::<u32>()],
        proptest::sample::select(CODECS),
        any::<bool>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        proptest::sample::select(CONFIG_PREFIXES),
        proptest::collection::vec(any::<u8>(), 0..24),
    )
        .prop_map(
            |(track_id, timescale, codec, video, a, b, channels, prefix, tail)| {
                let mut config = prefix.to_vec();
                config.extend(tail);
                let config = Bytes::from(config);
                let media = if video {
                    TrackMedia::Video {
                        codec,
                        width: a % 70_000,
                        height: b % 70_000,
                        config,
                    }
                } else {
                    TrackMedia::Audio {
                        codec,
                        sample_rate: a % 200_000,
                        channels,
                        config,
                    }
                };
                Fmp4Track {
                    track_id,
                    timescale,
                    media,
                }
            },
        )
}

/// Pushes of frames whose times mostly move forward, and cuts.
#[derive(Clone, Debug)]
enum Op {
    Push {
        codec: Codec,
        /// Added to the previous dts, or taken as the dts.
        dts: i64,
        absolute: bool,
        pts_offset: i64,
        flags: u8,
        len: usize,
    },
    Cut {
        sequence: u32,
        end: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (
            proptest::sample::select(CODECS),
            prop_oneof![0i64..100_000, any::<i64>()],
            prop::bool::weighted(0.05),
            prop_oneof![-100_000i64..500_000, any::<i64>()],
            0u8..8,
            0usize..64,
        )
            .prop_map(|(codec, dts, absolute, pts_offset, flags, len)| Op::Push {
                codec,
                dts,
                absolute,
                pts_offset,
                flags,
                len,
            }),
        1 => (any::<u32>(), prop_oneof![0i64..10_000_000, any::<i64>()])
            .prop_map(|(sequence, end)| Op::Cut { sequence, end }),
    ]
}

/// Asserts that `data` is a sequence of boxes whose sizes add up, and
/// returns them.
fn boxes(mut data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    while !data.is_empty() {
        assert!(data.len() >= 8, "truncated box header");
        let size = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
        assert!(
            size >= 8 && size <= data.len(),
            "box size {size} of {}",
            data.len()
        );
        let kind: [u8; 4] = data[4..8].try_into().unwrap();
        let body = &data[8..size];
        if CONTAINERS.contains(&&kind) {
            boxes(body);
        }
        out.push((kind, body));
        data = &data[size..];
    }
    out
}

fn be32(data: &[u8], at: usize) -> usize {
    u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize
}

/// Checks a fragment: moof then mdat, and every trun's samples inside mdat.
fn check_fragment(bytes: &[u8]) {
    let top = boxes(bytes);
    assert_eq!(top.len(), 2);
    assert_eq!(&top[0].0, b"moof");
    assert_eq!(&top[1].0, b"mdat");
    let mdat_start = top[0].1.len() + 8 + 8;
    let mut media = 0;
    for (kind, traf) in boxes(top[0].1) {
        if &kind != b"traf" {
            continue;
        }
        let (_, trun) = boxes(traf).into_iter().find(|(k, _)| k == b"trun").unwrap();
        let flags = be32(trun, 0) & 0xff_ffff;
        let count = be32(trun, 4);
        let offset = be32(trun, 8);
        let stride = if flags & 0x800 != 0 { 16 } else { 12 };
        assert_eq!(trun.len(), 12 + count * stride);
        let size: usize = (0..count).map(|i| be32(trun, 12 + i * stride + 4)).sum();
        assert_eq!(offset, mdat_start + media);
        media += size;
    }
    assert_eq!(media, top[1].1.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn init_segment_never_panics(tracks in proptest::collection::vec(track(), 0..4)) {
        if let Ok(init) = init_segment(&tracks) {
            let top = boxes(&init);
            prop_assert_eq!(top.len(), 2);
            prop_assert_eq!(&top[0].0, b"ftyp");
            prop_assert_eq!(&top[1].0, b"moov");
        }
    }

    #[test]
    fn fragmenter_never_panics(
        tracks in proptest::collection::vec(track(), 0..4),
        ops in proptest::collection::vec(op(), 0..64),
    ) {
        let mut fragmenter = Fragmenter::new(&tracks);
        let mut dts = 0i64;
        for op in ops {
            match op {
                Op::Push { codec, dts: step, absolute, pts_offset, flags, len } => {
                    dts = if absolute { step } else { dts.saturating_add(step) };
                    let frame = MediaFrame {
                        codec,
                        dts: Timestamp(dts),
                        pts: Timestamp(dts.saturating_add(pts_offset)),
                        flags: [FrameFlags::KEYFRAME, FrameFlags::CONFIG, FrameFlags::DISCARDABLE]
                            .into_iter()
                            .enumerate()
                            .filter(|(i, _)| flags & 1 << i != 0)
                            .fold(FrameFlags::NONE, |all, (_, f)| all | f),
                        payload: Bytes::from(vec![0xa5; len]),
                    };
                    let before = fragmenter.pending_samples();
                    match fragmenter.push(&frame) {
                        Ok(()) => {}
                        Err(_) => prop_assert_eq!(fragmenter.pending_samples(), before),
                    }
                }
                Op::Cut { sequence, end } => {
                    let pending = fragmenter.pending_samples();
                    match fragmenter.cut(sequence, Timestamp(end)) {
                        Some(fragment) => {
                            prop_assert!(pending > 0);
                            prop_assert!(fragment.duration >= Timestamp::ZERO);
                            check_fragment(&fragment.bytes);
                        }
                        None => prop_assert_eq!(pending, 0),
                    }
                    prop_assert_eq!(fragmenter.pending_samples(), 0);
                }
            }
        }
    }
}
