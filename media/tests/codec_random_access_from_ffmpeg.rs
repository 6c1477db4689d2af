//! The first (sync) and first non-sync samples of ffmpeg-muxed MP4 files
//! (see `data/README.md`) are told apart from their payload alone, as the
//! MP4 sync sample table marks them.

use arcly_engine::Codec;
use arcly_media::codec::is_random_access;

struct Pair {
    codec: Codec,
    name: &'static str,
    keyframe: &'static [u8],
    interframe: &'static [u8],
}

const PAIRS: &[Pair] = &[
    Pair {
        codec: Codec::H265,
        name: "x265",
        keyframe: include_bytes!("data/ffmpeg_x265_320x240.keyframe"),
        interframe: include_bytes!("data/ffmpeg_x265_320x240.interframe"),
    },
    Pair {
        codec: Codec::Av1,
        name: "libaom",
        keyframe: include_bytes!("data/ffmpeg_libaom_320x240.keyframe"),
        interframe: include_bytes!("data/ffmpeg_libaom_320x240.interframe"),
    },
    Pair {
        codec: Codec::Av1,
        name: "svtav1",
        keyframe: include_bytes!("data/ffmpeg_svtav1_320x240.keyframe"),
        interframe: include_bytes!("data/ffmpeg_svtav1_320x240.interframe"),
    },
    Pair {
        codec: Codec::Vp9,
        name: "libvpx-vp9",
        keyframe: include_bytes!("data/ffmpeg_libvpx_vp9_320x240.keyframe"),
        interframe: include_bytes!("data/ffmpeg_libvpx_vp9_320x240.interframe"),
    },
];

#[test]
fn sync_samples_are_random_access_points() {
    for pair in PAIRS {
        assert_eq!(
            is_random_access(pair.codec, pair.keyframe),
            Some(true),
            "{} keyframe",
            pair.name
        );
        assert_eq!(
            is_random_access(pair.codec, pair.interframe),
            Some(false),
            "{} interframe",
            pair.name
        );
    }
}

#[test]
fn a_truncated_sample_is_unreadable_not_misclassified() {
    for pair in PAIRS {
        let cut = &pair.keyframe[..pair.keyframe.len() / 2];
        let verdict = is_random_access(pair.codec, cut);
        // NAL lengths and OBU sizes overrun; a VP9 header only needs its
        // first bytes, so half a key frame still reads as one.
        let expected = if pair.codec == Codec::Vp9 {
            Some(true)
        } else {
            None
        };
        assert_eq!(verdict, expected, "{} cut keyframe", pair.name);
    }
}
