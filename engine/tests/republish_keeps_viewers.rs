//! A publisher that comes back within the grace period continues the
//! stream: viewers stay and get the new publisher's frames; joiners start at
//! its first keyframe, not at the old publisher's GOP.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcly_engine::{PublishInfo, Pull, StreamLimits, StreamState};
use common::*;

#[test]
fn republish_keeps_viewers() {
    let recorder = Arc::new(Recorder::default());
    let mut s = origin_with(StreamLimits::default(), recorder.clone());
    push_all(&mut s, [vconfig("avcC"), key(0, "K0")]);
    let viewer = s.join(Instant::now());
    assert_eq!(drain(&mut s, viewer, 0), ["avcC", "K0"]);

    let left = Instant::now();
    s.unpublish(left);
    assert_eq!(
        (s.state(), s.state_since()),
        (StreamState::Unpublished, left)
    );
    assert_eq!(s.pull(viewer, 0), Pull::Pending);

    let back = left + Duration::from_secs(2);
    s.republish(PublishInfo::new("srt", None, back), back);
    assert_eq!(s.state(), StreamState::Live);
    assert_eq!(s.info().protocol, "srt");
    let joiner = s.join(back);
    push_all(
        &mut s,
        [vconfig("avcC-new"), key(0, "K0-new"), delta(40, "d40-new")],
    );
    assert_eq!(drain(&mut s, viewer, 0), ["avcC-new", "K0-new", "d40-new"]);
    assert_eq!(
        drain(&mut s, joiner, 0),
        ["avcC", "avcC-new", "K0-new", "d40-new"]
    );

    let publishes = recorder
        .take()
        .into_iter()
        .filter(|e| e.starts_with("publish"))
        .count();
    assert_eq!(publishes, 2);

    s.end(back);
    s.republish(PublishInfo::new("rtmp", None, back), back);
    assert_eq!(s.state(), StreamState::Ended);
}
