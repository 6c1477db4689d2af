//! A publisher that comes back within the grace period continues the same
//! stream: viewers on every shard stay connected and get the new
//! publisher's frames after the old one's, with no end in between.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arcly_engine::{Codec, FrameFlags, MediaFrame, PublishInfo, StreamKey, Timestamp};
use arcly_shard::owner::owner;
use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, ViewerEvent};
use bytes::Bytes;

fn video(n: i64, key: bool) -> MediaFrame {
    MediaFrame {
        codec: Codec::H264,
        dts: Timestamp(n * 40_000),
        pts: Timestamp(n * 40_000),
        flags: if key {
            FrameFlags::KEYFRAME
        } else {
            FrameFlags::NONE
        },
        payload: Bytes::from(n.to_be_bytes().to_vec()),
    }
}

#[test]
fn republish_within_grace_keeps_viewers() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let key = (0..)
        .map(|i| StreamKey::new("live", &format!("re{i}")).unwrap())
        .find(|key| owner(key, 2) == 0)
        .unwrap();
    let (seen_tx, seen) = crossbeam_channel::unbounded();
    runtime
        .spawn_on(0, move |ctx: ShardCtx| async move {
            let info = || PublishInfo::new("test", None, Instant::now());
            let first = ctx.publish(key.clone(), info()).await.unwrap();
            let joined = Arc::new(AtomicUsize::new(0));
            for shard in 0..2 {
                let (key, joined, tx) = (key.clone(), joined.clone(), seen_tx.clone());
                let watch = move |ctx: ShardCtx| {
                    ctx.clone()
                        .spawn(async move {
                            let mut sub = ctx.subscribe(&key).await.unwrap();
                            joined.fetch_add(1, Ordering::SeqCst);
                            let mut dts = Vec::new();
                            let end = loop {
                                match sub.next().await {
                                    ViewerEvent::Frame { frame, .. } => {
                                        dts.push(frame.dts.0 / 40_000)
                                    }
                                    other => break other,
                                }
                            };
                            tx.send((ctx.id(), dts, end)).unwrap();
                        })
                        .detach();
                };
                assert!(ctx.try_run_on(shard, watch).is_ok());
            }
            while joined.load(Ordering::SeqCst) < 2 {
                ctx.sleep(Duration::from_millis(1)).await;
            }
            for n in 0..5 {
                first.push(video(n, n == 0)).unwrap();
                ctx.yield_now().await;
            }
            drop(first);
            ctx.sleep(Duration::from_millis(20)).await;
            let second = ctx.publish(key.clone(), info()).await.unwrap();
            for n in 5..10 {
                second.push(video(n, n == 5)).unwrap();
                ctx.yield_now().await;
            }
            second.finish();
        })
        .join()
        .unwrap();

    for _ in 0..2 {
        let (shard, dts, end) = seen.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(end, ViewerEvent::Ended, "shard {shard}");
        assert_eq!(dts, (0..10).collect::<Vec<_>>(), "shard {shard}");
    }
    runtime.shutdown();
    runtime.join().unwrap();
}
