//! A key that is live refuses a second publisher, whether it asks on the
//! owner shard or on another; once the first one finishes, the key is free.

use std::time::Instant;

use arcly_engine::{PublishInfo, StreamKey};
use arcly_shard::owner::owner;
use arcly_shard::{PublishError, Runtime, RuntimeConfig, ShardCtx};

#[test]
fn second_publisher_is_refused() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let key = (0..)
        .map(|i| StreamKey::new("live", &format!("k{i}")).unwrap())
        .find(|key| owner(key, 2) == 0)
        .unwrap();
    let info = || PublishInfo::new("test", None, Instant::now());

    let k = key.clone();
    let first = runtime.spawn_on(0, move |ctx: ShardCtx| async move {
        let publisher = ctx.publish(k.clone(), info()).await.unwrap();
        let local = ctx.publish(k.clone(), info()).await.err();
        // Ask from the other shard while the first publisher is live.
        let k2 = k.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let ask = move |ctx: ShardCtx| {
            ctx.clone()
                .spawn(async move {
                    let _ = tx.send(ctx.publish(k2, info()).await.err());
                })
                .detach();
        };
        assert!(ctx.try_run_on(1, ask).is_ok());
        let remote = loop {
            if let Ok(answer) = rx.try_recv() {
                break answer;
            }
            ctx.sleep(std::time::Duration::from_millis(1)).await;
        };
        publisher.finish();
        let again = ctx.publish(k, info()).await.map(|p| p.is_local());
        (local, remote, again)
    });
    let (local, remote, again) = first.join().unwrap();
    assert_eq!(local, Some(PublishError::AlreadyPublished(key.clone())));
    assert_eq!(remote, Some(PublishError::AlreadyPublished(key)));
    assert_eq!(again, Ok(true));
    runtime.shutdown();
    runtime.join().unwrap();
}
