//! Muxes the ffmpeg FLV capture (see `data/README.md`) to MPEG-TS, in two
//! HLS-style segments, and has ffprobe and ffmpeg read the result: both
//! tracks found, every timestamp where the FLV put it, and no decode error.
//!
//! Needs `ffmpeg` and `ffprobe` on the `PATH` (`apt-get install -y ffmpeg`);
//! without them the test fails rather than pass silently.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arcly_engine::{Codec, MediaFrame, TrackKind};
use arcly_media::codec::{AudioSpecificConfig, AvcDecoderConfig};
use arcly_media::flv::FlvReader;
use arcly_media::ts::{
    AUDIO_PID, PACKET_SIZE, TIMESTAMP_OFFSET, TsAudio, TsMuxer, TsVideo, VIDEO_PID,
};
use bytes::BytesMut;

const FILE: &[u8] = include_bytes!("data/ffmpeg_h264_aac.flv");

/// The capture's frames, configs included, in file (decode) order.
fn frames() -> Vec<MediaFrame> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::from(FILE);
    let mut frames = Vec::new();
    while let Some(tag) = reader.feed(&mut buf).unwrap() {
        frames.extend(tag.decode_frame().unwrap());
    }
    assert!(buf.is_empty());
    frames
}

/// The muxer for the capture's tracks, built from its config frames.
fn muxer(frames: &[MediaFrame]) -> TsMuxer {
    let config = |codec| {
        frames
            .iter()
            .find(|f| f.codec == codec && f.is_config())
            .unwrap()
            .payload
            .clone()
    };
    let avcc = AvcDecoderConfig::decode(&config(Codec::H264)).unwrap();
    let asc = AudioSpecificConfig::decode(&config(Codec::Aac)).unwrap();
    let video = TsVideo {
        codec: Codec::H264,
        length_size: avcc.length_size,
        parameter_sets: avcc.sps.iter().chain(&avcc.pps).cloned().collect(),
    };
    let audio = TsAudio {
        codec: Codec::Aac,
        aac: Some(asc),
    };
    TsMuxer::new(Some(video), Some(audio)).unwrap()
}

/// Segments that start at each keyframe, each with its own tables.
fn segments(frames: &[MediaFrame]) -> Vec<BytesMut> {
    let mut muxer = muxer(frames);
    let mut segments: Vec<BytesMut> = Vec::new();
    for frame in frames {
        if frame.starts_gop() {
            let mut segment = BytesMut::new();
            muxer.write_tables(&mut segment);
            segments.push(segment);
        }
        match segments.last_mut() {
            Some(segment) => muxer.push(frame, segment).unwrap(),
            // Before the first keyframe there are only the metadata and the
            // configs, which the muxer would skip anyway.
            None => assert!(frame.is_config() || frame.codec == Codec::Script),
        }
    }
    segments
}

/// Runs `tool before file after`, or fails with the command that installs
/// it.
fn run(tool: &str, before: &[&str], file: &Path, after: &[&str]) -> Output {
    match Command::new(tool)
        .args(before)
        .arg(file)
        .args(after)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("{tool} not found; install it with: apt-get install -y ffmpeg")
        }
        Err(e) => panic!("cannot run {tool}: {e}"),
    }
}

