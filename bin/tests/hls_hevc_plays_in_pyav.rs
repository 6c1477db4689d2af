//! HEVC published over enhanced RTMP by PyAV (FFmpeg 8) is packaged as
//! fMP4 (`hvc1` / `hvcC`) and PyAV plays it back through `ll.m3u8`: HEVC
//! at the published size, starting on a keyframe, with no decode errors.
//! The same publish with Opus audio plays too (fMP4 `Opus` / `dOps`); the
//! MPEG-TS playlist is refused for it with a clear `404`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Arcly, Background, get_playlist, interop_script, python, run, wait_segments};
use serde_json::Value;

const PLAY_FRAMES: u64 = 30;

fn last_json(text: &str) -> Option<Value> {
    text.lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
}

fn publish_hevc_and_play_hls(stream: &str, audio: &str) -> Value {
    let mut codecs = vec!["libx265", "hevc"];
    if audio == "opus" {
        codecs.extend(["libopus", "opus"]);
    }
    common::require_pyav(&codecs);
    let server = Arcly::start();
    let mut publisher = Background::spawn(
        Command::new(python())
            .arg(interop_script("publish.py"))
            .args(["--url", &server.url(stream), "--codec", "hevc"])
            .args([
                "--width", "320", "--height", "240", "--fps", "30", "--gop", "30",
            ])
            .args(["--seconds", "12", "--audio", audio]),
    );
    server.wait_live(1, &mut publisher);
    wait_segments(&server, stream, "ll.m3u8", 2);
    if audio == "opus" {
        let (status, answer) = get_playlist(&server, stream, "index.m3u8");
        assert_eq!(status, 404, "MPEG-TS cannot carry Opus: {}", answer.text);
    }

    let url = format!("http://{}/{stream}/ll.m3u8", server.http);
    let play = run(
        Command::new(python())
            .arg(interop_script("play.py"))
            .args(["--url", &url, "--frames", &PLAY_FRAMES.to_string()])
            .args(["--timeout", "15"]),
        Duration::from_secs(40),
    );
    let played = last_json(&play.stdout).unwrap_or_else(|| {
        panic!(
            "play.py printed no JSON: {}\nserver log:\n{}",
            play.describe(),
            server.log_tail()
        )
    });
    assert!(
        play.success() && played["ok"] == true,
        "PyAV could not play HEVC over HLS: {}\nserver log:\n{}",
        play.describe(),
        server.log_tail()
    );
    assert_eq!(played["codec"], "hevc", "{played}");
    assert_eq!(
        (played["width"].clone(), played["height"].clone()),
        (320.into(), 240.into())
    );
    assert!(
        played["frames"].as_u64().unwrap_or(0) >= PLAY_FRAMES,
        "{played}"
    );
    assert_eq!(played["first_key"], true, "{played}");
    assert_eq!(
        played["errors"].as_array().map(Vec::len),
        Some(0),
        "{played}"
    );
    publisher.kill();
    played
}

#[test]
fn pyav_plays_hevc_through_the_fmp4_playlist() {
    publish_hevc_and_play_hls("live/hevc", "none");
}

#[test]
fn pyav_plays_hevc_with_opus_through_the_fmp4_playlist() {
    let played = publish_hevc_and_play_hls("live/hevc-opus", "opus");
    assert_eq!(played["audio_codec"], "opus", "{played}");
    assert!(
        played["audio_frames"].as_u64().unwrap_or(0) >= 20,
        "{played}"
    );
}
