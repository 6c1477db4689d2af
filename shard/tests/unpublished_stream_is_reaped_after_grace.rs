//! A stream whose publisher left keeps its viewers through the grace period
//! (so a reconnecting publisher could continue it); once the period is over
//! the reaper ends it and viewers on every shard see the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arcly_engine::{Codec, FrameFlags, MediaFrame, PublishInfo, StreamKey, Timestamp};
use arcly_shard::owner::owner;
use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, ViewerEvent};
use bytes::Bytes;

const GRACE: Duration = Duration::from_millis(150);

#[test]
fn unpublished_stream_is_reaped_after_grace() {
    let mut config = RuntimeConfig::local(2);
    config.unpublish_grace = GRACE;
    config.reaper_interval = Duration::from_millis(10);
    let runtime = Runtime::start(config).unwrap();
    let key = (0..)
        .map(|i| StreamKey::new("live", &format!("g{i}")).unwrap())
        .find(|key| owner(key, 2) == 0)
        .unwrap();
    let (ended_tx, ended) = crossbeam_channel::unbounded();
    let left_at = runtime
        .spawn_on(0, move |ctx: ShardCtx| async move {
            let info = PublishInfo::new("test", None, Instant::now());
            let publisher = ctx.publish(key.clone(), info).await.unwrap();
            let joined = Arc::new(AtomicUsize::new(0));
            for shard in 0..2 {
                let (key, joined, tx) = (key.clone(), joined.clone(), ended_tx.clone());
                let watch = move |ctx: ShardCtx| {
                    ctx.clone()
                        .spawn(async move {
                            let mut sub = ctx.subscribe(&key).await.unwrap();
                            joined.fetch_add(1, Ordering::SeqCst);
                            let mut frames = 0;
                            let end = loop {
                                match sub.next().await {
                                    ViewerEvent::Frame { .. } => frames += 1,
                                    other => break other,
                                }
                            };
                            tx.send((ctx.id(), frames, end, Instant::now())).unwrap();
                        })
                        .detach();
                };
                assert!(ctx.try_run_on(shard, watch).is_ok());
            }
            while joined.load(Ordering::SeqCst) < 2 {
                ctx.sleep(Duration::from_millis(1)).await;
            }
            publisher
                .push(MediaFrame {
                    codec: Codec::H264,
                    dts: Timestamp::ZERO,
                    pts: Timestamp::ZERO,
                    flags: FrameFlags::KEYFRAME,
                    payload: Bytes::from_static(b"idr"),
                })
                .unwrap();
            drop(publisher);
            Instant::now()
        })
        .join()
        .unwrap();

    for _ in 0..2 {
        let (shard, frames, end, at) = ended.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(end, ViewerEvent::Ended, "shard {shard}");
        assert_eq!(frames, 1, "shard {shard} missed the keyframe");
        let after = at.duration_since(left_at);
        assert!(
            after >= GRACE,
            "shard {shard} ended {after:?} after unpublish"
        );
        assert!(after < Duration::from_secs(5), "shard {shard} ended late");
    }
    assert_eq!(runtime.stats().unwrap()[0].streams_owned, 0);
    runtime.shutdown();
    runtime.join().unwrap();
}
