//! Subscribing to a key nobody publishes fails with `NotFound`, on the
//! owner shard and on any other (where the owner answers).

use arcly_engine::StreamKey;
use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, SubscribeError};

#[test]
fn unknown_stream_is_not_found() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let key = StreamKey::new("live", "nobody").unwrap();
    let answers: Vec<_> = runtime
        .spawn_on_all(move |ctx: ShardCtx| {
            let key = key.clone();
            async move { ctx.subscribe(&key).await.err() }
        })
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    let key = StreamKey::new("live", "nobody").unwrap();
    assert_eq!(
        answers,
        vec![Some(SubscribeError::NotFound(key.clone())); 2]
    );
    let stats = runtime.stats().unwrap();
    assert_eq!(stats[0].streams_mirrored + stats[1].streams_mirrored, 0);
    runtime.shutdown();
    runtime.join().unwrap();
}
