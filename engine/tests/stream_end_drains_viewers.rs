//! When the stream ends, viewers still get what they have not read, then
//! `Ended`, and keep getting `Ended`.

mod common;

use std::sync::Arc;
use std::time::Instant;

use arcly_engine::{Pull, StreamLimits, StreamState};
use common::*;

#[test]
fn stream_end_drains_viewers() {
    let recorder = Arc::new(Recorder::default());
    let mut s = origin_with(StreamLimits::default(), recorder.clone());
    push_all(&mut s, [vconfig("avcC"), key(0, "K0")]);
    let viewer = s.join(Instant::now());
    assert_eq!(
        s.pull(viewer, 0),
        Pull::Frame {
            seq: 0,
            frame: vconfig("avcC")
        }
    );
    push_all(&mut s, [delta(40, "d40")]);
    s.end(Instant::now());
    s.end(Instant::now());
    assert_eq!(s.state(), StreamState::Ended);
    assert_eq!(drain(&mut s, viewer, 0), ["K0", "d40", "ended"]);
    assert_eq!(s.pull(viewer, 0), Pull::Ended);

    // A viewer arriving now still gets the cached GOP before the end.
    let late = s.join(Instant::now());
    assert_eq!(drain(&mut s, late, 0), ["avcC", "K0", "d40", "ended"]);
    assert!(s.leave(viewer));
    assert_eq!(s.viewer_count(), 1);

    let ends = recorder
        .take()
        .into_iter()
        .filter(|e| e.starts_with("end"))
        .count();
    assert_eq!(ends, 1);
}
