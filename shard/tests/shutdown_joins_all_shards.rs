//! SIGTERM stops the runtime gracefully: the listeners stop accepting, the
//! streams end (viewers on every shard see the end), every executor returns
//! and `join` finishes.

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arcly_engine::{Codec, FrameFlags, MediaFrame, PublishInfo, StreamKey, Timestamp};
use arcly_shard::owner::owner;
use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, ViewerEvent};
use bytes::Bytes;

fn keyframe() -> MediaFrame {
    MediaFrame {
        codec: Codec::H264,
        dts: Timestamp::ZERO,
        pts: Timestamp::ZERO,
        flags: FrameFlags::KEYFRAME,
        payload: Bytes::from_static(b"idr"),
    }
}

#[test]
fn shutdown_joins_all_shards() {
    let mut runtime = Runtime::start(RuntimeConfig::local(2)).unwrap();
    runtime.install_signal_handlers().unwrap();
    let addr = runtime
        .listen("127.0.0.1:0", |_ctx, _conn, _arrival| async {})
        .unwrap();
    let key = (0..)
        .map(|i| StreamKey::new("live", &format!("s{i}")).unwrap())
        .find(|key| owner(key, 2) == 0)
        .unwrap();

    // A publisher on the owner that stays until the end.
    let k = key.clone();
    runtime
        .spawn_on(0, move |ctx: ShardCtx| async move {
            let info = PublishInfo::new("test", None, Instant::now());
            let publisher = ctx.publish(k, info).await.unwrap();
            publisher.push(keyframe()).unwrap();
            ctx.clone()
                .spawn(async move {
                    ctx.stopping().await;
                    drop(publisher);
                })
                .detach();
        })
        .join()
        .unwrap();

    // A viewer on each shard, reporting what ends it.
    let (ended_tx, ended) = mpsc::channel();
    for shard in 0..2 {
        let (k, tx) = (key.clone(), ended_tx.clone());
        runtime
            .spawn_on(shard, move |ctx: ShardCtx| async move {
                let mut sub = ctx.subscribe(&k).await.unwrap();
                let shard = ctx.id();
                ctx.spawn(async move {
                    loop {
                        match sub.next().await {
                            ViewerEvent::Frame { .. } => {}
                            other => break tx.send((shard, other)).unwrap(),
                        }
                    }
                })
                .detach();
            })
            .join()
            .unwrap();
    }

    // SAFETY: raising a signal in our own process is always sound; the
    // handler installed above turns it into a graceful shutdown.
    assert_eq!(unsafe { libc::raise(libc::SIGTERM) }, 0);

    let (joined_tx, joined) = mpsc::channel();
    std::thread::spawn(move || joined_tx.send(runtime.join()).unwrap());
    joined
        .recv_timeout(Duration::from_secs(10))
        .expect("join did not finish")
        .unwrap();

    let mut seen: Vec<(usize, ViewerEvent)> = ended.try_iter().collect();
    seen.sort_by_key(|(shard, _)| *shard);
    assert_eq!(seen, vec![(0, ViewerEvent::Ended), (1, ViewerEvent::Ended)]);
    assert!(
        TcpStream::connect(addr).is_err(),
        "still accepting after shutdown"
    );
}
