//! A mirror built from a snapshot and fed the same later pushes serves its
//! viewers exactly what the origin serves its own, seqs included.

mod common;

use std::sync::Arc;
use std::time::Instant;

use arcly_engine::{MediaFrame, NoopObserver, Pull, Stream, StreamLimits, StreamState};
use common::*;

fn push_both(origin: &mut Stream, mirror: &mut Stream, frames: Vec<MediaFrame>) {
    for f in frames {
        let seq = origin.push(f.clone(), Instant::now());
        assert_eq!(mirror.push(f, Instant::now()), seq);
    }
}

fn drain_pulls(s: &mut Stream, id: arcly_engine::ViewerId) -> Vec<Pull> {
    std::iter::from_fn(|| match s.pull(id, 0) {
        Pull::Pending => None,
        pull => Some(pull),
    })
    .collect()
}

#[test]
fn mirror_matches_origin() {
    let limits = StreamLimits::default();
    let mut origin = origin(limits.clone());
    push_all(
        &mut origin,
        [
            meta("meta"),
            vconfig("avcC"),
            aconfig("asc"),
            key(0, "K0"),
            delta(40, "d40"),
            key(80, "K80"),
            audio(85, "a85"),
        ],
    );
    let snapshot = origin.snapshot();
    assert_eq!(snapshot.next_seq(), 7);
    assert_eq!(snapshot.gop_frames().len(), 2);
    assert_eq!(snapshot.state(), StreamState::Live);
    let mut mirror =
        Stream::from_snapshot(snapshot, limits, Arc::new(NoopObserver), Instant::now());
    assert!(!mirror.is_origin());
    assert_eq!(mirror.next_seq(), origin.next_seq());

    let on_origin = origin.join(Instant::now());
    let on_mirror = mirror.join(Instant::now());
    let first = drain_pulls(&mut origin, on_origin);
    assert_eq!(first.len(), 5);
    assert_eq!(first, drain_pulls(&mut mirror, on_mirror));

    push_both(
        &mut origin,
        &mut mirror,
        vec![delta(120, "d120"), vconfig("avcC-2"), key(160, "K160")],
    );
    let late_origin = origin.join(Instant::now());
    let late_mirror = mirror.join(Instant::now());
    push_both(&mut origin, &mut mirror, vec![audio(170, "a170")]);
    assert_eq!(
        drain_pulls(&mut origin, on_origin),
        drain_pulls(&mut mirror, on_mirror)
    );
    let late = drain_pulls(&mut origin, late_origin);
    assert_eq!(
        late.iter().map(describe).collect::<Vec<_>>(),
        ["meta", "asc", "avcC-2", "K160", "a170"]
    );
    assert_eq!(late, drain_pulls(&mut mirror, late_mirror));
}
