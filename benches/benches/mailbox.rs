//! Mailbox: ns per message from shard 0 to shard 1, each pinned to its own
//! CPU, unbatched (one queue push and possibly one cross-core wake per
//! message) and batched (one push and at most one wake per batch). Target:
//! ≤ 100 ns per message amortized over batches.
//!
//! Run: `cargo bench -p arcly-bench --bench mailbox`. Criterion's "time" is
//! per message.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::time::Duration;

use arcly_shard::placement::{Placement, PlacementRequest, Topology};
use arcly_shard::{Runtime, RuntimeConfig};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn mailbox(c: &mut Criterion) {
    // Two shards on two distinct CPUs when the machine has them.
    let shards = match Topology::detect().and_then(|t| {
        Placement::plan(
            &t,
            &PlacementRequest {
                shards: Some(2),
                ..Default::default()
            },
        )
    }) {
        Ok(placement) => RuntimeConfig::new(placement.shards),
        Err(_) => RuntimeConfig::local(2),
    };
    let runtime = Runtime::start(shards).expect("start two shards");
    let mut group = c.benchmark_group("mailbox");
    group.measurement_time(Duration::from_secs(5));
    for batch in [1usize, 8, 64, 256] {
        group.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, &batch| {
            b.iter_custom(|messages| {
                runtime
                    .bench_mailbox(0, 1, messages.max(1), batch)
                    .expect("mailbox round")
            })
        });
    }
    group.finish();
    runtime.shutdown();
    runtime.join().expect("join shards");
}

criterion_group!(benches, mailbox);
criterion_main!(benches);
