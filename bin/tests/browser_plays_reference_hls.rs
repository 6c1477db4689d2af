//! The browser harness on a stream arcly did not make: ffmpeg writes an
//! 8-second fMP4 HLS (H.264 640x360 at 25 fps, AAC, 1 s segments),
//! `tests/browser/play_hls.mjs` serves it on its own origin with
//! `Access-Control-Allow-Origin: *` as arcly does, and headless Chromium
//! plays it with hls.js past 2 s. The screenshot is kept in
//! `target/test-artifacts/browser_plays_reference_hls.png`.
//!
//! When this fails, a failing browser test of arcly's HLS says nothing about
//! arcly. The second test checks that a stream that cannot play is reported
//! as such, with its reason, rather than passing.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::browser::{artifact_path, play_hls_dir, require_browser};
use common::{TempDir, require_ffmpeg, run};

/// A 640x360 screenshot of testsrc is ~20 KB; one of a black, never-painted
/// video ~1.5 KB.
const MIN_PAINTED_PNG_BYTES: u64 = 8_000;

fn write_reference_hls(dir: &Path) {
    let made = run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-v", "error"])
            .args(["-f", "lavfi", "-i", "testsrc=size=640x360:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-t", "8", "-pix_fmt", "yuv420p"])
            .args(["-c:v", "libx264", "-preset", "veryfast", "-g", "25"])
            .args(["-c:a", "aac", "-b:a", "96k"])
            .args(["-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "1"])
            .args(["-hls_playlist_type", "vod"])
            .args(["-hls_fmp4_init_filename", "init.mp4"])
            .arg("-hls_segment_filename")
            .arg(dir.join("seg%03d.m4s"))
            .arg(dir.join("ll.m3u8")),
        Duration::from_secs(60),
    );
    assert!(made.success(), "ffmpeg HLS: {}", made.describe());
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    Some((be(16), be(20)))
}

#[test]
fn chromium_plays_ffmpeg_fmp4_hls_past_two_seconds() {
    require_ffmpeg();
    require_browser();
    let stream = TempDir::new("reference-hls");
    write_reference_hls(stream.path());
    let shot = artifact_path("browser_plays_reference_hls.png");

    let playback = play_hls_dir(
        stream.path(),
        "ll.m3u8",
        &shot,
        2.0,
        Duration::from_secs(30),
    );
    assert!(
        playback.ready && playback.current_time > 2.0,
        "did not play past 2 s: {}",
        playback.describe()
    );
    assert!(playback.errors.is_empty(), "{}", playback.describe());
    assert_eq!(
        (playback.video_width, playback.video_height),
        (640, 360),
        "{}",
        playback.describe()
    );
    // 2 s at 25 fps is 50 frames; the screenshot can lag a few behind.
    assert!(playback.frames_decoded >= 40, "{}", playback.describe());

    let png = fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert_eq!(png_size(&png), Some((640, 360)), "{}", shot.display());
    assert!(
        png.len() as u64 >= MIN_PAINTED_PNG_BYTES,
        "{} is {} bytes: the video was not painted",
        shot.display(),
        png.len()
    );
}

#[test]
fn a_missing_playlist_is_reported_not_played() {
    require_browser();
    let empty = TempDir::new("no-hls");
    let shot = artifact_path("browser_missing_playlist.png");

    let playback = play_hls_dir(empty.path(), "ll.m3u8", &shot, 2.0, Duration::from_secs(10));
    assert!(!playback.ready, "{}", playback.describe());
    assert!(
        playback
            .errors
            .iter()
            .any(|e| e.contains("manifestLoadError") && e.contains("HTTP 404")),
        "{}",
        playback.describe()
    );
}
