//! Configs change in-line: viewers get the new config where it was pushed.
//! A lagging viewer is never restarted at a keyframe whose configs are gone.

mod common;

use std::time::Instant;

use arcly_engine::StreamLimits;
use common::*;

#[test]
fn a_config_change_reaches_viewers_in_line() {
    let mut s = origin(StreamLimits::default());
    push_all(&mut s, [vconfig("avcC-1"), key(0, "K0")]);
    let viewer = s.join(Instant::now());
    assert_eq!(drain(&mut s, viewer, 0), ["avcC-1", "K0"]);
    push_all(&mut s, [vconfig("avcC-2"), key(40, "K40")]);
    assert_eq!(drain(&mut s, viewer, 0), ["avcC-2", "K40"]);
    // The same header again is passed on but changes nothing.
    push_all(&mut s, [vconfig("avcC-2")]);
    assert_eq!(drain(&mut s, viewer, 0), ["avcC-2"]);
    assert_eq!(s.configs().entries()[0].0, 2);
}

#[test]
fn skip_after_config_change_waits_for_next_keyframe() {
    let limits = StreamLimits {
        gop_cache_frames: 0,
        ring_frames: 4,
        ..StreamLimits::default()
    };
    let mut s = origin(limits);
    push_all(&mut s, [vconfig("avcC-1"), key(0, "K0")]);
    let viewer = s.join(Instant::now());
    assert_eq!(drain(&mut s, viewer, 0), ["avcC-1"]);
    // K40 is held, but avcC-2 came after it: K40 was coded with avcC-1,
    // which is no longer kept, so the viewer waits for the next keyframe.
    push_all(
        &mut s,
        [
            delta(20, "d20"),
            key(40, "K40"),
            delta(80, "d80"),
            vconfig("avcC-2"),
            delta(120, "d120"),
        ],
    );
    assert_eq!(drain(&mut s, viewer, 0), ["skipped 5", "avcC-2"]);
    push_all(&mut s, [key(160, "K160")]);
    assert_eq!(drain(&mut s, viewer, 0), ["K160"]);
}
