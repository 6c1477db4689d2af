//! With `format = "flv"`, a publish is recorded as FLV files that each
//! play alone and, through the recording's `index.ffconcat`, play as one:
//! ffprobe reads the publish's duration within one GOP, and ffmpeg
//! decodes all of it without an error.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Arcly, Clip, TempDir, ffmpeg_publish, run, video_packets};

const STREAM: &str = "live/flv";

#[test]
fn record_flv_plays_back() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let recordings = TempDir::new("arcly-recordings");
    let server = Arcly::start_with_config(&format!(
        "[record]\ndir = \"{}\"\nformat = \"flv\"\nsegment_secs = 3\n[apps.live]\nrecord = true\n",
        recordings.path().display()
    ));
    let mut publisher = ffmpeg_publish(&clip, &server.url(STREAM), false);
    server.wait_live(1, &mut publisher);
    assert!(
        publisher.wait_exit(Duration::from_secs(30)).is_some(),
        "the publisher did not finish its clip: {}",
        publisher.describe()
    );
    server
        .wait_log_line(&["record live/flv: finished"], Duration::from_secs(10))
        .unwrap_or_else(|| {
            panic!(
                "no `finished` line for the recording\n{}",
                server.log_tail()
            )
        });

    let stream_dir = recordings.path().join(STREAM);
    let dirs: Vec<_> = fs::read_dir(&stream_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "one recording directory expected: {dirs:?}");
    let list = dirs[0].join("index.ffconcat");
    let text = fs::read_to_string(&list).unwrap();
    let files: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("file "))
        .collect();
    assert!(files.len() >= 3, "3 s files of a 10 s publish: {text}");
    for file in &files {
        let packets = video_packets(&dirs[0].join(file));
        assert!(
            packets.first().is_some_and(|p| p.key),
            "{file} does not start with a keyframe"
        );
        decodes(&[], &dirs[0].join(file));
    }

    let duration = concat_duration(&list);
    let gop = f64::from(Clip::SMALL.gop) / f64::from(Clip::SMALL.fps);
    let expected = f64::from(Clip::SMALL.seconds);
    eprintln!("recorded {duration:.3} s in {} files", files.len());
    assert!(
        (duration - expected).abs() <= gop,
        "the recording lasts {duration:.3} s, the publish {expected} s\n{text}"
    );
    decodes(&["-f", "concat"], &list);
    server.stop();
}

/// Asserts ffmpeg decodes `input` (read with `demuxer` options) with no
/// error.
fn decodes(demuxer: &[&str], input: &Path) {
    let decoded = run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-v", "error"])
            .args(demuxer)
            .arg("-i")
            .arg(input)
            .args(["-f", "null", "-"]),
        Duration::from_secs(60),
    );
    assert!(
        decoded.success() && decoded.stderr.trim().is_empty(),
        "{}",
        decoded.describe()
    );
}

/// The duration ffprobe reads from the ffconcat list `input`.
fn concat_duration(input: &Path) -> f64 {
    let done = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-f", "concat"])
            .args(["-show_entries", "format=duration", "-of", "csv=p=0"])
            .arg(input),
        Duration::from_secs(30),
    );
    assert!(done.success(), "{}", done.describe());
    done.stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no duration: {}", done.stdout))
}
