//! `GET /metrics` from a live run — ffmpeg publishing, three RTMP players
//! and one HTTP-FLV player over two shards — passes `promtool check
//! metrics` (the Debian package `prometheus`), and its numbers are the
//! ones the test set up: one stream, one publisher, three RTMP and one
//! HTTP-FLV viewers, two players refused (not found), a join time per
//! player, 60-frame GOPs.

mod api_client;
mod common;

use std::thread;
use std::time::{Duration, Instant};

use api_client::{Sample, call, parse_metrics, promtool_check, sum};
use common::{Arcly, Clip, Player, ffmpeg_publish};

/// Scrapes until `done` holds for the samples, or fails after 15 s.
fn scrape_until(server: &Arcly, what: &str, done: impl Fn(&[Sample]) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = call(server.http, "GET", "/metrics", None);
        assert_eq!(answer.status, 200, "GET /metrics: {}", answer.body);
        if done(&parse_metrics(&answer.body)) {
            return answer.body;
        }
        if Instant::now() >= deadline {
            panic!(
                "/metrics never showed {what}:\n{}\nserver log:\n{}",
                answer.body,
                server.log_tail()
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn metrics_of_a_live_run_pass_promtool_and_count_what_was_set_up() {
    common::require_ffmpeg();
    // Fail early, with the install command, rather than after the setup.
    promtool_check("");
    let server = Arcly::start();
    let clip = Clip::SMALL.file();
    let url = server.url("live/metrics");
    let mut publisher = ffmpeg_publish(&clip, &url, true);
    server.wait_live(1, &mut publisher);

    let flv = format!("http://{}/live/metrics.flv", server.http);
    let mut players: Vec<Player> = (0..3).map(|_| Player::copy(&url)).collect();
    players.push(Player::copy(&flv));
    // Past a second keyframe, so delivery latency has samples.
    for player in &mut players {
        player.wait_video_frames(100, Duration::from_secs(20), &server);
    }

    // Two refusals: an RTMP and an HTTP-FLV player of a stream that is not
    // live.
    let mut refused = Player::copy(&server.url("live/absent"));
    assert!(
        refused.process.wait_exit(Duration::from_secs(10)).is_some(),
        "a player of an absent stream was not refused"
    );
    let absent = call(server.http, "GET", "/live/absent.flv", None);
    assert_eq!(absent.status, 404, "{}", absent.body);

    let text = scrape_until(&server, "3 rtmp and 1 http-flv viewers, 2 refused", |s| {
        sum(s, "arcly_viewers", &[("protocol", "rtmp")]) == 3.0
            && sum(s, "arcly_viewers", &[("protocol", "http-flv")]) == 1.0
            && sum(s, "arcly_refused_total", &[("reason", "not_found")]) == 2.0
    });
    let (passed, said) = promtool_check(&text);
    eprintln!(
        "promtool check metrics on {} lines: passed={passed}, said {:?}",
        text.lines().count(),
        said.trim()
    );
    assert!(passed, "promtool check metrics failed:\n{said}\n{text}");
    assert!(said.trim().is_empty(), "promtool had remarks:\n{said}");

    let samples = parse_metrics(&text);
    let total = |name: &str, with: &[(&str, &str)]| sum(&samples, name, with);
    assert_eq!(total("arcly_shard_info", &[]), 2.0, "{text}");
    assert_eq!(total("arcly_streams", &[("copy", "origin")]), 1.0, "{text}");
    assert_eq!(total("arcly_publishers", &[]), 1.0, "{text}");
    assert!(
        total("arcly_subscriptions", &[]) >= 4.0,
        "four players, fewer subscriptions:\n{text}"
    );
    for counter in [
        "arcly_frames_in_total",
        "arcly_bytes_in_total",
        "arcly_frames_out_total",
        "arcly_bytes_out_total",
        "arcly_connections_accepted_total",
    ] {
        assert!(total(counter, &[]) > 0.0, "{counter} is 0:\n{text}");
    }
    for shard in ["0", "1"] {
        assert_eq!(
            samples
                .iter()
                .filter(|s| s.name == "arcly_frames_in_total" && s.labels["shard"] == shard)
                .count(),
            1,
            "no frames_in series for shard {shard}"
        );
    }
    // Every player joined once and saw later keyframes.
    assert!(total("arcly_join_seconds_count", &[]) >= 4.0, "{text}");
    assert!(total("arcly_join_seconds_sum", &[]) > 0.0, "{text}");
    assert!(
        total("arcly_delivery_latency_seconds_count", &[]) >= 4.0,
        "{text}"
    );
    // The clip's GOPs are 60 frames; allow one odd GOP where the loop
    // starts over.
    let gops = total("arcly_gop_frames_count", &[]);
    let at_most = |le: &str| total("arcly_gop_frames_bucket", &[("le", le)]);
    assert!(gops >= 1.0, "no GOP recorded:\n{text}");
    assert!(
        at_most("60") - at_most("50") >= gops - 1.0,
        "GOPs of the 60-frame clip fall outside (50, 60]:\n{text}"
    );
    assert!(total("arcly_gop_bytes_sum", &[]) > 0.0, "{text}");

    for player in &mut players {
        player.process.kill();
    }
    publisher.kill();
    server.stop();
}
