//! Packages the FLV capture ffmpeg wrote (see `data/README.md`) for HLS and
//! LL-HLS, writes the playlists and media to a directory, and has ffmpeg
//! read them back: both playlists must decode without a word on stderr,
//! last the 4 s of the capture, and every segment's `EXTINF` must match the
//! media it holds within one frame. Parts are cut with their last frame,
//! before the audio that goes with it has all come: laid end to end, they
//! must still give each track a timeline without a gap or an overlap.

use std::path::{Path, PathBuf};
use std::process::Command;

use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::flv::FlvReader;
use arcly_media::hls::{HlsPackager, HlsSettings, Resource, ll_media_playlist, ts_media_playlist};
use bytes::BytesMut;

const FILE: &[u8] = include_bytes!("data/ffmpeg_h264_aac.flv");

/// One video frame at 25 fps.
const FRAME: f64 = 0.040;

fn frames() -> Vec<MediaFrame> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::from(FILE);
    let mut frames = Vec::new();
    while let Some(tag) = reader.feed(&mut buf).unwrap() {
        frames.extend(tag.decode_frame().unwrap());
    }
    frames
}

/// Runs the capture through a packager, the clock following the media.
fn package() -> HlsPackager {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    let mut now = Timestamp::ZERO;
    for frame in frames() {
        now = now.max(frame.dts);
        packager.push(&frame, now).unwrap();
    }
    packager.finish(now).unwrap();
    packager
}