/// The `[NAME]` ... `[/NAME]` blocks of ffprobe's default output, as
/// key-value maps.
fn sections(text: &str, name: &str) -> Vec<HashMap<String, String>> {
    let (open, close) = (format!("[{name}]"), format!("[/{name}]"));
    let mut out = Vec::new();
    let mut current: Option<HashMap<String, String>> = None;
    for line in text.lines() {
        if line == open {
            current = Some(HashMap::new());
        } else if line == close {
            out.extend(current.take());
        } else if let (Some(map), Some((key, value))) = (current.as_mut(), line.split_once('=')) {
            map.insert(key.to_owned(), value.to_owned());
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The PIDs' continuity counters run on across the segments, as a player
/// that appends them sees it.
fn assert_continuity(stream: &[u8]) {
    assert_eq!(stream.len() % PACKET_SIZE, 0);
    let mut last: HashMap<u16, u8> = HashMap::new();
    for packet in stream.chunks(PACKET_SIZE) {
        assert_eq!(packet[0], 0x47);
        let pid = u16::from_be_bytes([packet[1] & 0x1f, packet[2]]);
        let cc = packet[3] & 0x0f;
        if let Some(before) = last.insert(pid, cc) {
            assert_eq!(cc, (before + 1) % 16, "pid {pid:#x}");
        }
    }
    let mut pids: Vec<_> = last.into_keys().collect();
    pids.sort();
    assert_eq!(pids, [0, VIDEO_PID, AUDIO_PID, 0x1000]);
}

#[test]
fn ffprobe_and_ffmpeg_read_the_muxed_segments() {
    let frames = frames();
    let segments = segments(&frames);
    assert_eq!(segments.len(), 2, "a keyframe every 2 s of 4 s");
    let whole: Vec<u8> = segments.concat();
    assert_continuity(&whole);

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ts_ffprobe_reads_muxed_segment");
    std::fs::create_dir_all(&dir).unwrap();
    let out = write(&dir, "out.ts", &whole);

    let probe = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_streams",
            "-show_packets",
            "-show_format",
        ],
        &out,
        &[],
    );
    let stdout = String::from_utf8(probe.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&probe.stderr);
    assert!(probe.status.success(), "ffprobe failed: {stderr}");
    assert!(stderr.is_empty(), "ffprobe complained: {stderr}");

    let streams = sections(&stdout, "STREAM");
    assert_eq!(streams.len(), 2, "{stdout}");
    let video = &streams[0];
    let audio = &streams[1];
    assert_eq!(video["codec_name"], "h264");
    assert_eq!(video["profile"], "High");
    assert_eq!((&*video["width"], &*video["height"]), ("320", "240"));
    assert_eq!(video["id"], "0x100");
    assert_eq!(audio["codec_name"], "aac");
    assert_eq!(audio["profile"], "LC");
    assert_eq!(audio["sample_rate"], "44100");
    assert_eq!(audio["channels"], "1");
    assert_eq!(audio["id"], "0x101");

    // Every packet's timestamps are the frame's, 1.4 s later.
    let packets = sections(&stdout, "PACKET");
    for (index, kind) in [(0, TrackKind::Video), (1, TrackKind::Audio)] {
        let expected: Vec<(i64, i64)> = frames
            .iter()
            .filter(|f| f.track() == kind && !f.is_config())
            .map(|f| {
                let offset = TIMESTAMP_OFFSET as i64;
                (f.pts.as_90khz() + offset, f.dts.as_90khz() + offset)
            })
            .collect();
        let found: Vec<(i64, i64)> = packets
            .iter()
            .filter(|p| p["stream_index"] == index.to_string())
            .map(|p| (p["pts"].parse().unwrap(), p["dts"].parse().unwrap()))
            .collect();
        assert_eq!(found, expected, "{kind:?}");
    }
    let video_packets: Vec<_> = packets
        .iter()
        .filter(|p| p["codec_type"] == "video")
        .collect();
    assert_eq!(video_packets.len(), 100);
    for (i, packet) in video_packets.iter().enumerate() {
        assert_eq!(packet["flags"].starts_with('K'), i % 50 == 0, "frame {i}");
    }

    // 100 pictures at 25 fps and 4 s of AAC (1024 samples a frame).
    let seconds = |key: &str, map: &HashMap<String, String>| -> f64 { map[key].parse().unwrap() };
    let span = |kind: &str| {
        let times: Vec<f64> = packets
            .iter()
            .filter(|p| p["codec_type"] == kind)
            .map(|p| seconds("pts_time", p))
            .collect();
        let last = packets.iter().rfind(|p| p["codec_type"] == kind).unwrap();
        let end = times.iter().cloned().fold(f64::MIN, f64::max) + seconds("duration_time", last);
        end - times.iter().cloned().fold(f64::MAX, f64::min)
    };
    assert!(
        (span("video") - 4.0).abs() < 0.001,
        "video {}",
        span("video")
    );
    let audio_frames = packets
        .iter()
        .filter(|p| p["codec_type"] == "audio")
        .count();
    let audio_seconds = audio_frames as f64 * 1024.0 / 44_100.0;
    assert!(audio_seconds > 3.9, "{audio_frames} audio frames");
    assert!(
        (span("audio") - audio_seconds).abs() < 0.001,
        "audio {}",
        span("audio")
    );
    let format = &sections(&stdout, "FORMAT")[0];
    assert_eq!(format["format_name"], "mpegts");
    assert_eq!(format["nb_streams"], "2");
    let duration = seconds("duration", format);
    assert!((duration - 4.0).abs() < 0.1, "format duration {duration}");
    assert!((seconds("start_time", format) - 1.4).abs() < 0.1);

    // Decode everything: the whole stream, then each segment alone as a
    // player that joins there would.
    let mut files = vec![out];
    for (i, segment) in segments.iter().enumerate() {
        files.push(write(&dir, &format!("segment{i}.ts"), segment));
    }
    for file in &files {
        let decode = run(
            "ffmpeg",
            &["-v", "error", "-xerror", "-i"],
            file,
            &["-f", "null", "-"],
        );
        let stderr = String::from_utf8_lossy(&decode.stderr);
        assert!(decode.status.success(), "{}: {stderr}", file.display());
        assert!(stderr.is_empty(), "{}: {stderr}", file.display());
    }
}
