//! A segment has no maximum duration (it can only start on a keyframe), so
//! memory is bounded in bytes: once a segment holds `max_segment_bytes`,
//! frames are refused until the next keyframe starts a new segment.

use arcly_engine::{MediaFrame, Timestamp};
use arcly_media::flv::FlvReader;
use arcly_media::hls::{HlsError, HlsPackager, HlsSettings};
use bytes::BytesMut;

const FILE: &[u8] = include_bytes!("data/ffmpeg_h264_aac.flv");

fn frames() -> Vec<MediaFrame> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::from(FILE);
    let mut frames = Vec::new();
    while let Some(tag) = reader.feed(&mut buf).unwrap() {
        frames.extend(tag.decode_frame().unwrap());
    }
    frames
}

#[test]
fn frames_past_the_limit_are_refused_until_the_next_keyframe() {
    let limit = 40_000;
    let settings = HlsSettings {
        max_segment_bytes: limit,
        ..HlsSettings::default()
    };
    let mut packager = HlsPackager::new(settings).unwrap();
    let mut refused = Vec::new();
    let mut accepted_after = 0;
    let frames = frames();
    // A segment passes the limit by at most the frame that reaches it, and
    // the MPEG-TS headers around it.
    let largest = frames.iter().map(|f| f.payload.len()).max().unwrap();
    let bound = limit + largest * 188 / 184 + 2 * 188 + 1_000;
    for frame in frames {
        match packager.push(&frame, frame.dts) {
            Ok(_) if !refused.is_empty() => accepted_after += 1,
            Ok(_) => {}
            Err(HlsError::SegmentTooLarge { msn, limit: l }) => {
                assert_eq!(l, limit);
                refused.push((msn, frame.dts));
            }
            Err(e) => panic!("{e}"),
        }
        let open = packager.timeline().open();
        let published: usize = open.map_or(0, |s| s.parts.iter().map(|p| p.bytes.len()).sum());
        assert!(published <= bound, "{published} bytes published");
    }
    // Both segments overflow; each refuses frames only until it ends.
    assert!(!refused.is_empty());
    assert!(refused.iter().any(|&(msn, _)| msn == 0));
    assert!(refused.iter().all(|&(msn, dts)| match msn {
        0 => dts < Timestamp(2_000_000),
        _ => dts >= Timestamp(2_000_000),
    }));
    assert!(accepted_after > 0);
    packager.finish(Timestamp(4_000_000)).unwrap();
    let segments: Vec<_> = packager.timeline().segments().collect();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[1].first_dts, Timestamp(2_000_000));
    for segment in segments {
        assert!(segment.ts.as_ref().unwrap().len() <= bound);
        assert!(segment.fmp4.as_ref().unwrap().len() <= bound);
    }
}
