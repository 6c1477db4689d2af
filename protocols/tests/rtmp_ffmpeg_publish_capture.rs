//! What ffmpeg sends when it publishes (captured, see `data/README.md`),
//! fed to a `ServerSession` in one piece and byte by byte: the same events,
//! the frames ffmpeg encoded, and no error.

mod rtmp_support;

use arcly_engine::{Codec, MediaFrame, TrackKind};
use arcly_media::codec::{AudioSpecificConfig, AvcDecoderConfig};
use arcly_protocols::rtmp::handshake::DigestScheme;
use arcly_protocols::rtmp::{ServerConfig, ServerSession, SessionEvent};
use rtmp_support::{Decisions, drain_and_decide, replay};

const H264_AAC: &[u8] = include_bytes!("data/ffmpeg_publish_h264_aac.bin");
const EXTENDED: &[u8] = include_bytes!("data/ffmpeg_publish_extended_timestamp.bin");

fn frames(events: &[SessionEvent]) -> Vec<&MediaFrame> {
    events
        .iter()
        .filter_map(|event| match event {
            SessionEvent::Frame(frame) => Some(frame),
            _ => None,
        })
        .collect()
}

#[test]
fn reads_the_publish_in_one_piece_and_byte_by_byte() {
    let (whole, error) = replay(H264_AAC, H264_AAC.len());
    assert_eq!(error, None);
    let (bytewise, error) = replay(H264_AAC, 1);
    assert_eq!(error, None);
    assert_eq!(whole, bytewise);
    let (odd, error) = replay(H264_AAC, 1009);
    assert_eq!(error, None);
    assert_eq!(whole, odd);

    let requests: Vec<_> = whole
        .iter()
        .filter(|e| !matches!(e, SessionEvent::Frame(_)))
        .collect();
    assert_eq!(
        requests,
        [
            &SessionEvent::Connected {
                app: "live".into(),
                tc_url: Some("rtmp://127.0.0.1:19350/live".into()),
                query: String::new(),
                flash_ver: Some("FMLE/3.0 (compatible; Lavf59.27.100)".into()),
            },
            &SessionEvent::PublishRequested {
                stream_id: 1,
                app: "live".into(),
                stream: "cam1".into(),
                query: "token=s3cret".into(),
                publish_type: "live".into(),
            },
            // FCUnpublish, then deleteStream, which has nothing left to stop.
            &SessionEvent::Unpublished { stream_id: 1 },
        ]
    );
}

#[test]
fn the_frames_are_the_ones_ffmpeg_encoded() {
    let (events, _) = replay(H264_AAC, H264_AAC.len());
    let frames = frames(&events);
    // onMetaData first, its @setDataFrame wrapper gone.
    assert_eq!(frames[0].codec, Codec::Script);
    assert!(frames[0].payload.starts_with(b"\x02\x00\x0aonMetaData"));

    let video: Vec<_> = frames
        .iter()
        .filter(|f| f.track() == TrackKind::Video)
        .collect();
    assert!(video[0].is_config());
    let avcc = AvcDecoderConfig::decode(&video[0].payload).unwrap();
    let sps = avcc.first_sps().unwrap().unwrap();
    assert_eq!((sps.width, sps.height), (160, 120));
    // 1 s at 10 fps, a keyframe every 10 frames, B-frames on.
    assert_eq!(video.len(), 1 + 10);
    assert!(video[1].starts_gop());
    assert!(video.iter().any(|f| f.pts > f.dts));
    let dts: Vec<i64> = video[1..].iter().map(|f| f.dts.as_millis()).collect();
    assert!(dts.windows(2).all(|w| w[1] - w[0] == 100), "{dts:?}");

    let audio: Vec<_> = frames
        .iter()
        .filter(|f| f.track() == TrackKind::Audio)
        .collect();
    assert!(audio[0].is_config());
    let asc = AudioSpecificConfig::decode(&audio[0].payload).unwrap();
    assert_eq!(asc.sampling_frequency, 22_050);
    // 1 s of 1024-sample AAC frames at 22.05 kHz.
    assert!((21..=24).contains(&(audio.len() - 1)), "{}", audio.len());
}

#[test]
fn reads_the_digest_handshake_ffmpeg_sends() {
    let mut server = ServerSession::new(ServerConfig::default(), std::time::Instant::now());
    server
        .handle_input(&H264_AAC[..1537], std::time::Instant::now())
        .unwrap();
    let info = server.handshake_info().unwrap();
    assert_eq!(info.client_version, [9, 0, 124, 2]);
    assert_eq!(info.scheme, Some(DigestScheme::Scheme1));
    assert!(drain_and_decide(&mut server, Decisions::Wait).is_empty());
}

#[test]
fn reads_extended_timestamps_from_ffmpeg() {
    // Published with -output_ts_offset 16778: ffmpeg sends the sequence
    // headers at 0, then the first frame of each track with a delta past
    // 0xffffff, in an extended timestamp; the deltas after it build on it.
    let (whole, error) = replay(EXTENDED, EXTENDED.len());
    assert_eq!(error, None);
    assert_eq!(replay(EXTENDED, 1).0, whole);
    let media: Vec<_> = frames(&whole)
        .into_iter()
        .filter(|f| f.track() != TrackKind::Data)
        .collect();
    let (configs, media): (Vec<_>, Vec<_>) = media.into_iter().partition(|f| f.is_config());
    assert!(configs.iter().all(|f| f.dts.as_millis() == 0));
    assert!(media.len() > 30);
    assert!(
        media
            .iter()
            .all(|f| (16_777_216..16_780_000).contains(&f.dts.as_millis())),
        "{:?}",
        media.iter().map(|f| f.dts.as_millis()).collect::<Vec<_>>()
    );
    let video: Vec<i64> = media
        .iter()
        .filter(|f| f.track() == TrackKind::Video)
        .map(|f| f.dts.as_millis())
        .collect();
    assert!(video.windows(2).all(|w| w[1] - w[0] == 100), "{video:?}");
}
