//! A recording directory that cannot be created (its parent is a regular
//! file; tests run as root, so permissions would not stop it) stops the
//! recording with one log line that says why, and nothing else: the
//! stream goes on playing to its players.

mod common;

use std::fs;
use std::time::Duration;

use common::{Arcly, Clip, Player, TempDir, ffmpeg_publish};

const STREAM: &str = "live/unwritable";

#[test]
fn record_unwritable_dir_keeps_the_stream() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let scratch = TempDir::new("arcly-recordings");
    let file = scratch.path().join("a-file");
    fs::write(&file, b"not a directory").unwrap();
    let server = Arcly::start_with_config(&format!(
        "[record]\ndir = \"{}\"\n[apps.live]\nrecord = true\n",
        file.join("recordings").display()
    ));
    let mut publisher = ffmpeg_publish(&clip, &server.url(STREAM), true);
    server.wait_live(1, &mut publisher);

    let line = server
        .wait_log_line(
            &["record live/unwritable: stopped:"],
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| {
            panic!(
                "no line saying the recording stopped\n{}",
                server.log_tail()
            )
        });
    assert!(
        line.contains("cannot create directory") && line.contains("Not a directory"),
        "{line}"
    );
    assert_eq!(
        server.total("recordings_failed"),
        1,
        "the failure is counted"
    );

    // The stream is untouched: a player joins and keeps receiving it.
    let mut player = Player::copy(&server.url(STREAM));
    player.wait_video_frames(60, Duration::from_secs(15), &server);
    player.assert_flowing(60, "after the recording stopped", &server);
    let stopped = server
        .log()
        .iter()
        .filter(|l| l.contains("record live/unwritable"))
        .count();
    assert_eq!(
        stopped,
        1,
        "one log line for the failed recording\n{}",
        server.log_tail()
    );
    assert!(
        publisher.try_status().is_none(),
        "the publisher was cut off: {}",
        publisher.describe()
    );
    server.stop();
}
