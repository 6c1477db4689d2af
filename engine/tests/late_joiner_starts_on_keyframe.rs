//! A viewer joining mid-GOP gets metadata and configs, then the cached GOP
//! from its keyframe, then live frames, with no gap and no duplicate.

mod common;

use arcly_engine::StreamLimits;
use common::*;

#[test]
fn late_joiner_starts_on_keyframe() {
    let mut s = origin(StreamLimits::default());
    push_all(
        &mut s,
        [
            meta("meta"),
            vconfig("avcC"),
            aconfig("asc"),
            key(0, "K0"),
            audio(0, "a0"),
            delta(40, "d40"),
            key(80, "K80"),
            audio(70, "a70"),
            audio(90, "a90"),
            delta(120, "d120"),
        ],
    );
    let viewer = s.join(std::time::Instant::now());
    // a70 is timed before the keyframe the viewer starts at.
    assert_eq!(
        drain(&mut s, viewer, 0),
        ["meta", "avcC", "asc", "K80", "a90", "d120"]
    );
    push_all(&mut s, [audio(110, "a110"), delta(160, "d160")]);
    assert_eq!(drain(&mut s, viewer, 0), ["a110", "d160"]);
}
