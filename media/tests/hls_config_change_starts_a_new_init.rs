//! A publisher that sends a new sequence header mid-stream: the segment ends
//! at the next keyframe, the next one starts a discontinuity with a new init
//! segment (`init1.mp4`), and ffmpeg plays both playlists across it.

use std::path::Path;
use std::process::Command;

use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::flv::FlvReader;
use arcly_media::hls::{HlsPackager, HlsSettings, Resource, ll_media_playlist, ts_media_playlist};
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

/// The capture, then its video again 4 s later behind an `avcC` that says
/// level 3.1 instead of 1.3 (the pictures decode the same).
fn with_new_config() -> Vec<MediaFrame> {
    let first = frames();
    let mut out: Vec<MediaFrame> = first.clone();
    let config = first
        .iter()
        .find(|f| f.track() == TrackKind::Video && f.is_config())
        .unwrap();
    let mut avcc = config.payload.to_vec();
    avcc[3] = 0x1f;
    out.push(MediaFrame {
        dts: Timestamp(4_000_000),
        pts: Timestamp(4_000_000),
        payload: avcc.into(),
        ..config.clone()
    });
    let shift = |t: Timestamp| Timestamp(t.0 + 4_000_000);
    out.extend(
        first
            .iter()
            .filter(|f| f.track() == TrackKind::Video && !f.is_config())
            .map(|f| MediaFrame {
                dts: shift(f.dts),
                pts: shift(f.pts),
                ..f.clone()
            }),
    );
    out
}

#[test]
fn new_sequence_header_makes_a_discontinuity_with_a_new_init() {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    let mut inits = Vec::new();
    let mut now = Timestamp::ZERO;
    for frame in with_new_config() {
        now = now.max(frame.dts);
        let outcome = packager.push(&frame, now).unwrap();
        inits.extend(outcome.init.map(|v| (v, frame.dts)));
    }
    packager.finish(now).unwrap();
    // Version 1 comes with the keyframe right after the new config.
    assert_eq!(inits, [(0, Timestamp(0)), (1, Timestamp(4_000_000))]);

    let timeline = packager.timeline();
    let shape: Vec<_> = timeline
        .segments()
        .map(|s| (s.msn, s.discontinuity, s.init))
        .collect();
    assert_eq!(
        shape,
        [(0, false, 0), (1, false, 0), (2, true, 1), (3, false, 1)]
    );
    let ll = ll_media_playlist(timeline, false);
    assert!(
        ll.contains("seg1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n"),
        "{ll}"
    );
    let ts = ts_media_playlist(timeline);
    assert!(
        ts.contains("seg1.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nseg2.ts\n"),
        "{ts}"
    );
    let init1 = packager.resource(Resource::Init(1)).unwrap();
    assert_ne!(packager.resource(Resource::Init(0)).unwrap(), init1);
    // The new avcC is in the new init segment.
    assert!(init1.windows(4).any(|w| w == [1, 0x64, 0, 0x1f]));

    // ffmpeg plays across the discontinuity.
    let found = Command::new("ffmpeg").arg("-version").output().is_ok();
    assert!(found, "ffmpeg not found: apt-get install -y ffmpeg");
    let dir = std::env::temp_dir().join(format!("arcly-hls-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, "index.m3u8", ts.into());
    write(&dir, "ll.m3u8", ll.into());
    let mut resources = vec![Resource::Init(0), Resource::Init(1)];
    for segment in timeline.segments() {
        resources.push(Resource::TsSegment(segment.msn));
        resources.push(Resource::Fmp4Segment(segment.msn));
    }
    for resource in resources {
        let bytes = packager.resource(resource).unwrap();
        write(&dir, &resource.to_string(), bytes.to_vec());
    }
    for playlist in ["index.m3u8", "ll.m3u8"] {
        let out = Command::new("ffmpeg")
            .current_dir(&dir)
            .args(["-nostdin", "-v", "error", "-i", playlist, "-f", "null", "-"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{playlist}:\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn write(dir: &Path, name: &str, bytes: Vec<u8>) {
    std::fs::write(dir.join(name), bytes).unwrap();
}
