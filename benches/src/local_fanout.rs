//! `arcly-bench local-fanout`: the engine's cost per viewer per frame on one shard.

use std::sync::Arc;
use std::time::Instant;

use arcly_engine::{
    Codec, FrameFlags, MediaFrame, NoopObserver, PublishInfo, Pull, Stream, StreamKey,
    StreamLimits, Timestamp,
};
use bytes::Bytes;

/// Flags of `arcly-bench local-fanout`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Viewer counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,100,10000")]
    viewers: Vec<usize>,
    /// Frames per measurement (25 fps, 2 s GOP, 1 KB each).
    #[arg(long, default_value_t = 2_000)]
    frames: u64,
}

/// Prints ns per viewer per frame for each viewer count.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    println!("{:>8}  {:>22}", "viewers", "ns/viewer/frame");
    for &viewers in &args.viewers {
        let ns = measure(viewers.max(1), args.frames.max(1))?;
        println!("{viewers:>8}  {ns:>22.1}");
    }
    Ok(())
}

fn measure(viewers: usize, frames: u64) -> anyhow::Result<f64> {
    let now = Instant::now();
    let mut stream = Stream::new(
        StreamKey::new("bench", "fanout")?,
        PublishInfo::new("bench", None, now),
        StreamLimits::default(),
        Arc::new(NoopObserver),
        now,
    );
    let payload = Bytes::from(vec![0u8; 1000]);
    let frame = |n: u64| {
        let ts = Timestamp::from_millis(n as i64 * 40);
        let flags = if n.is_multiple_of(50) {
            FrameFlags::KEYFRAME
        } else {
            FrameFlags::NONE
        };
        MediaFrame {
            codec: Codec::H264,
            dts: ts,
            pts: ts,
            flags,
            payload: payload.clone(),
        }
    };
    stream.push(frame(0), now);
    let ids: Vec<_> = (0..viewers).map(|_| stream.join(now)).collect();
    let drain = |stream: &mut Stream| -> anyhow::Result<()> {
        for &id in &ids {
            loop {
                match stream.pull(id, 0) {
                    Pull::Frame { frame, .. } => drop(std::hint::black_box(frame)),
                    Pull::Pending => break,
                    other => anyhow::bail!("viewer {id} got {other:?}"),
                }
            }
        }
        Ok(())
    };
    drain(&mut stream)?;
    let start = Instant::now();
    for n in 1..=frames {
        stream.push(frame(n), now);
        drain(&mut stream)?;
    }
    Ok(start.elapsed().as_nanos() as f64 / (frames as f64 * viewers as f64))
}
