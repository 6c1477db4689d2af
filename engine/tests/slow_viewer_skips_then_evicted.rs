//! A viewer whose queue stays over the bound jumps to each newer keyframe,
//! getting a skip notice and the configs again each time, until it passes
//! `max_skips` and is evicted. Media waits while the queue is over the
//! bound and no newer keyframe is held.

mod common;

use std::sync::Arc;
use std::time::Instant;

use arcly_engine::{EvictReason, Pull, StreamLimits};
use common::*;

#[test]
fn slow_viewer_skips_then_evicted() {
    let recorder = Arc::new(Recorder::default());
    let limits = StreamLimits {
        viewer_queue_bytes: 1000,
        max_skips: 2,
        ..StreamLimits::default()
    };
    let mut s = origin_with(limits, recorder.clone());
    push_all(&mut s, [vconfig("avcC"), aconfig("asc"), key(0, "K0")]);
    let viewer = s.join(Instant::now());
    assert_eq!(drain(&mut s, viewer, 0), ["avcC", "asc", "K0"]);

    push_all(&mut s, [delta(40, "d40"), audio(50, "a50")]);
    // Over the bound, but no newer keyframe to jump to: wait for the queue.
    assert_eq!(s.pull(viewer, 5000), Pull::Pending);

    for (round, ms) in [(1u64, 80), (2, 160)] {
        push_all(&mut s, [key(ms, "K"), delta(ms + 40, "d")]);
        let got = drain(&mut s, viewer, 5000);
        let dropped = if round == 1 { 2 } else { 1 };
        assert_eq!(got[0], format!("skipped {dropped}"));
        assert_eq!(got[1..], ["avcC", "asc"]);
        // The keyframe waits until the queue is back under its bound.
        assert_eq!(describe(&s.pull(viewer, 0)), "K");
        assert_eq!(s.viewer(viewer).unwrap().skips(), round as u32);
        assert_eq!(s.skips_total(), round);
    }

    push_all(&mut s, [key(240, "K240")]);
    assert_eq!(
        s.pull(viewer, 5000),
        Pull::Evicted(EvictReason::TooManySkips { skips: 3 })
    );
    assert_eq!(s.viewer_count(), 0);
    assert_eq!(s.evictions_total(), 1);
    assert_eq!(s.pull(viewer, 0), Pull::Ended);
    assert!(!s.leave(viewer));

    let events: Vec<String> = recorder
        .take()
        .into_iter()
        .filter(|e| !e.starts_with("frame"))
        .collect();
    assert_eq!(
        events,
        [
            "publish live/cam rtmp",
            "join 0.0",
            "skip 0.0 2",
            "skip 0.0 1",
            "evict 0.0: too slow: needed skip 3, over the limit",
        ]
    );
}
