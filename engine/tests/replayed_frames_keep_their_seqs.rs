//! Configs and cached frames replayed to a joiner carry the seqs they were
//! pushed as, so a driver can encode each seq once for all viewers.

mod common;

use std::time::Instant;

use arcly_engine::{Pull, StreamLimits};
use common::*;

#[test]
fn replayed_frames_keep_their_seqs() {
    let mut s = origin(StreamLimits::default());
    let pushed: Vec<u64> = [vconfig("avcC"), key(0, "K0"), delta(40, "d40")]
        .into_iter()
        .map(|f| s.push(f, Instant::now()))
        .collect();
    assert_eq!(pushed, [0, 1, 2]);
    let early = s.join(Instant::now());
    let late = s.join(Instant::now());
    for viewer in [early, late] {
        let mut seqs = Vec::new();
        while let Pull::Frame { seq, .. } = s.pull(viewer, 0) {
            seqs.push(seq);
        }
        assert_eq!(seqs, pushed);
    }
}
