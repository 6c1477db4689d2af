//! Two shards in one process: a publisher on the owner pushes 10 s of
//! synthetic media (25 fps video with a 2 s GOP, AAC audio, configs first);
//! viewers on both shards, some joining mid-GOP, each get the configs, then
//! a keyframe, then every frame in order; a viewer that never drains its
//! queue is skipped to a keyframe and then evicted, and nobody else loses a
//! frame.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use arcly_engine::{
    Codec, FrameFlags, MediaFrame, PublishInfo, Seq, StreamKey, StreamLimits, Timestamp,
};
use arcly_shard::owner::owner;
use arcly_shard::{Runtime, RuntimeConfig, ShardCtx, ViewerEvent};
use bytes::Bytes;
use crossbeam_channel::{Sender, unbounded};

const FPS: i64 = 25;
const GOP_FRAMES: i64 = 50;
const SECONDS: i64 = 10;
const AUDIO_FRAME_US: i64 = 1024 * 1_000_000 / 48_000;

/// Configs, then video and audio interleaved in decode order.
fn synthetic_stream() -> Vec<MediaFrame> {
    let frame = |codec, dts: i64, flags, tag: &str, size: usize| MediaFrame {
        codec,
        dts: Timestamp(dts),
        pts: Timestamp(dts),
        flags,
        payload: Bytes::from(format!("{tag}{dts:>12}").into_bytes().repeat(size / 13 + 1)),
    };
    let mut frames = vec![
        frame(Codec::H264, 0, FrameFlags::CONFIG, "avcC", 40),
        frame(Codec::Aac, 0, FrameFlags::CONFIG, "asc", 4),
    ];
    let video_us = 1_000_000 / FPS;
    let (mut v, mut a) = (0i64, 0i64);
    let end = SECONDS * 1_000_000;
    loop {
        let (vd, ad) = (v * video_us, a * AUDIO_FRAME_US);
        if vd >= end && ad >= end {
            break;
        }
        if vd <= ad && vd < end {
            let key = v % GOP_FRAMES == 0;
            let flags = if key {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            };
            frames.push(frame(
                Codec::H264,
                vd,
                flags,
                "v",
                if key { 4000 } else { 800 },
            ));
            v += 1;
        } else {
            frames.push(frame(Codec::Aac, ad, FrameFlags::NONE, "a", 200));
            a += 1;
        }
    }
    frames
}

fn key_owned_by(shard: usize, shards: usize) -> StreamKey {
    (0..)
        .map(|i| StreamKey::new("live", &format!("cam{i}")).unwrap())
        .find(|key| owner(key, shards) == shard)
        .unwrap()
}

/// What one viewer saw.
struct Report {
    name: String,
    shard: usize,
    frames: Vec<(Seq, MediaFrame)>,
    skips: u32,
    evicted: bool,
}

/// Signals between the publisher and the viewers (they run on different
/// threads, so plain atomics).
#[derive(Default)]
struct Progress {
    joined: AtomicUsize,
    slow_skipped: AtomicBool,
}

fn start_viewer(
    ctx: &ShardCtx,
    on: usize,
    key: StreamKey,
    name: &str,
    slow: bool,
    progress: Arc<Progress>,
    reports: Sender<Report>,
) {
    let name = name.to_string();
    let start = move |ctx: ShardCtx| {
        ctx.clone()
            .spawn(watch(ctx, key, name, slow, progress, reports))
            .detach();
    };
    assert!(ctx.try_run_on(on, start).is_ok());
}

async fn watch(
    ctx: ShardCtx,
    key: StreamKey,
    name: String,
    slow: bool,
    progress: Arc<Progress>,
    reports: Sender<Report>,
) {
    let mut sub = ctx.subscribe(&key).await.expect("subscribe");
    if slow {
        // A driver whose socket never drains.
        sub.set_queued_bytes(1 << 40);
    }
    progress.joined.fetch_add(1, Ordering::SeqCst);
    let mut report = Report {
        name,
        shard: ctx.id(),
        frames: Vec::new(),
        skips: 0,
        evicted: false,
    };
    loop {
        match sub.next().await {
            ViewerEvent::Frame { seq, frame } => report.frames.push((seq, frame)),
            ViewerEvent::Skipped { .. } => {
                report.skips += 1;
                progress.slow_skipped.store(true, Ordering::SeqCst);
            }
            ViewerEvent::Evicted(_) => {
                report.evicted = true;
                break;
            }
            ViewerEvent::Ended => break,
        }
    }
    reports.send(report).unwrap();
}

async fn wait_until(ctx: &ShardCtx, done: impl Fn() -> bool) {
    for _ in 0..5000 {
        if done() {
            return;
        }
        ctx.sleep(Duration::from_millis(1)).await;
    }
    panic!("timed out");
}

