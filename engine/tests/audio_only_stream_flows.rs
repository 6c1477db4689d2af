//! A stream without video has no keyframe to wait for: audio flows to a
//! joiner right after the audio config.

mod common;

use std::time::Instant;

use arcly_engine::StreamLimits;
use common::*;

#[test]
fn audio_only_stream_flows() {
    let limits = StreamLimits {
        gop_cache_bytes: 0,
        ..StreamLimits::default()
    };
    let mut s = origin(limits);
    push_all(&mut s, [aconfig("asc"), audio(0, "a0")]);
    let viewer = s.join(Instant::now());
    assert_eq!(drain(&mut s, viewer, 0), ["asc"]);
    push_all(&mut s, [audio(20, "a20"), audio(40, "a40")]);
    assert_eq!(drain(&mut s, viewer, 0), ["a20", "a40"]);
}
