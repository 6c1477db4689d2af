//! A publisher that drops its connection and comes back within the grace
//! period continues the same recording: one directory, one playlist with
//! an `EXT-X-DISCONTINUITY` where the new publisher starts, on one
//! timeline that lasts as long as both publishes, decoding without an
//! error.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{Arcly, Clip, TempDir, ffmpeg_publish, run};

const STREAM: &str = "live/reconnect";

#[test]
fn record_survives_publisher_reconnect() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let recordings = TempDir::new("arcly-recordings");
    let server = Arcly::start_with_config(&format!(
        "[streams]\nunpublish_grace_secs = 10\n[record]\ndir = \"{}\"\nsegment_secs = 4\nall_apps = true\n",
        recordings.path().display()
    ));

    // The first publisher loops the clip and is killed after ~6 s: its
    // connection drops without an unpublish, so the stream waits.
    let mut first = ffmpeg_publish(&clip, &server.url(STREAM), true);
    let live = server.wait_live(1, &mut first);
    thread::sleep(Duration::from_secs(6));
    first.kill();
    let first_secs = live.elapsed().as_secs_f64();
    server
        .wait_log_line(&["peer closed the connection"], Duration::from_secs(5))
        .unwrap_or_else(|| panic!("the dropped publisher was not seen\n{}", server.log_tail()));

    // The second publishes the whole 10 s clip and unpublishes.
    let mut second = ffmpeg_publish(&clip, &server.url(STREAM), false);
    let started = Instant::now();
    assert!(
        second
            .wait_exit(Duration::from_secs(30))
            .is_some_and(|s| s.success()),
        "the second publisher failed: {}",
        second.describe()
    );
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "the clip did not play in real time"
    );
    server
        .wait_log_line(
            &["record live/reconnect: finished"],
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| {
            panic!(
                "no `finished` line for the recording\n{}",
                server.log_tail()
            )
        });
    let started = server
        .log()
        .iter()
        .filter(|l| l.contains("record live/reconnect: recording to"))
        .count();
    assert_eq!(started, 1, "one recording expected\n{}", server.log_tail());

    let stream_dir = recordings.path().join(STREAM);
    let dirs: Vec<_> = fs::read_dir(&stream_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "one recording directory expected: {dirs:?}");
    let playlist_path = dirs[0].join("index.m3u8");
    let playlist = fs::read_to_string(&playlist_path).unwrap();
    assert!(playlist.ends_with("#EXT-X-ENDLIST\n"), "{playlist}");
    assert_eq!(
        playlist.matches("#EXT-X-DISCONTINUITY").count(),
        1,
        "{playlist}"
    );

    let duration = duration(&playlist_path);
    let gop = f64::from(Clip::SMALL.gop) / f64::from(Clip::SMALL.fps);
    let expected = first_secs + f64::from(Clip::SMALL.seconds);
    eprintln!("recorded {duration:.3} s of {expected:.3} s published");
    // One GOP, and the first publisher's start-up and end, which the wall
    // clock around it cannot see exactly.
    assert!(
        (duration - expected).abs() <= gop + 1.0,
        "the recording lasts {duration:.3} s, the publishes {expected:.3} s\n{playlist}"
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

/// The duration ffprobe reads from `input`.
fn duration(input: &Path) -> f64 {
    let done = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(input),
        Duration::from_secs(30),
    );
    assert!(done.success(), "{}", done.describe());
    done.stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no duration: {}", done.stdout))
}
