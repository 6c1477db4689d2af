//! `ShardCtx::call_on` runs a future on another shard (or this one) and
//! brings its answer back through the mailbox; a call that outlives its
//! limit gives `None` and leaves the caller free.

use std::time::Duration;

use arcly_shard::{Runtime, RuntimeConfig, ShardCtx};

const LIMIT: Duration = Duration::from_secs(5);

#[test]
fn call_on_returns_the_other_shards_answer() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let answers: Vec<_> = runtime
        .spawn_on_all(|ctx: ShardCtx| async move {
            let here = ctx.id();
            let there = (here + 1) % ctx.shards();
            let remote = ctx
                .call_on(there, LIMIT, move |ctx| async move { (ctx.id(), here) })
                .await;
            let local = ctx
                .call_on(here, LIMIT, |ctx| async move { ctx.id() * 10 })
                .await;
            let too_slow = ctx
                .call_on(there, Duration::from_millis(50), |ctx| async move {
                    ctx.sleep(Duration::from_secs(1)).await;
                })
                .await;
            (remote, local, too_slow)
        })
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    assert_eq!(answers[0], (Some((1, 0)), Some(0), None));
    assert_eq!(answers[1], (Some((0, 1)), Some(10), None));
    runtime.shutdown();
    runtime.join().unwrap();
}
