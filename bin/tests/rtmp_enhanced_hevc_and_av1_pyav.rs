//! PyAV (bundling FFmpeg 8) publishes HEVC and, separately, AV1 over
//! enhanced RTMP (FourCC video tags); PyAV plays each back through arcly and
//! decodes frames with the right codec and size, starting on a keyframe.
//! A third run adds Opus audio, which enhanced RTMP carries by FourCC too.
//!
//! A PyAV (FFmpeg) player of a stream without audio probes for up to 5 s
//! before its first frame: FFmpeg's RTMP client announces audio and video in
//! the FLV header it makes up, and waits for the audio. So time to first
//! frame is printed but not checked here.
//!
//! The scripts are `tests/interop/publish.py` and `tests/interop/play.py`;
//! each prints one JSON object that this test reads.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Arcly, Background, interop_script, python, run};
use serde_json::Value;

const SECONDS: f64 = 6.0;
const PLAY_FRAMES: u64 = 45;

fn last_json(text: &str) -> Option<Value> {
    text.lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
}

fn publish_and_play(codec: &str, encoder: &str, decoder: &str, audio: Option<&str>) {
    let mut codecs = vec![encoder, decoder];
    if audio == Some("opus") {
        codecs.extend(["libopus", "opus"]);
    }
    common::require_pyav(&codecs);
    let server = Arcly::start();
    let url = server.url(&format!("live/{codec}"));
    let mut publisher = Background::spawn(
        Command::new(python())
            .arg(interop_script("publish.py"))
            .args(["--url", &url, "--codec", codec])
            .args([
                "--width", "320", "--height", "240", "--fps", "30", "--gop", "30",
            ])
            .args(["--seconds", &SECONDS.to_string()])
            .args(["--audio", audio.unwrap_or("none")]),
    );
    server.wait_live(1, &mut publisher);

    let play = run(
        Command::new(python())
            .arg(interop_script("play.py"))
            .args(["--url", &url, "--frames", &PLAY_FRAMES.to_string()])
            .args(["--timeout", "10"]),
        Duration::from_secs(30),
    );
    let played = last_json(&play.stdout).unwrap_or_else(|| {
        panic!(
            "play.py printed no JSON: {}\nserver log:\n{}",
            play.describe(),
            server.log_tail()
        )
    });
    eprintln!("play.py: {played}");
    assert!(
        play.success() && played["ok"] == true,
        "PyAV could not play the {codec} stream back: {}\nserver log:\n{}",
        play.describe(),
        server.log_tail()
    );
    assert_eq!(played["codec"], codec, "decoded codec: {played}");
    assert_eq!(played["width"], 320, "{played}");
    assert_eq!(played["height"], 240, "{played}");
    assert!(
        played["frames"].as_u64().unwrap_or(0) >= PLAY_FRAMES,
        "decoded too few frames: {played}"
    );
    assert_eq!(
        played["first_key"], true,
        "the first decoded frame is not a keyframe: {played}"
    );
    assert_eq!(
        played["errors"].as_array().map(Vec::len),
        Some(0),
        "decode errors: {played}"
    );
    if let Some(audio) = audio {
        assert_eq!(
            played["audio_codec"], audio,
            "decoded audio codec: {played}"
        );
        assert_eq!(played["audio_sample_rate"], 48000, "{played}");
        assert!(
            played["audio_frames"].as_u64().unwrap_or(0) >= 20,
            "decoded too little audio: {played}"
        );
    }

    let status = publisher.wait_exit(Duration::from_secs(SECONDS as u64 + 15));
    let published = last_json(&publisher.stdout());
    eprintln!("publish.py: {published:?}");
    assert!(
        status.is_some_and(|s| s.success()) && published.as_ref().is_some_and(|p| p["ok"] == true),
        "publish.py did not finish cleanly ({status:?}): {published:?}\n{}\nserver log:\n{}",
        publisher.describe(),
        server.log_tail()
    );
    server.stop();
}

#[test]
fn pyav_publishes_and_plays_hevc_over_enhanced_rtmp() {
    publish_and_play("hevc", "libx265", "hevc", None);
}

#[test]
fn pyav_publishes_and_plays_av1_over_enhanced_rtmp() {
    publish_and_play("av1", "libsvtav1", "libdav1d", None);
}

#[test]
fn pyav_publishes_and_plays_hevc_with_opus_audio_over_enhanced_rtmp() {
    publish_and_play("hevc", "libx265", "hevc", Some("opus"));
}
