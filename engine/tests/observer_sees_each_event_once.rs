//! Publish and frame events fire on the origin only, so each happens once
//! however many mirrors there are; viewer events fire where the viewer is.

mod common;

use std::sync::Arc;
use std::time::Instant;

use arcly_engine::{Stream, StreamLimits};
use common::*;

#[test]
fn observer_sees_each_event_once() {
    let on_origin = Arc::new(Recorder::default());
    let on_mirror = Arc::new(Recorder::default());
    let limits = StreamLimits::default();
    let mut origin = origin_with(limits.clone(), on_origin.clone());
    push_all(&mut origin, [key(0, "K0")]);
    let mut mirror =
        Stream::from_snapshot(origin.snapshot(), limits, on_mirror.clone(), Instant::now());
    let now = Instant::now();
    for s in [&mut origin, &mut mirror] {
        s.push(delta(40, "d40"), now);
        let viewer = s.join(now);
        s.leave(viewer);
        s.end(now);
    }
    assert_eq!(
        on_origin.take(),
        [
            "publish live/cam rtmp",
            "frame K0",
            "frame d40",
            "join 0.0",
            "leave 0.0",
            "end live/cam"
        ]
    );
    assert_eq!(on_mirror.take(), ["join 0.0", "leave 0.0"]);
}