/// A fresh directory for this test's files.
fn output_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("arcly-hls-ffmpeg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes both playlists and every init segment, segment and part.
fn write_all(packager: &HlsPackager, dir: &Path) {
    let timeline = packager.timeline();
    std::fs::write(dir.join("index.m3u8"), ts_media_playlist(timeline)).unwrap();
    std::fs::write(dir.join("ll.m3u8"), ll_media_playlist(timeline, false)).unwrap();
    let mut resources = vec![Resource::Init(0)];
    for segment in timeline.segments() {
        resources.push(Resource::TsSegment(segment.msn));
        resources.push(Resource::Fmp4Segment(segment.msn));
        for part in &segment.parts {
            resources.push(Resource::Part(segment.msn, part.index));
        }
    }
    for resource in resources {
        let bytes = packager.resource(resource).unwrap();
        std::fs::write(dir.join(resource.to_string()), bytes).unwrap();
    }
}

fn tool(name: &str) -> Command {
    let found = Command::new(name).arg("-version").output().is_ok();
    assert!(found, "{name} not found: apt-get install -y ffmpeg");
    Command::new(name)
}

/// `ffmpeg -v error -i <input> -f null -`: decodes everything, returns
/// stderr.
fn ffmpeg_decode(dir: &Path, input: &str) -> String {
    let out = tool("ffmpeg")
        .current_dir(dir)
        .args(["-nostdin", "-v", "error", "-i", input, "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "ffmpeg failed on {input}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `ffprobe` lines `key=value` for one stream's packets or the format.
fn ffprobe(dir: &Path, input: &str, args: &[&str]) -> Vec<String> {
    let out = tool("ffprobe")
        .current_dir(dir)
        .args(["-v", "error"])
        .args(args)
        .args(["-of", "csv=p=0", input])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{input}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Seconds from the first video frame's start to the last one's end.
fn video_span(dir: &Path, input: &str) -> f64 {
    let times: Vec<f64> = ffprobe(
        dir,
        input,
        &["-select_streams", "v", "-show_entries", "packet=dts_time"],
    )
    .iter()
    .map(|line| line.trim_end_matches(',').parse().unwrap())
    .collect();
    assert!(times.len() > 1, "{input}: {times:?}");
    let first = times.iter().copied().fold(f64::MAX, f64::min);
    let last = times.iter().copied().fold(f64::MIN, f64::max);
    last - first + FRAME
}

/// `(EXTINF seconds, URI)` of each segment of a playlist.
fn extinfs(playlist: &str) -> Vec<(f64, String)> {
    let mut lines = playlist.lines();
    let mut out = Vec::new();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("#EXTINF:") {
            let seconds = rest.trim_end_matches(',').parse().unwrap();
            out.push((seconds, lines.next().unwrap().to_owned()));
        }
    }
    out
}

#[test]
fn ffmpeg_plays_both_playlists_and_extinf_matches_the_media() {
    let packager = package();
    assert!(packager.has_ts());
    let dir = output_dir();
    write_all(&packager, &dir);
    let index = std::fs::read_to_string(dir.join("index.m3u8")).unwrap();
    let ll = std::fs::read_to_string(dir.join("ll.m3u8")).unwrap();
    assert!(index.ends_with("#EXT-X-ENDLIST\n"), "{index}");
    assert!(ll.ends_with("#EXT-X-ENDLIST\n"), "{ll}");

    for playlist in ["index.m3u8", "ll.m3u8"] {
        let stderr = ffmpeg_decode(&dir, playlist);
        assert!(stderr.is_empty(), "ffmpeg on {playlist}:\n{stderr}");
        let duration: f64 = ffprobe(&dir, playlist, &["-show_entries", "format=duration"])[0]
            .parse()
            .unwrap();
        assert!(
            (duration - 4.0).abs() <= FRAME,
            "{playlist} lasts {duration} s"
        );
    }

    // Keyframes every 2 s: two segments of 2 s.
    let ts = extinfs(&index);
    assert_eq!(ts.len(), 2, "{index}");
    for (extinf, uri) in &ts {
        let span = video_span(&dir, uri);
        assert!(
            (extinf - span).abs() <= FRAME,
            "{uri}: EXTINF {extinf}, media {span}"
        );
    }
    let fmp4 = extinfs(&ll);
    assert_eq!(fmp4.len(), 2, "{ll}");
    let init = std::fs::read(dir.join("init.mp4")).unwrap();
    for (extinf, uri) in &fmp4 {
        // A segment plays after its init segment.
        let whole = format!("whole-{uri}.mp4");
        let media = std::fs::read(dir.join(uri)).unwrap();
        std::fs::write(dir.join(&whole), [&init[..], &media[..]].concat()).unwrap();
        let span = video_span(&dir, &whole);
        assert!(
            (extinf - span).abs() <= FRAME,
            "{uri}: EXTINF {extinf}, media {span}"
        );
        let stderr = ffmpeg_decode(&dir, &whole);
        assert!(stderr.is_empty(), "ffmpeg on {whole}:\n{stderr}");
    }

    // Every part decodes after the init segment too, the first of each
    // segment from its keyframe.
    for segment in packager.timeline().segments() {
        for part in &segment.parts {
            let name = format!("whole-part{}.{}.mp4", segment.msn, part.index);
            std::fs::write(dir.join(&name), [&init[..], &part.bytes[..]].concat()).unwrap();
            if part.independent {
                let stderr = ffmpeg_decode(&dir, &name);
                assert!(stderr.is_empty(), "ffmpeg on {name}:\n{stderr}");
            }
        }
    }
    // All the parts end to end: ffmpeg reads every frame of each track at
    // its own decode time, none lost or moved where a part ends (the audio
    // of a part's last video frame goes into the next part). Only the
    // audio after the last part's cut is left out.
    let mut whole = init.clone();
    for segment in packager.timeline().segments() {
        for part in &segment.parts {
            whole.extend_from_slice(&part.bytes);
        }
    }
    std::fs::write(dir.join("whole-parts.mp4"), whole).unwrap();
    let stderr = ffmpeg_decode(&dir, "whole-parts.mp4");
    assert!(stderr.is_empty(), "ffmpeg on whole-parts.mp4:\n{stderr}");
    let source = frames();
    for (track, kind, timescale) in [
        ("v", TrackKind::Video, 90_000),
        ("a", TrackKind::Audio, 44_100),
    ] {
        let read: Vec<i64> = ffprobe(
            &dir,
            "whole-parts.mp4",
            &["-select_streams", track, "-show_entries", "packet=dts"],
        )
        .iter()
        .map(|line| line.trim_end_matches(',').parse().unwrap())
        .collect();
        let sent: Vec<i64> = source
            .iter()
            .filter(|f| f.track() == kind && !f.is_config())
            .map(|f| (f.dts.0 * timescale + 500_000) / 1_000_000)
            .collect();
        assert!(
            read.len() <= sent.len() && read[..] == sent[..read.len()],
            "{track}: {read:?}"
        );
        // Video all of it; audio up to the last video frame, give or take
        // the frame that waited for the next when the last part was cut.
        let left_out: Vec<i64> = sent[read.len()..].to_vec();
        let last_video = Timestamp(3_960_000);
        let limit = (last_video.0 - 24_000) * timescale / 1_000_000;
        assert!(
            left_out.iter().all(|&t| t >= limit),
            "{track}: {left_out:?}"
        );
    }

    if std::env::var_os("ARCLY_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
