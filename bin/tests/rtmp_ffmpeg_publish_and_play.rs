//! ffmpeg publishes an H.264 + AAC FLV (1280x720, 30 fps, 2 s GOP, B-frames)
//! with `-c copy`; while it streams, ffprobe sees both tracks with the right
//! codecs, size and rate, and an ffmpeg player that joined as the publisher
//! started decodes with no error every frame published from its first
//! keyframe on, within one GOP, and ends when the publisher leaves. Three
//! more players copying the stream (likely spread over both shards) get it
//! all too.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Arcly, Clip, Player, ffmpeg_publish, run, video_packets};
use serde_json::Value;

const CLIP: Clip = Clip {
    width: 1280,
    height: 720,
    fps: 30,
    gop: 60,
    seconds: 12,
};

fn rate(v: &Value) -> f64 {
    let s = v.as_str().unwrap_or("0/0");
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.parse().unwrap_or(0.0), d.parse().unwrap_or(0.0));
    if d == 0.0 { 0.0 } else { n / d }
}

#[test]
fn ffmpeg_publishes_h264_aac_and_players_see_and_decode_all_of_it() {
    common::require_ffmpeg();
    let clip = CLIP.file();
    let source = video_packets(&clip);
    assert_eq!(
        source.len(),
        360,
        "the clip should hold 12 s of 30 fps video"
    );
    // A short grace period, so the player is told of the end soon after the
    // publisher leaves.
    let server = Arcly::start_with_config("[streams]\nunpublish_grace_secs = 1\n");
    let url = server.url("live/test");

    let mut publisher = ffmpeg_publish(&clip, &url, false);
    let started = Instant::now();
    server.wait_live(1, &mut publisher);
    let mut player = Player::decode(&url);
    // More players beside it, copying, so that most likely both shards
    // (the owner and a mirror) serve the whole stream.
    let mut copies: Vec<Player> = (0..3).map(|_| Player::copy(&url)).collect();

    // ffprobe while the stream is live.
    let probe = run(
        Command::new("ffprobe").args(["-v", "error", "-show_streams", "-of", "json", &url]),
        Duration::from_secs(20),
    );
    assert!(probe.success(), "ffprobe failed: {}", probe.describe());
    let doc: Value = serde_json::from_str(&probe.stdout).expect("ffprobe json");
    let streams = doc["streams"].as_array().cloned().unwrap_or_default();
    let of_type = |t: &str| {
        streams
            .iter()
            .find(|s| s["codec_type"] == t)
            .cloned()
            .unwrap_or_else(|| panic!("ffprobe saw no {t} stream: {}", probe.stdout))
    };
    let video = of_type("video");
    let audio = of_type("audio");
    assert_eq!(video["codec_name"], "h264", "{video}");
    assert_eq!(video["width"], 1280, "{video}");
    assert_eq!(video["height"], 720, "{video}");
    let fps = [rate(&video["avg_frame_rate"]), rate(&video["r_frame_rate"])];
    assert!(
        fps.iter().any(|f| (f - 30.0).abs() < 0.1),
        "ffprobe sees {fps:?} fps, not 30: {video}"
    );
    assert_eq!(audio["codec_name"], "aac", "{audio}");
    assert_eq!(audio["sample_rate"], "48000", "{audio}");
    assert_eq!(audio["channels"], 2, "{audio}");

    // The publisher sends its 12 s in real time, then leaves.
    let published = publisher.wait_exit(Duration::from_secs(30));
    assert!(
        published.is_some_and(|s| s.success()),
        "the publisher did not finish cleanly: {}\nserver log:\n{}",
        publisher.describe(),
        server.log_tail()
    );
    eprintln!("published in {:.1?}", started.elapsed());
    let ended = player.process.wait_exit(Duration::from_secs(10));
    for copy in &mut copies {
        copy.process.wait_exit(Duration::from_secs(5));
    }

    // Compare what the player decoded with what the publisher sent from the
    // player's first frame on. With -copyts, decoded video pts are stream
    // time in 1/30 s, so the source packet pts (ms) map onto them.
    let played = player.video_frames();
    let first = player
        .first_video_pts()
        .unwrap_or_else(|| panic!("the player decoded no video: {}", player.process.describe()));
    let index = |pts_ms: i64| (pts_ms * 30 + 500).div_euclid(1000);
    let expected = source.iter().filter(|p| index(p.pts_ms) >= first).count() as u64;
    let first_key = source.iter().find(|p| index(p.pts_ms) == first);
    eprintln!(
        "player: first video pts {first} (source packet {first_key:?}), {played} video frames \
         decoded, {expected} published from there on; {} audio frames",
        player.audio_frames()
    );
    let stderr = player.process.stderr();
    assert!(
        stderr.trim().is_empty(),
        "the player reported errors while decoding:\n{}",
        common::tail(&stderr, 30)
    );
    assert!(
        first_key.is_some_and(|p| p.key),
        "the player's first frame (pts {first}) is not a published keyframe: {first_key:?}"
    );
    assert!(
        first < 2 * 60 + 2,
        "the player, started as the publisher went live, began only at frame {first}"
    );
    assert!(
        played.abs_diff(expected) <= 60,
        "the player decoded {played} video frames, {expected} were published from its first \
         frame on (tolerance one GOP, 60)"
    );
    assert!(
        player.audio_frames() > 400,
        "the player decoded only {} audio frames of ~560",
        player.audio_frames()
    );
    eprintln!(
        "copying players got {:?} video packets; frames_out per shard {:?}",
        copies.iter().map(Player::video_frames).collect::<Vec<_>>(),
        server.counter("frames_out")
    );
    for (i, copy) in copies.iter_mut().enumerate() {
        let got = copy.video_frames();
        assert!(
            (300..=360).contains(&got),
            "copying player {i} got {got} of the 360 video packets (tolerance one GOP): {}",
            copy.process.describe()
        );
    }
    assert!(
        ended.is_some(),
        "the player was still running 10 s after the publisher left (grace 1 s): no \
         onStatus NetStream.Play.UnpublishNotify, which ends an ffmpeg player?\nserver log:\n{}",
        server.log_tail()
    );
    server.stop();
}
