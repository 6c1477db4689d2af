//! A real browser plays arcly's LL-HLS: headless Chromium with hls.js
//! (low-latency mode) plays `ll.m3u8` of an RTMP publish on a 2-shard
//! arcly, from a page on another origin, past 2 s of media. The screenshot
//! of the playing video is kept as `target/test-artifacts/hls_plays_in_chromium.png`.

mod common;

use std::time::Duration;

use common::browser::{artifact_path, play_hls, require_browser};
use common::{Arcly, Clip, ffmpeg_publish, wait_segments};

const STREAM: &str = "live/browser";

#[test]
fn chromium_plays_ll_hls_past_two_seconds() {
    require_browser();
    let clip = Clip::SMALL;
    let server = Arcly::start();
    let mut publisher = ffmpeg_publish(&clip.file(), &server.url(STREAM), true);
    server.wait_live(1, &mut publisher);
    wait_segments(&server, STREAM, "ll.m3u8", 1);

    let url = format!("http://{}/{STREAM}/ll.m3u8", server.http);
    let screenshot = artifact_path("hls_plays_in_chromium.png");
    let playback = play_hls(&url, &screenshot, 2.0, Duration::from_secs(40));
    assert!(playback.ready, "{}", playback.describe());
    assert!(playback.current_time > 2.0, "{}", playback.describe());
    assert!(playback.errors.is_empty(), "{}", playback.describe());
    assert_eq!(
        (playback.video_width, playback.video_height),
        (clip.width, clip.height),
        "{}",
        playback.describe()
    );
    let png = std::fs::metadata(&screenshot).expect("the screenshot was written");
    assert!(
        png.len() > 2_000,
        "a painted frame, not a black one: {} bytes",
        png.len()
    );
}
