//! A viewer whose next frame dropped out of the ring jumps to the newest
//! keyframe held: never mid-GOP, and no audio timed before that keyframe.

mod common;

use std::time::Instant;

use arcly_engine::StreamLimits;
use common::*;

#[test]
fn viewer_falls_off_ring_jumps_to_newest_keyframe() {
    let limits = StreamLimits {
        gop_cache_frames: 0,
        ring_frames: 6,
        ..StreamLimits::default()
    };
    let mut s = origin(limits);
    push_all(&mut s, [meta("meta"), vconfig("avcC")]);
    let viewer = s.join(Instant::now());
    push_all(&mut s, [key(0, "K0")]);
    assert_eq!(drain(&mut s, viewer, 0), ["meta", "avcC", "K0"]);
    // The viewer reads nothing while 8 frames pass a ring of 6.
    push_all(
        &mut s,
        [
            delta(40, "d40"),
            delta(80, "d80"),
            key(120, "K120"),
            delta(160, "d160"),
            key(200, "K200"),
            audio(190, "a190"),
            audio(210, "a210"),
            delta(240, "d240"),
        ],
    );
    assert_eq!(
        drain(&mut s, viewer, 0),
        ["skipped 4", "meta", "avcC", "K200", "a210", "d240"]
    );
    assert_eq!(s.skips_total(), 1);
}

#[test]
fn with_no_keyframe_held_the_viewer_waits_for_the_next() {
    let limits = StreamLimits {
        gop_cache_frames: 0,
        ring_frames: 2,
        ..StreamLimits::default()
    };
    let mut s = origin(limits);
    push_all(&mut s, [vconfig("avcC"), key(0, "K0")]);
    let viewer = s.join(Instant::now());
    assert_eq!(drain(&mut s, viewer, 0), ["avcC"]);
    push_all(
        &mut s,
        [delta(40, "d40"), delta(80, "d80"), delta(120, "d120")],
    );
    assert_eq!(drain(&mut s, viewer, 0), ["skipped 3", "avcC"]);
    push_all(&mut s, [delta(160, "d160"), key(200, "K200")]);
    assert_eq!(drain(&mut s, viewer, 0), ["K200"]);
}
