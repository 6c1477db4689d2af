//! A publisher on a shard that does not own its stream forwards its frames
//! to the owner; viewers on the owner and on the publisher's own shard (a
//! mirror) get every frame in order, and its finish ends the stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arcly_engine::{Codec, FrameFlags, MediaFrame, PublishInfo, Seq, StreamKey, Timestamp};
use arcly_shard::owner::owner;
use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, ViewerEvent};
use bytes::Bytes;
use crossbeam_channel::{Sender, unbounded};

fn frames() -> Vec<MediaFrame> {
    let mut frames = vec![MediaFrame {
        codec: Codec::H264,
        dts: Timestamp::ZERO,
        pts: Timestamp::ZERO,
        flags: FrameFlags::CONFIG,
        payload: Bytes::from_static(b"avcC"),
    }];
    for n in 0..150i64 {
        frames.push(MediaFrame {
            codec: Codec::H264,
            dts: Timestamp(n * 40_000),
            pts: Timestamp(n * 40_000),
            flags: if n % 50 == 0 {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            },
            payload: Bytes::from(n.to_be_bytes().to_vec()),
        });
    }
    frames
}

type Seen = (usize, Vec<(Seq, MediaFrame)>);

fn watch(
    key: StreamKey,
    joined: Arc<AtomicUsize>,
    seen: Sender<Seen>,
) -> impl FnOnce(ShardCtx) + Send {
    move |ctx: ShardCtx| {
        ctx.clone()
            .spawn(async move {
                let mut sub = ctx.subscribe(&key).await.unwrap();
                joined.fetch_add(1, Ordering::SeqCst);
                let mut got = Vec::new();
                while let ViewerEvent::Frame { seq, frame } = sub.next().await {
                    got.push((seq, frame));
                }
                seen.send((ctx.id(), got)).unwrap();
            })
            .detach();
    }
}

#[test]
fn remote_publisher_forwards_to_owner() {
    let runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    let key = (0..)
        .map(|i| StreamKey::new("live", &format!("r{i}")).unwrap())
        .find(|key| owner(key, 2) == 0)
        .unwrap();
    let (seen_tx, seen) = unbounded();
    let published = frames();
    let to_push = published.clone();
    runtime
        .spawn_on(1, move |ctx: ShardCtx| async move {
            let info = PublishInfo::new("test", None, Instant::now());
            let publisher = ctx.publish(key.clone(), info).await.unwrap();
            assert!(!publisher.is_local());
            let joined = Arc::new(AtomicUsize::new(0));
            for shard in 0..2 {
                let start = watch(key.clone(), joined.clone(), seen_tx.clone());
                assert!(ctx.try_run_on(shard, start).is_ok());
            }
            while joined.load(Ordering::SeqCst) < 2 {
                ctx.sleep(Duration::from_millis(1)).await;
            }
            for frame in to_push {
                publisher.push(frame).unwrap();
                ctx.yield_now().await;
            }
            publisher.finish();
        })
        .join()
        .unwrap();

    let expected: Vec<(Seq, MediaFrame)> = published
        .into_iter()
        .enumerate()
        .map(|(i, f)| (i as Seq, f))
        .collect();
    let mut shards = Vec::new();
    for _ in 0..2 {
        let (shard, got) = seen.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            got == expected,
            "viewer on shard {shard} saw different frames"
        );
        shards.push(shard);
    }
    shards.sort();
    assert_eq!(shards, [0, 1]);
    let stats = runtime.stats().unwrap();
    // The owner took each frame once; the publisher's shard got each back
    // once for its mirror.
    assert_eq!(stats[0].frames_in, expected.len() as u64);
    assert_eq!(stats[1].frames_in, expected.len() as u64);
    runtime.shutdown();
    runtime.join().unwrap();
}