#[test]
fn two_shards_fan_out() {
    let mut config = RuntimeConfig::local(2);
    config.limits = StreamLimits {
        max_skips: 1,
        ..StreamLimits::default()
    }
    .into();
    let runtime = Runtime::start(config).unwrap();
    let key = key_owned_by(0, 2);
    let frames = synthetic_stream();
    let (reports_tx, reports) = unbounded();
    let progress = Arc::new(Progress::default());

    // Where late viewers join: mid-way through the second and fourth GOPs.
    let video_seq = |n: i64| {
        frames
            .iter()
            .enumerate()
            .filter(|(_, f)| f.codec == Codec::H264 && !f.is_config())
            .nth(n as usize)
            .map(|(i, _)| i)
            .unwrap()
    };
    let late_joins = [video_seq(GOP_FRAMES + 17), video_seq(3 * GOP_FRAMES + 33)];
    let last_gop = video_seq(4 * GOP_FRAMES);

    let published = frames.clone();
    let viewers = 7;
    runtime
        .spawn_on(0, move |ctx: ShardCtx| async move {
            let info = PublishInfo::new("test", None, std::time::Instant::now());
            let publisher = ctx.publish(key.clone(), info).await.unwrap();
            assert!(publisher.is_local());
            let p = &progress;
            let r = &reports_tx;
            start_viewer(
                &ctx,
                0,
                key.clone(),
                "early-owner",
                false,
                p.clone(),
                r.clone(),
            );
            start_viewer(
                &ctx,
                1,
                key.clone(),
                "early-mirror-a",
                false,
                p.clone(),
                r.clone(),
            );
            start_viewer(
                &ctx,
                1,
                key.clone(),
                "early-mirror-b",
                false,
                p.clone(),
                r.clone(),
            );
            start_viewer(
                &ctx,
                1,
                key.clone(),
                "slow-mirror",
                true,
                p.clone(),
                r.clone(),
            );
            wait_until(&ctx, || p.joined.load(Ordering::SeqCst) == 4).await;
            for (i, frame) in frames.into_iter().enumerate() {
                if late_joins.contains(&i) {
                    // Let the mirror catch up, so a late viewer on it joins
                    // at the same point as one on the owner.
                    for _ in 0..5000 {
                        if ctx.gather_stats().await[1].frames_in == i as u64 {
                            break;
                        }
                        ctx.sleep(Duration::from_millis(1)).await;
                    }
                }
                if i == late_joins[0] {
                    start_viewer(
                        &ctx,
                        0,
                        key.clone(),
                        "late-owner",
                        false,
                        p.clone(),
                        r.clone(),
                    );
                    start_viewer(
                        &ctx,
                        1,
                        key.clone(),
                        "late-mirror",
                        false,
                        p.clone(),
                        r.clone(),
                    );
                    wait_until(&ctx, || p.joined.load(Ordering::SeqCst) == 6).await;
                }
                if i == late_joins[1] {
                    start_viewer(
                        &ctx,
                        1,
                        key.clone(),
                        "later-mirror",
                        false,
                        p.clone(),
                        r.clone(),
                    );
                    wait_until(&ctx, || p.joined.load(Ordering::SeqCst) == 7).await;
                }
                if i == last_gop {
                    // The slow viewer must have lagged once before the last
                    // GOP starts, so the last keyframe makes it lag again.
                    wait_until(&ctx, || p.slow_skipped.load(Ordering::SeqCst)).await;
                }
                publisher.push(frame).unwrap();
                ctx.yield_now().await;
            }
            publisher.finish();
        })
        .join()
        .unwrap();

    let mut got: Vec<Report> = (0..viewers)
        .map(|_| reports.recv_timeout(Duration::from_secs(10)).unwrap())
        .collect();
    got.sort_by(|a, b| a.name.cmp(&b.name));

    let gop_start_before = |seq: usize| {
        (0..=seq)
            .rev()
            .find(|&i| published[i].starts_gop())
            .unwrap() as Seq
    };
    for report in &got {
        let name = &report.name;
        if name.starts_with("slow") {
            assert!(report.evicted, "{name} was not evicted");
            assert!(report.skips >= 1, "{name} was evicted without a skip first");
            let seqs: Vec<Seq> = report.frames.iter().map(|(s, _)| *s).collect();
            assert!(
                seqs.windows(2)
                    .all(|w| w[0] < w[1] || published[w[1] as usize].is_config())
            );
            continue;
        }
        assert!(!report.evicted, "{name} was evicted");
        assert_eq!(report.skips, 0, "{name} skipped");
        // Configs first: the video config, then the audio config.
        let configs: Vec<&MediaFrame> = report.frames.iter().take(2).map(|(_, f)| f).collect();
        assert_eq!(
            configs,
            vec![&published[0], &published[1]],
            "{name}: configs first"
        );
        // Then a keyframe: the start of the GOP the viewer joined in.
        let (first_seq, first) = &report.frames[2];
        assert!(
            first.starts_gop(),
            "{name}: first media frame is not a keyframe"
        );
        let expected_start = match name.as_str() {
            "late-owner" | "late-mirror" => gop_start_before(late_joins[0] - 1),
            "later-mirror" => gop_start_before(late_joins[1] - 1),
            _ => 2,
        };
        assert_eq!(
            *first_seq, expected_start,
            "{name}: started at the wrong keyframe"
        );
        // Then every frame, in order, to the end.
        let rest: Vec<(Seq, MediaFrame)> = published
            .iter()
            .enumerate()
            .skip(expected_start as usize)
            .map(|(i, f)| (i as Seq, f.clone()))
            .collect();
        assert_eq!(report.frames.len() - 2, rest.len(), "{name}: frame count");
        assert!(report.frames[2..] == rest[..], "{name}: frames differ");
        assert_eq!(report.shard, if name.contains("owner") { 0 } else { 1 });
    }

    let stats = runtime.stats().unwrap();
    // The slow viewer: one skip, then evicted at the next lag.
    assert_eq!((stats[1].skips, stats[1].evictions), (1, 1));
    assert_eq!((stats[0].skips, stats[0].evictions), (0, 0));
    // Each frame crossed to the mirror shard once, however many viewers it
    // has there, batched with whatever else the owner had that turn.
    assert_eq!(stats[1].frames_in, published.len() as u64);
    assert!(stats[0].messages_sent <= published.len() as u64 + 20);
    runtime.shutdown();
    runtime.join().unwrap();
}
