//! However long a stream runs and however slow a viewer is, the stream
//! holds no more than its ring and GOP cache bounds plus its configs.

mod common;

use std::time::Instant;

use arcly_engine::StreamLimits;
use common::*;

#[test]
fn memory_stays_within_limits() {
    let limits = StreamLimits {
        gop_cache_frames: 50,
        gop_cache_bytes: 4000,
        ring_frames: 30,
        ring_bytes: 3000,
        ..StreamLimits::default()
    };
    let mut s = origin(limits.clone());
    push_all(&mut s, [vconfig("avcC"), aconfig("asc")]);
    let stalled = s.join(Instant::now());
    let body = "x".repeat(100);
    for i in 0..10_000i64 {
        let f = if i % 25 == 0 {
            key(i * 40, &body)
        } else {
            delta(i * 40, &body)
        };
        s.push(f, Instant::now());
        assert!(s.memory_bytes() <= limits.ring_bytes + limits.gop_cache_bytes + 7);
    }
    assert_eq!(s.viewer_count(), 1);
    assert!(s.viewer(stalled).is_some());
}
