//! The HLS packager, driven by a script of operations, and the names and
//! directives its HTTP side reads.
//!
//! Input: `[script...]`, read as operations of a few bytes each: push a
//! video or audio frame (codec, keyframe/config flags, a dts step, a
//! payload taken from the input), finish the stream, render the playlists,
//! parse a blocking query, a resource name or a `Range` header. Config
//! frames carry input bytes, so the record decoders see hostile records
//! through the packager too.
//!
//! Checked: nothing panics; the media sequence numbers in the timeline
//! increase by one; every part listed has bytes that begin a `moof` box;
//! a resource name that parses writes back to the same name; a `Range` that
//! is satisfiable lies inside the body.
#![no_main]

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::hls::{
    BlockingQuery, HlsPackager, HlsSettings, Resource, ll_media_playlist, ts_media_playlist,
};
use arcly_protocols::http::RangeRequest;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

const CODECS: [Codec; 7] = [
    Codec::H264,
    Codec::H265,
    Codec::Av1,
    Codec::Vp9,
    Codec::Aac,
    Codec::Opus,
    Codec::Mp3,
];

/// Takes `n` bytes from the front of `data` (fewer if it is shorter).
fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, rest) = data.split_at(n.min(data.len()));
    *data = rest;
    head
}

fn check_timeline(packager: &HlsPackager) {
    let timeline = packager.timeline();
    let msns: Vec<u64> = timeline.segments().map(|s| s.msn).collect();
    assert!(msns.windows(2).all(|w| w[1] == w[0] + 1), "msns {msns:?}");
    for segment in timeline.segments() {
        for part in &segment.parts {
            assert!(
                part.bytes.len() >= 8 && &part.bytes[4..8] == b"moof",
                "a part starts with a moof box: {:02x?}", &part.bytes[..part.bytes.len().min(16)]
            );
        }
    }
    let _ = ts_media_playlist(timeline);
    let _ = ll_media_playlist(timeline, false);
    let _ = ll_media_playlist(timeline, true);
}

fuzz_target!(|input: &[u8]| {
    let mut data = input;
    let Ok(mut packager) = HlsPackager::new(HlsSettings::default()) else {
        return;
    };
    let mut now = Timestamp(1_700_000_000_000_000);
    let mut dts = [0i64; 2];
    while let Some((&op, rest)) = data.split_first() {
        data = rest;
        match op % 8 {
            0..=3 => {
                let head = take(&mut data, 3);
                let [which, flags, step] = [0, 1, 2].map(|i| head.get(i).copied().unwrap_or(0));
                let codec = CODECS[usize::from(which) % CODECS.len()];
                let track = usize::from(matches!(codec, Codec::Aac | Codec::Opus | Codec::Mp3));
                dts[track] += i64::from(step) * 1_000;
                let len = usize::from(take(&mut data, 1).first().copied().unwrap_or(0));
                let payload = Bytes::copy_from_slice(take(&mut data, len));
                let mut frame_flags = FrameFlags::NONE;
                if flags & 1 != 0 {
                    frame_flags = frame_flags | FrameFlags::KEYFRAME;
                }
                if flags & 2 != 0 {
                    frame_flags = frame_flags | FrameFlags::CONFIG;
                }
                let frame = MediaFrame {
                    codec,
                    dts: Timestamp(dts[track]),
                    pts: Timestamp(dts[track] + i64::from(flags >> 2) * 1_000),
                    flags: frame_flags,
                    payload,
                };
                now = Timestamp(now.0 + 1_000);
                let _ = packager.push(&frame, now);
            }
            4 => {
                let _ = packager.finish(now);
            }
            5 => check_timeline(&packager),
            6 => {
                let len = usize::from(take(&mut data, 1).first().copied().unwrap_or(0));
                let text = String::from_utf8_lossy(take(&mut data, len)).into_owned();
                if let Ok(query) = BlockingQuery::parse(&text) {
                    let timeline = packager.timeline();
                    if timeline.check(&query).is_ok() {
                        let _ = timeline.satisfies(&query);
                    }
                }
                if let Some(resource) = Resource::parse(&text) {
                    assert_eq!(resource.to_string(), text, "names write back as read");
                    let _ = packager.resource(resource);
                }
            }
            _ => {
                let len = usize::from(take(&mut data, 1).first().copied().unwrap_or(0));
                let header = String::from_utf8_lossy(take(&mut data, len)).into_owned();
                let body = u64::from(take(&mut data, 1).first().copied().unwrap_or(0));
                if let RangeRequest::Part { start, end } = RangeRequest::parse(Some(&header), body) {
                    assert!(start <= end && end < body, "{start}-{end} of {body}");
                }
            }
        }
    }
    check_timeline(&packager);
});
