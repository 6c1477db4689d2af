//! When the last viewer of a mirror leaves, the shard drops the mirror and
//! unsubscribes: the owner stops relaying to it.

use std::time::{Duration, Instant};

use arcly_engine::{Codec, FrameFlags, MediaFrame, PublishInfo, StreamKey, Timestamp};
use arcly_shard::owner::owner;
use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, ViewerEvent};
use bytes::Bytes;

fn keyframe(n: i64) -> MediaFrame {
    MediaFrame {
        codec: Codec::H264,
        dts: Timestamp(n),
        pts: Timestamp(n),
        flags: FrameFlags::KEYFRAME,
        payload: Bytes::from_static(b"idr"),
    }
}

#[test]
fn last_viewer_leaving_unsubscribes_mirror() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let key = (0..)
        .map(|i| StreamKey::new("live", &format!("u{i}")).unwrap())
        .find(|key| owner(key, 2) == 0)
        .unwrap();
    let (frames_in_while_watched, frames_in_after) = runtime
        .spawn_on(0, move |ctx: ShardCtx| async move {
            let info = PublishInfo::new("test", None, Instant::now());
            let publisher = ctx.publish(key.clone(), info).await.unwrap();
            let (tx, rx) = crossbeam_channel::bounded(1);
            let k = key.clone();
            let watch = move |ctx: ShardCtx| {
                ctx.clone()
                    .spawn(async move {
                        let mut first = ctx.subscribe(&k).await.unwrap();
                        let mut second = ctx.subscribe(&k).await.unwrap();
                        assert!(first.is_mirrored() && second.is_mirrored());
                        let _ = tx.send(());
                        // Both viewers leave after the first three frames.
                        for sub in [&mut first, &mut second] {
                            for _ in 0..3 {
                                assert!(matches!(sub.next().await, ViewerEvent::Frame { .. }));
                            }
                        }
                        drop((first, second));
                    })
                    .detach();
            };
            assert!(ctx.try_run_on(1, watch).is_ok());
            while rx.try_recv().is_err() {
                ctx.sleep(Duration::from_millis(1)).await;
            }
            for n in 0..3 {
                publisher.push(keyframe(n)).unwrap();
                ctx.yield_now().await;
            }
            let wait_mirrors = |count: u64| {
                let ctx = ctx.clone();
                async move {
                    for _ in 0..5000 {
                        let stats = ctx.gather_stats().await;
                        if stats[1].streams_mirrored == count && stats[1].viewers == 0 {
                            return stats[1].frames_in;
                        }
                        ctx.sleep(Duration::from_millis(1)).await;
                    }
                    panic!("the mirror did not go away");
                }
            };
            let watched = wait_mirrors(0).await;
            for n in 3..10 {
                publisher.push(keyframe(n)).unwrap();
                ctx.yield_now().await;
            }
            ctx.sleep(Duration::from_millis(50)).await;
            (watched, ctx.gather_stats().await[1].frames_in)
        })
        .join()
        .unwrap();
    assert_eq!(frames_in_while_watched, 3);
    assert_eq!(
        frames_in_after, 3,
        "the owner kept relaying after unsubscribe"
    );
    runtime.shutdown();
    runtime.join().unwrap();
}
