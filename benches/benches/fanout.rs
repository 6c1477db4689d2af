//! Local fan-out: the cost per viewer per frame of handing one new frame to
//! every viewer of a stream on one shard (the engine's `push` + `pull`;
//! socket writes excluded). Target: ≤ 50 ns per viewer per frame.
//!
//! Run: `cargo bench -p arcly-bench --bench fanout`. Criterion reports
//! throughput in viewer-frames per second; ns per viewer per frame is its
//! inverse.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcly_engine::{
    Codec, FrameFlags, MediaFrame, NoopObserver, PublishInfo, Pull, Stream, StreamKey,
    StreamLimits, Timestamp,
};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// 25 fps, a keyframe every 50 frames (2 s GOP), 1 KB frames (200 kbps).
fn frame(n: u64, payload: &Bytes) -> MediaFrame {
    let ts = Timestamp::from_millis(n as i64 * 40);
    MediaFrame {
        codec: Codec::H264,
        dts: ts,
        pts: ts,
        flags: if n.is_multiple_of(50) {
            FrameFlags::KEYFRAME
        } else {
            FrameFlags::NONE
        },
        payload: payload.clone(),
    }
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout");
    group.measurement_time(Duration::from_secs(5));
    for viewers in [1u64, 100, 10_000] {
        let now = Instant::now();
        let key = StreamKey::new("live", "bench").unwrap();
        let mut stream = Stream::new(
            key,
            PublishInfo::new("bench", None, now),
            StreamLimits::default(),
            Arc::new(NoopObserver),
            now,
        );
        let payload = Bytes::from(vec![0u8; 1000]);
        let config = MediaFrame {
            codec: Codec::H264,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags: FrameFlags::CONFIG | FrameFlags::KEYFRAME,
            payload: Bytes::from_static(&[1, 0x64, 0, 0x1f, 0xff]),
        };
        stream.push(config, now);
        stream.push(frame(0, &payload), now);
        let ids: Vec<_> = (0..viewers).map(|_| stream.join(now)).collect();
        // Drain the preludes so the loop below measures steady state.
        for &id in &ids {
            while !matches!(stream.pull(id, 0), Pull::Pending) {}
        }
        let mut n = 1;
        group.throughput(Throughput::Elements(viewers));
        group.bench_with_input(BenchmarkId::from_parameter(viewers), &viewers, |b, _| {
            b.iter(|| {
                stream.push(frame(n, &payload), now);
                n += 1;
                for &id in &ids {
                    loop {
                        match stream.pull(id, 0) {
                            Pull::Frame { frame, .. } => drop(std::hint::black_box(frame)),
                            Pull::Pending => break,
                            other => panic!("viewer {id} got {other:?}"),
                        }
                    }
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
