//! A player that joins mid-GOP starts at once on the cached keyframe instead
//! of waiting for the next one, on whichever shard accepted it.
//!
//! The publisher streams a 2 s GOP in real time. Each joiner connects
//! 0.4-1.2 s into a GOP, so the keyframe in the cache is at least 0.3 s
//! older than the stream position at the join and the next keyframe at
//! least 0.8 s newer: the first frame's timestamp tells which one it got.
//! Time to first frame is ffprobe's whole run, probing included (it reads
//! about 20 frames before it decodes, so a joiner early in a GOP waits for
//! some live frames even with the cache).

mod common;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::{Arcly, Clip, ffmpeg_publish, run};
use serde_json::Value;

const CLIP: Clip = Clip {
    width: 320,
    height: 240,
    fps: 30,
    gop: 60,
    seconds: 40,
};
const GOP_SECS: f64 = 2.0;
/// Joiners at least, and at most (until both shards served one).
const MIN_JOINERS: usize = 4;
const MAX_JOINERS: usize = 16;

struct Join {
    phase: f64,
    position: f64,
    ttff: Duration,
    first_pts: f64,
    key: bool,
    pict_type: String,
    size: (u64, u64),
}

/// One late joiner: ffprobe decodes the first video frame.
fn join(url: &str, live: Instant, first_pts: f64, server: &Arcly) -> Join {
    let pos = live.elapsed().as_secs_f64();
    let probe = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_frames"])
            .args(["-read_intervals", "%+#1", "-of", "json"])
            .args([
                "-show_entries",
                "frame=key_frame,pict_type,pts_time,width,height",
            ])
            .arg(url),
        Duration::from_secs(10),
    );
    assert!(
        probe.success(),
        "a joiner failed: {}\nserver log:\n{}",
        probe.describe(),
        server.log_tail()
    );
    let doc: Value = serde_json::from_str(&probe.stdout).expect("ffprobe json");
    let frame = doc["frames"][0].clone();
    assert!(
        frame.is_object(),
        "a joiner decoded no frame: {}",
        probe.describe()
    );
    Join {
        phase: pos % GOP_SECS,
        position: pos + first_pts,
        ttff: probe.elapsed,
        first_pts: frame["pts_time"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(f64::NAN),
        key: frame["key_frame"] == 1,
        pict_type: frame["pict_type"].as_str().unwrap_or("?").to_owned(),
        size: (
            frame["width"].as_u64().unwrap_or(0),
            frame["height"].as_u64().unwrap_or(0),
        ),
    }
}

/// Sleeps until the stream is `phase` seconds into a GOP after the first.
fn wait_for_phase(live: Instant, phase: f64) {
    loop {
        let pos = live.elapsed().as_secs_f64();
        if pos > GOP_SECS && (phase..phase + 0.1).contains(&(pos % GOP_SECS)) {
            return;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn late_joiners_start_on_the_cached_keyframe_on_both_shards() {
    common::require_ffmpeg();
    let clip = CLIP.file();
    // The first video packet's pts; stream time at wall time t is about
    // (t - live) + first_pts for a `-re` publisher.
    let first_pts = common::video_packets(&clip)[0].pts_ms as f64 / 1000.0;
    let server = Arcly::start();
    let url = server.url("live/gop");
    let mut publisher = ffmpeg_publish(&clip, &url, false);
    let live = server.wait_live(1, &mut publisher);
    let out_before = server.counter("frames_out");

    // Each round, two joiners: one early in the GOP (a short cache), one
    // late (a long one). Rounds go on until both shards have served.
    let mut joins: Vec<Join> = Vec::new();
    let both_served = || {
        let now = server.counter("frames_out");
        (0..2).all(|s| now[s] > out_before[s])
    };
    while joins.len() < MIN_JOINERS || (!both_served() && joins.len() < MAX_JOINERS) {
        thread::scope(|scope| {
            wait_for_phase(live, 0.4);
            let early = scope.spawn(|| join(&url, live, first_pts, &server));
            wait_for_phase(live, 1.1);
            let late = scope.spawn(|| join(&url, live, first_pts, &server));
            joins.push(early.join().unwrap());
            joins.push(late.join().unwrap());
        });
    }
    let out_after = server.counter("frames_out");

    let mut report = String::new();
    for (i, j) in joins.iter().enumerate() {
        report.push_str(&format!(
            "joiner {i}: joined {:.2} s into a GOP at stream time {:.2} s, first frame {} key={} \
             pts {:.3} s, time to first frame {:.0} ms, {}x{}\n",
            j.phase,
            j.position,
            j.pict_type,
            j.key,
            j.first_pts,
            j.ttff.as_secs_f64() * 1000.0,
            j.size.0,
            j.size.1
        ));
    }
    eprint!("{report}");
    eprintln!("frames_out per shard: before {out_before:?}, after {out_after:?}");

    for (i, j) in joins.iter().enumerate() {
        assert!(
            j.key && j.pict_type == "I",
            "joiner {i}'s first frame is not a keyframe\n{report}"
        );
        assert_eq!(j.size, (320, 240), "joiner {i}\n{report}");
        assert!(
            j.first_pts <= j.position + 0.25,
            "joiner {i} started on a keyframe after it joined (it waited for the next GOP \
             instead of getting the cached one)\n{report}"
        );
        assert!(
            j.ttff < Duration::from_millis(1500),
            "joiner {i} took {:?} to its first frame, not below the 2 s GOP by a margin\n{report}",
            j.ttff
        );
    }
    for s in 0..2 {
        assert!(
            out_after[s] > out_before[s],
            "shard {s} handed no frames to any of {} joiners (frames_out {} -> {}): did the \
             joiners never land there (SO_REUSEPORT), or does it not count them?\n{report}",
            joins.len(),
            out_before[s],
            out_after[s]
        );
    }
    drop(publisher);
    server.stop();
}
