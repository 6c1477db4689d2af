//! With the GOP cache off, a joiner gets metadata and configs, then nothing
//! (no video, and no audio since the stream has video) until a keyframe.

mod common;

use std::time::Instant;

use arcly_engine::StreamLimits;
use common::*;

#[test]
fn gop_cache_disabled_waits_for_keyframe() {
    let limits = StreamLimits {
        gop_cache_frames: 0,
        ..StreamLimits::default()
    };
    let mut s = origin(limits);
    push_all(
        &mut s,
        [
            meta("meta"),
            vconfig("avcC"),
            aconfig("asc"),
            key(0, "K0"),
            delta(40, "d40"),
        ],
    );
    let viewer = s.join(Instant::now());
    assert_eq!(drain(&mut s, viewer, 0), ["meta", "avcC", "asc"]);
    push_all(&mut s, [audio(60, "a60"), delta(80, "d80")]);
    assert_eq!(drain(&mut s, viewer, 0), Vec::<String>::new());
    push_all(
        &mut s,
        [key(120, "K120"), audio(100, "a100"), audio(125, "a125")],
    );
    assert_eq!(drain(&mut s, viewer, 0), ["K120", "a125"]);
}
