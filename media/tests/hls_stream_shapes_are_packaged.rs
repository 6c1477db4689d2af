//! Streams of other shapes than the usual H.264 + AAC: video only, audio
//! only, codecs MPEG-TS cannot carry, codecs nothing here can carry, and
//! timestamps that go back.

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp, TrackKind};
use arcly_media::flv::FlvReader;
use arcly_media::hls::{
    Container, HlsError, HlsPackager, HlsSettings, Resource, ll_media_playlist, ts_media_playlist,
};
use bytes::{Bytes, BytesMut};

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

fn package(frames: impl IntoIterator<Item = MediaFrame>) -> HlsPackager {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    let mut now = Timestamp::ZERO;
    for frame in frames {
        now = now.max(frame.dts);
        packager.push(&frame, now).unwrap();
    }
    packager.finish(now).unwrap();
    packager
}

#[test]
fn video_only_starts_after_a_target_duration_without_audio() {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    let video = frames()
        .into_iter()
        .filter(|f| f.track() == TrackKind::Video);
    let mut started_at = None;
    for frame in video {
        let outcome = packager.push(&frame, frame.dts).unwrap();
        if outcome.init == Some(0) {
            started_at = Some(frame.dts);
        }
    }
    // Frames wait until 2 s of media have shown no audio config.
    assert_eq!(started_at, Some(Timestamp(2_000_000)));
    packager.finish(Timestamp(4_000_000)).unwrap();
    assert!(packager.has_ts());
    let timeline = packager.timeline();
    let durations: Vec<i64> = timeline.segments().map(|s| s.duration.0).collect();
    assert_eq!(durations, [2_000_000, 2_000_000]);
    let variant = packager.variant("ll.m3u8", Container::Fmp4).unwrap();
    assert_eq!(variant.codecs, ["avc1.64000d"]);
    assert_eq!(variant.resolution, Some((320, 240)));
    assert_eq!(variant.frame_rate, Some(25.0));
}

#[test]
fn audio_only_is_cut_on_time() {
    let audio = frames()
        .into_iter()
        .filter(|f| f.track() == TrackKind::Audio);
    let packager = package(audio);
    assert!(packager.has_ts());
    let timeline = packager.timeline();
    let segments: Vec<_> = timeline.segments().collect();
    assert_eq!(segments.len(), 2);
    // The first AAC frame at or after 2 s: 1024 samples at 44.1 kHz are
    // 23.2 ms.
    let first = segments[0].duration.0;
    assert!((2_000_000..2_024_000).contains(&first), "{first}");
    // Eight frames a part (185.8 ms, give or take the millisecond the
    // timestamps are rounded to), within the 200 ms part target.
    assert_eq!(timeline.part_target(), Timestamp(200_000));
    for part in &segments[0].parts[..segments[0].parts.len() - 1] {
        let eight_frames = 8 * 1024 * 1_000_000 / 44_100;
        assert!(part.duration.0.abs_diff(eight_frames) <= 1_000, "{part:?}");
        assert!(part.independent);
    }
    let variant = packager.variant("index.m3u8", Container::Ts).unwrap();
    assert_eq!(variant.codecs, ["mp4a.40.2"]);
    assert_eq!(variant.resolution, None);
}

/// An `OpusHead`: version 1, stereo, 312 samples pre-skip, 48 kHz, no gain,
/// mapping family 0.
fn opus_head() -> Bytes {
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, 2]);
    head.extend_from_slice(&312u16.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&[0, 0, 0]);
    Bytes::from(head)
}

#[test]
fn opus_has_no_mpeg_ts_rendition() {
    let config = MediaFrame {
        codec: Codec::Opus,
        dts: Timestamp::ZERO,
        pts: Timestamp::ZERO,
        flags: FrameFlags::CONFIG,
        payload: opus_head(),
    };
    let packets = (0..250).map(|i| MediaFrame {
        codec: Codec::Opus,
        dts: Timestamp(i * 20_000),
        pts: Timestamp(i * 20_000),
        flags: FrameFlags::KEYFRAME,
        payload: Bytes::from_static(&[0xfc, 0xff, 0xfe]),
    });
    let packager = package(std::iter::once(config).chain(packets));
    assert!(!packager.has_ts());
    let timeline = packager.timeline();
    assert_eq!(timeline.segments().len(), 3);
    assert!(
        timeline
            .segments()
            .all(|s| s.ts.is_none() && s.fmp4.is_some())
    );
    // Ten 20 ms packets a part.
    assert_eq!(
        timeline.segment(0).unwrap().parts[0].duration,
        Timestamp(200_000)
    );
    assert!(!ts_media_playlist(timeline).contains("#EXTINF"));
    assert!(ll_media_playlist(timeline, false).contains("seg2.m4s"));
    assert!(packager.resource(Resource::TsSegment(0)).is_none());
    assert!(packager.resource(Resource::Init(0)).is_some());
}

#[test]
fn vvc_is_refused() {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    let frame = MediaFrame {
        codec: Codec::Vvc,
        dts: Timestamp::ZERO,
        pts: Timestamp::ZERO,
        flags: FrameFlags::CONFIG,
        payload: Bytes::from_static(&[1]),
    };
    assert_eq!(
        packager.push(&frame, Timestamp::ZERO),
        Err(HlsError::UnsupportedCodec(Codec::Vvc))
    );
}

#[test]
fn a_frame_that_goes_back_is_refused_and_the_stream_goes_on() {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    let frames = frames();
    let mut refused = 0;
    let mut pictures = 0;
    for frame in &frames {
        packager.push(frame, frame.dts).unwrap();
        if frame.track() == TrackKind::Video && !frame.is_config() {
            pictures += 1;
        }
        if pictures == 30 && refused == 0 {
            let back = MediaFrame {
                dts: Timestamp(frame.dts.0 - 1_000),
                ..frame.clone()
            };
            let err = packager.push(&back, frame.dts).unwrap_err();
            assert!(matches!(err, HlsError::DtsWentBack { .. }), "{err}");
            refused += 1;
        }
    }
    assert_eq!(refused, 1);
    packager.finish(Timestamp(4_000_000)).unwrap();
    assert_eq!(packager.timeline().segments().len(), 2);
}

#[test]
fn program_date_time_follows_the_media() {
    let settings = HlsSettings {
        program_date_time: true,
        ..HlsSettings::default()
    };
    let mut packager = HlsPackager::new(settings).unwrap();
    // The wall clock: 2023-11-14T22:13:20Z when the media starts, and each
    // frame arrives 30 ms after its decode time.
    let epoch = 1_700_000_000_000_000;
    for frame in frames() {
        let now = Timestamp(epoch + frame.dts.0 + 30_000);
        packager.push(&frame, now).unwrap();
    }
    packager.finish(Timestamp(epoch + 4_100_000)).unwrap();
    let dates: Vec<_> = packager
        .timeline()
        .segments()
        .map(|s| s.program_date_time.unwrap().0 - epoch)
        .collect();
    assert_eq!(dates, [30_000, 2_030_000]);
    let ts = ts_media_playlist(packager.timeline());
    assert!(
        ts.contains("#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.030Z\n#EXTINF:2.000,\nseg1.ts\n"),
        "{ts}"
    );
}
