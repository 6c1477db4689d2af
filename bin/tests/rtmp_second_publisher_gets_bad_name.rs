//! A second publisher for a key that is already live is refused with
//! `NetStream.Publish.BadName` (a raw client reads the exact code; ffmpeg
//! exits non-zero, quickly), while the first publisher keeps streaming to
//! its player.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Arcly, Clip, Player, RawRtmp, ffmpeg_publish, run};

#[test]
fn second_publisher_for_a_live_key_gets_bad_name_and_the_first_keeps_going() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start();
    let url = server.url("live/taken");
    let mut first = ffmpeg_publish(&clip, &url, true);
    server.wait_live(1, &mut first);
    let mut player = Player::copy(&url);
    player.wait_video_frames(10, Duration::from_secs(10), &server);

    // The exact status, from a hand-written client.
    let attempt = RawRtmp::try_publish(server.rtmp, "live", "taken").unwrap_or_else(|e| {
        panic!(
            "second raw publisher: {e}\nserver log:\n{}",
            server.log_tail()
        )
    });
    eprintln!("raw second publisher: {}", attempt.describe());
    assert_eq!(attempt.stage, "publish", "{}", attempt.describe());
    assert_eq!(
        attempt.reply.code(),
        Some("NetStream.Publish.BadName"),
        "{}",
        attempt.describe()
    );
    assert_eq!(
        attempt.reply.level(),
        Some("error"),
        "{}",
        attempt.describe()
    );
    drop(attempt);
    player.assert_flowing(15, "after the raw second publisher", &server);

    // ffmpeg as the second publisher gives up on its own, quickly.
    let second = run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-re"])
            .arg("-i")
            .arg(&clip)
            .args(["-t", "5", "-c", "copy", "-f", "flv", &url]),
        Duration::from_secs(15),
    );
    eprintln!("ffmpeg second publisher: {}", second.describe());
    assert!(
        !second.timed_out() && !second.success(),
        "ffmpeg's second publish was not refused: {}\nserver log:\n{}",
        second.describe(),
        server.log_tail()
    );
    assert!(
        second.elapsed < Duration::from_secs(4),
        "ffmpeg took {:?} to be refused",
        second.elapsed
    );
    assert!(
        !second.stderr.trim().is_empty(),
        "ffmpeg printed nothing about the refusal"
    );

    player.assert_flowing(15, "after ffmpeg's refused publish", &server);
    assert!(
        first.try_status().is_none(),
        "the first publisher stopped: {}",
        first.describe()
    );
    drop(player);
    drop(first);
    server.stop();
}
