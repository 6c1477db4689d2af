//! ffprobe and ffmpeg read the fMP4 arcly writes from the H.264 + AAC FLV
//! capture ffmpeg wrote (see `data/README.md`): one fragment per GOP, as HLS
//! segments, and ~200 ms fragments, as LL-HLS parts. Every packet comes
//! back with the size, times and keyframe flag it went in with, and ffmpeg
//! decodes the whole file without a word on stderr.

mod fmp4_support;

use arcly_engine::{Codec, MediaFrame, Timestamp, TrackKind};
use arcly_media::codec::{AudioSpecificConfig, AvcDecoderConfig};
use arcly_media::flv::FlvReader;
use arcly_media::fmp4::{Fmp4Track, TrackMedia};
use bytes::BytesMut;
use fmp4_support::{
    Cuts, TempDir, assert_fragments_consistent, assert_packets_match, decode_errors, fragment,
    probe_streams, write_mp4,
};

const FILE: &[u8] = include_bytes!("data/ffmpeg_h264_aac.flv");

fn flv_frames() -> Vec<MediaFrame> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::from(FILE);
    let mut frames = Vec::new();
    while let Some(tag) = reader.feed(&mut buf).unwrap() {
        frames.extend(tag.decode_frame().unwrap());
    }
    frames
}

/// The tracks the config frames describe, as a packager builds them.
fn tracks(frames: &[MediaFrame]) -> Vec<Fmp4Track> {
    let config = |codec| {
        frames
            .iter()
            .find(|f| f.codec == codec && f.is_config())
            .unwrap()
            .payload
            .clone()
    };
    let avcc = config(Codec::H264);
    let sps = AvcDecoderConfig::decode(&avcc)
        .unwrap()
        .first_sps()
        .unwrap()
        .unwrap();
    let asc = AudioSpecificConfig::decode(&config(Codec::Aac)).unwrap();
    vec![
        Fmp4Track {
            track_id: 1,
            timescale: 90_000,
            media: TrackMedia::Video {
                codec: Codec::H264,
                width: sps.width,
                height: sps.height,
                config: avcc,
            },
        },
        Fmp4Track {
            track_id: 2,
            timescale: asc.sampling_frequency,
            media: TrackMedia::Audio {
                codec: Codec::Aac,
                sample_rate: asc.sampling_frequency,
                channels: asc.channel_configuration,
                config: asc.raw,
            },
        },
    ]
}

fn count(frames: &[MediaFrame], track: TrackKind) -> usize {
    frames
        .iter()
        .filter(|f| f.track() == track && !f.is_config())
        .count()
}

fn check(cuts: Cuts, name: &str) -> usize {
    let frames = flv_frames();
    let tracks = tracks(&frames);
    let (init, fragments) = fragment(&tracks, &frames, cuts);
    assert_fragments_consistent(&fragments, cuts);
    let dir = TempDir::new(name);
    let path = write_mp4(&dir, "out.mp4", &init, &fragments);

    let streams = probe_streams(&path);
    assert_eq!(streams.len(), 2, "{streams:?}");
    let (video, audio) = (&streams[0], &streams[1]);
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(video["profile"], "High");
    assert_eq!((&video["width"][..], &video["height"][..]), ("320", "240"));
    assert_eq!(video["nb_read_frames"], "100");
    assert_eq!(audio["codec_name"], "aac");
    assert_eq!(audio["profile"], "LC");
    assert_eq!(audio["sample_rate"], "44100");
    assert_eq!(audio["channels"], "1");
    assert_eq!(
        audio["nb_read_frames"],
        count(&frames, TrackKind::Audio).to_string()
    );

    assert_packets_match(&path, &tracks, &frames);
    assert_eq!(decode_errors(&path), "");
    fragments.len()
}

#[test]
fn ffprobe_reads_a_fragment_per_gop() {
    // Keyframes every 50 frames of 100.
    assert_eq!(check(Cuts::AtKeyframes, "fmp4-gop"), 2);
}

#[test]
fn ffprobe_reads_200_ms_parts() {
    // 4 s of video in parts of 200 ms (5 frames at 25 fps).
    assert_eq!(
        check(Cuts::Parts(Timestamp::from_millis(200)), "fmp4-parts"),
        20
    );
}
