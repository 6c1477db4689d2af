//! HLS packaging: the cost of `HlsPackager::push` per frame of a 25 fps,
//! 200 kbit/s H.264 stream with 128 kbit/s AAC (2 s GOP, millisecond
//! timestamps as RTMP carries them), and the cost of the push that
//! completes, cuts and publishes an LL-HLS part: with parts cut by the push
//! of their last frame, that push is all the packager adds to the part-ready
//! delay (last frame in, part servable).
//!
//! - `frame`: every push, video and audio, part and segment cuts amortized.
//! - `part_cut`: only the pushes that publish a part.
//! - `no_cut`: only the video pushes that publish nothing, for comparison.
//!
//! `part_cut` and `no_cut` time each push on its own with `Instant::now`,
//! which adds its own few tens of nanoseconds to both. Before the criterion
//! runs, the bench prints the p50/p99/max of the part-cut push over 60 s of
//! stream.
//!
//! Run: `cargo bench -p arcly-bench --bench hls_packager`. Criterion's "time"
//! is per push.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::hls::{HlsPackager, HlsSettings, PushOutcome};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hdrhistogram::Histogram;

const FPS: i64 = 25;
const GOP: i64 = 50;
/// 200 kbit/s over a GOP: a keyframe ten times the size of the others.
const GOP_BYTES: usize = 200_000 / 8 * (GOP / FPS) as usize;
const P_FRAME: usize = GOP_BYTES / (GOP as usize + 9);
const KEYFRAME: usize = P_FRAME * 10;
/// 128 kbit/s of 1024-sample AAC frames at 44.1 kHz.
const AAC_FRAME: usize = 128_000 / 8 * 1024 / 44_100;

/// x264, High profile, 320x240.
const SPS: &[u8] = &[
    0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10,
    0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
];
const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];
/// AAC-LC, 44.1 kHz, stereo.
const ASC: &[u8] = &[0x12, 0x10];

fn frame(codec: Codec, dts: i64, flags: FrameFlags, payload: Bytes) -> MediaFrame {
    MediaFrame {
        codec,
        dts: Timestamp(dts),
        pts: Timestamp(dts),
        flags,
        payload,
    }
}

/// One length-prefixed NAL unit of `len` bytes.
fn nal(header: u8, len: usize) -> Bytes {
    let mut payload = (len as u32).to_be_bytes().to_vec();
    payload.push(header);
    payload.resize(4 + len, 0x5a);
    payload.into()
}

/// A started packager: both configs pushed.
fn packager() -> HlsPackager {
    let mut avcc = vec![1, 0x64, 0x00, 0x0d, 0xff, 0xe1];
    avcc.extend((SPS.len() as u16).to_be_bytes());
    avcc.extend(SPS);
    avcc.push(1);
    avcc.extend((PPS.len() as u16).to_be_bytes());
    avcc.extend(PPS);
    let mut packager = HlsPackager::new(HlsSettings::default()).expect("default settings");
    let configs = [
        frame(
            Codec::H264,
            0,
            FrameFlags::CONFIG | FrameFlags::KEYFRAME,
            avcc.into(),
        ),
        frame(Codec::Aac, 0, FrameFlags::CONFIG, Bytes::from_static(ASC)),
    ];
    for config in configs {
        packager.push(&config, Timestamp::ZERO).expect("config");
    }
    packager
}

/// The first `video` video frames of the stream and the audio frames of
/// the same time, interleaved by decode time.
fn stream(video: i64) -> Vec<MediaFrame> {
    let keyframe = nal(0x65, KEYFRAME);
    let p_frame = nal(0x41, P_FRAME);
    let aac = Bytes::from(vec![0x21; AAC_FRAME]);
    let mut frames = Vec::new();
    let mut audio = 0i64;
    for i in 0..video {
        let dts = i * 1_000_000 / FPS;
        loop {
            let at = (audio * 1024 * 1000 + 22_050) / 44_100 * 1000;
            if at > dts {
                break;
            }
            frames.push(frame(Codec::Aac, at, FrameFlags::KEYFRAME, aac.clone()));
            audio += 1;
        }
        let (flags, payload) = match i % GOP {
            0 => (FrameFlags::KEYFRAME, keyframe.clone()),
            _ => (FrameFlags::NONE, p_frame.clone()),
        };
        frames.push(frame(Codec::H264, dts, flags, payload));
    }
    frames
}

/// Pushes `frames`, the clock at each frame's decode time, and adds up the
/// time of the pushes `measure` picks by their frame and outcome; returns
/// that time and how many there were.
fn timed(
    frames: &[MediaFrame],
    measure: impl Fn(&MediaFrame, &PushOutcome) -> bool,
) -> (Duration, u64) {
    let mut packager = packager();
    let (mut total, mut count) = (Duration::ZERO, 0);
    for f in frames {
        let start = Instant::now();
        let outcome = packager.push(f, f.dts).expect("push");
        let took = start.elapsed();
        if measure(f, &outcome) {
            total += took;
            count += 1;
        }
        black_box(outcome);
    }
    (total, count)
}

fn is_cut(_: &MediaFrame, outcome: &PushOutcome) -> bool {
    outcome.part.is_some()
}

fn is_uncut_video(frame: &MediaFrame, outcome: &PushOutcome) -> bool {
    frame.codec == Codec::H264 && outcome.is_empty()
}

/// The part-cut push over 60 s of stream, as a distribution.
fn print_part_cut_percentiles() {
    let frames = stream(60 * FPS);
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..20 {
        let mut packager = packager();
        for f in &frames {
            let start = Instant::now();
            let outcome = packager.push(f, f.dts).expect("push");
            let took = start.elapsed().as_nanos() as u64;
            if outcome.part.is_some() {
                histogram.record(took.max(1)).expect("record");
            }
        }
    }
    eprintln!(
        "hls_packager part_cut push: {} cuts, p50 {} ns, p99 {} ns, max {} ns",
        histogram.len(),
        histogram.value_at_quantile(0.50),
        histogram.value_at_quantile(0.99),
        histogram.max()
    );
}

fn hls_packager(c: &mut Criterion) {
    print_part_cut_percentiles();
    let mut group = c.benchmark_group("hls_packager");
    group.measurement_time(Duration::from_secs(5));

    group.bench_function(BenchmarkId::new("push", "frame"), |b| {
        b.iter_custom(|pushes| {
            // About 2.7 pushes per 40 ms: a video frame and 1.7 AAC frames.
            let mut frames = stream(pushes as i64 * 2 / 5 + 1);
            frames.truncate(pushes as usize);
            let mut packager = packager();
            let start = Instant::now();
            for f in &frames {
                black_box(packager.push(f, f.dts).expect("push"));
            }
            start.elapsed()
        })
    });
    for (name, measure) in [
        ("part_cut", is_cut as fn(&MediaFrame, &PushOutcome) -> bool),
        ("no_cut", is_uncut_video),
    ] {
        group.bench_function(BenchmarkId::new("push", name), |b| {
            b.iter_custom(|pushes| {
                // A part every five video frames, four uncut ones between.
                let per = if name == "part_cut" { 5 } else { 1 };
                let frames = stream((pushes as i64 * per + GOP).max(GOP));
                let (total, count) = timed(&frames, measure);
                total.mul_f64(pushes as f64 / count.max(1) as f64)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hls_packager);
criterion_main!(benches);
