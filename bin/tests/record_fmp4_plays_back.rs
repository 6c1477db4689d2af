//! A 30 s publish recorded as fMP4 plays back: ffprobe reads the
//! recording's `index.m3u8` (a VOD playlist with `EXT-X-ENDLIST` once the
//! publisher left) as 30 s within one GOP, with every frame there, and
//! ffmpeg decodes all of it without an error.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Arcly, Clip, TempDir, ffmpeg_publish, run};

const STREAM: &str = "live/dvr";

/// 30 s at 30 fps with a keyframe every 2 s.
const CLIP: Clip = Clip {
    width: 320,
    height: 240,
    fps: 30,
    gop: 60,
    seconds: 30,
};

#[test]
fn record_fmp4_plays_back() {
    common::require_ffmpeg();
    let clip = CLIP.file();
    let recordings = TempDir::new("arcly-recordings");
    let server = Arcly::start_with_config(&format!(
        "[record]\ndir = \"{}\"\nsegment_secs = 10\n[apps.live]\nrecord = true\n",
        recordings.path().display()
    ));
    let mut publisher = ffmpeg_publish(&clip, &server.url(STREAM), false);
    server.wait_live(1, &mut publisher);
    assert!(
        publisher.wait_exit(Duration::from_secs(45)).is_some(),
        "the publisher did not finish its clip: {}",
        publisher.describe()
    );
    let finished = server
        .wait_log_line(&["record live/dvr: finished"], Duration::from_secs(10))
        .unwrap_or_else(|| {
            panic!(
                "no `finished` line for the recording\n{}",
                server.log_tail()
            )
        });

    let dir = only_recording(&recordings.path().join(STREAM));
    let playlist = fs::read_to_string(dir.join("index.m3u8")).expect("index.m3u8");
    assert!(
        playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD") && playlist.ends_with("#EXT-X-ENDLIST\n"),
        "{playlist}"
    );
    assert!(
        playlist.contains("#EXT-X-MAP:URI=\"init.mp4\""),
        "{playlist}"
    );
    let segments = playlist.lines().filter(|l| l.ends_with(".m4s")).count();
    assert!(
        (3..=4).contains(&segments),
        "{segments} segments of 10 s in 30 s: {playlist}"
    );

    let playlist_path = dir.join("index.m3u8");
    let (duration, video_frames) = probe(&playlist_path);
    let gop = f64::from(CLIP.gop) / f64::from(CLIP.fps);
    let expected = f64::from(CLIP.seconds);
    eprintln!("recorded {duration:.3} s, {video_frames} video frames ({finished})");
    assert!(
        (duration - expected).abs() <= gop,
        "the recording lasts {duration:.3} s, the publish {expected} s (one GOP is {gop} s)\n{playlist}"
    );
    let all = u64::from(CLIP.fps * CLIP.seconds);
    let one_gop = u64::from(CLIP.gop);
    assert!(
        video_frames + one_gop >= all && video_frames <= all,
        "{video_frames} video frames recorded of {all}"
    );

    let decoded = run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
            .arg(&playlist_path)
            .args(["-f", "null", "-"]),
        Duration::from_secs(60),
    );
    assert!(
        decoded.success() && decoded.stderr.trim().is_empty(),
        "{}",
        decoded.describe()
    );
    server.stop();
}

/// The one recording directory under `stream_dir`.
fn only_recording(stream_dir: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = fs::read_dir(stream_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", stream_dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "one recording expected: {dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// The format duration ffprobe reads from `input`, and its decoded video
/// frames.
fn probe(input: &Path) -> (f64, u64) {
    let done = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args(["-show_entries", "format=duration:stream=nb_read_frames"])
            .args(["-of", "default=noprint_wrappers=1"])
            .arg(input),
        Duration::from_secs(60),
    );
    assert!(done.success(), "{}", done.describe());
    let value = |key: &str| -> String {
        done.stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("ffprobe printed no {key}: {}", done.stdout))
            .to_owned()
    };
    let duration = value("duration=").parse().expect("a duration");
    let frames = value("nb_read_frames=").parse().expect("a frame count");
    (duration, frames)
}
