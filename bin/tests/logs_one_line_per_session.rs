//! With `--log-format json`, every stderr line is one JSON object, and a
//! publish and its plays (RTMP and HTTP-FLV) each log exactly one line when
//! they start and one when they end. Both carry `key`, `peer`, `shard` and
//! `protocol`; the end line adds `duration` (seconds), `bytes` (received
//! from the publisher, sent to a player) and `reason`. Nothing is logged
//! per frame.

mod common;

use std::fs;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use common::{Arcly, Clip, Player, ffmpeg_publish};
use serde_json::Value;

const KEY: &str = "live/logs";

#[test]
fn a_publish_and_two_plays_log_one_start_and_one_end_line_each() {
    common::require_ffmpeg();
    let clip = Clip::SMALL;
    let file = clip.file();
    let server = Arcly::start_with(&["--log-format", "json"], None);

    // The whole clip once, in real time: the publisher unpublishes at its
    // end, which ends the stream for the HTTP-FLV player.
    let mut publisher = ffmpeg_publish(&file, &server.url(KEY), false);
    let published = server.wait_live(1, &mut publisher);
    let mut flv = Player::copy(&format!("http://{}/{KEY}.flv", server.http));
    let mut rtmp = Player::copy(&server.url(KEY));
    rtmp.wait_video_frames(30, Duration::from_secs(15), &server);
    flv.wait_video_frames(30, Duration::from_secs(15), &server);

    // The RTMP player leaves after about 3 s of playing.
    thread::sleep(Duration::from_secs(3));
    rtmp.process.kill();
    let rtmp_frames = rtmp.video_frames();

    let exited = publisher.wait_exit(Duration::from_secs(30));
    assert!(
        exited.is_some_and(|s| s.success()),
        "the publisher failed: {}",
        publisher.describe()
    );
    let publish_secs = published.elapsed().as_secs_f64();
    flv.process.wait_exit(Duration::from_secs(10));
    wait_end_lines(&server, 3);

    let lines = json_lines(&server);
    assert!(
        lines.len() < 40,
        "{} lines for one publish and two plays: is something logged per frame?\n{}",
        lines.len(),
        server.log_tail()
    );
    let publish = one_session(&lines, "publish", "rtmp");
    let rtmp_play = one_session(&lines, "play", "rtmp");
    let flv_play = one_session(&lines, "play", "http-flv");

    // The publisher sent the whole FLV file, give or take the difference
    // between FLV tag headers and RTMP chunk headers.
    let file_bytes = fs::metadata(&file).unwrap().len() as f64;
    let (secs, bytes) = (publish.duration(), publish.bytes() as f64);
    assert!(
        (0.8..1.25).contains(&(bytes / file_bytes)),
        "publish bytes {bytes} for a {file_bytes}-byte file: {}",
        publish.end
    );
    assert!(
        (f64::from(clip.seconds) - 2.0..publish_secs + 2.0).contains(&secs),
        "publish lasted {secs} s, the clip {} s: {}",
        clip.seconds,
        publish.end
    );
    assert_eq!(publish.reason(), "publisher unpublished", "{}", publish.end);

    let (secs, bytes) = (rtmp_play.duration(), rtmp_play.bytes());
    assert!(
        (2.5..8.0).contains(&secs),
        "the RTMP player played about 3 s: {}",
        rtmp_play.end
    );
    // At least the frames it counted (a few hundred bytes each at 320x240),
    // and less than the whole stream.
    assert!(
        bytes > rtmp_frames * 100 && (bytes as f64) < file_bytes,
        "{rtmp_frames} frames in {bytes} bytes: {}",
        rtmp_play.end
    );
    assert_eq!(
        rtmp_play.reason(),
        "peer closed the connection",
        "{}",
        rtmp_play.end
    );

    assert_eq!(flv_play.reason(), "stream ended", "{}", flv_play.end);
    assert!(
        flv_play.bytes() as f64 > file_bytes * 0.3,
        "the HTTP-FLV player got most of the stream: {}",
        flv_play.end
    );
    server.stop();
}

/// Waits up to 10 s for `n` session end lines for [`KEY`].
fn wait_end_lines(server: &Arcly, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ends = json_lines(server)
            .iter()
            .filter(|l| {
                l["key"] == KEY && l["message"].as_str().is_some_and(|m| m.ends_with(" ended"))
            })
            .count();
        if ends >= n || Instant::now() >= deadline {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Every stderr line so far, each of which must be a JSON object.
fn json_lines(server: &Arcly) -> Vec<Value> {
    server
        .log()
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            assert!(value.is_object(), "not a JSON object: {line}");
            value
        })
        .collect()
}

/// The start and end lines of one session.
struct Session {
    end: Value,
}

impl Session {
    fn duration(&self) -> f64 {
        self.end["duration"].as_f64().unwrap()
    }

    fn bytes(&self) -> u64 {
        self.end["bytes"].as_u64().unwrap()
    }

    fn reason(&self) -> &str {
        self.end["reason"].as_str().unwrap()
    }
}

/// Exactly one `{role} started` and one `{role} ended` line for [`KEY`]
/// over `protocol`, with the same peer and shard and every field typed.
fn one_session(lines: &[Value], role: &str, protocol: &str) -> Session {
    let of = |message: String| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["message"] == message.as_str() && l["protocol"] == protocol)
            .collect()
    };
    let starts = of(format!("{role} started"));
    let ends = of(format!("{role} ended"));
    let all = || {
        lines
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        (starts.len(), ends.len()),
        (1, 1),
        "{protocol} {role}: want one start and one end line\n{}",
        all()
    );
    let (start, end) = (starts[0], ends[0]);
    for line in [start, end] {
        assert_eq!(line["key"], KEY, "{line}");
        let peer = line["peer"]
            .as_str()
            .unwrap_or_else(|| panic!("no peer: {line}"));
        let peer: SocketAddr = peer.parse().unwrap_or_else(|e| panic!("peer {peer}: {e}"));
        assert!(peer.ip().is_loopback(), "{line}");
        assert!(line["shard"].as_u64().is_some_and(|s| s < 2), "{line}");
        assert!(
            line["level"].is_string() && line["timestamp"].is_string(),
            "{line}"
        );
    }
    assert_eq!(start["peer"], end["peer"], "{start}\n{end}");
    assert_eq!(start["shard"], end["shard"], "{start}\n{end}");
    assert!(
        end["duration"].is_f64() || end["duration"].is_u64(),
        "{end}"
    );
    assert!(end["bytes"].is_u64(), "{end}");
    assert!(
        end["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{end}"
    );
    eprintln!("{start}\n{end}");
    Session { end: end.clone() }
}
