//! One recorder: a stream's local subscriber on its owner shard, feeding a
//! [`Recording`] and handing its file operations to the writer task.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::SystemTime;

use arcly_engine::{StreamKey, Timestamp};
use futures_lite::future;

use super::error::RecordError;
use super::recording::Recording;
use super::writer::{self, WriteQueue};
use super::{COUNTERS, RECORDING, RecordConfig, bump, count};
use crate::{ShardCtx, ViewerEvent};

/// Records `key` (origin `instance`) until its stream ends or a write
/// fails, and logs how it went.
pub(super) async fn run(ctx: ShardCtx, key: StreamKey, instance: u64, config: Arc<RecordConfig>) {
    let shard = ctx.id();
    let outcome = record(&ctx, &key, instance, &config).await;
    RECORDING.with_borrow_mut(|r| {
        if r.get(&key) == Some(&instance) {
            r.remove(&key);
        }
    });
    match outcome {
        Ok(summary) => {
            count(|c| bump(&c.finished, 1));
            tracing::info!(
                shard,
                "record {key}: finished {}: {} segments, {:.3} s, {} bytes",
                summary.dir.display(),
                summary.segments,
                summary.duration.0 as f64 / 1e6,
                summary.bytes,
            );
        }
        Err(error) => {
            count(|c| bump(&c.failed, 1));
            tracing::warn!(shard, "record {key}: stopped: {error}");
        }
    }
}

/// What a finished recording holds.
struct Summary {
    dir: PathBuf,
    segments: usize,
    duration: Timestamp,
    bytes: u64,
}

/// What woke the recorder.
enum Woken {
    Viewer(ViewerEvent),
    WriteFailed(Rc<RecordError>),
}

async fn record(
    ctx: &ShardCtx,
    key: &StreamKey,
    instance: u64,
    config: &RecordConfig,
) -> Result<Summary, Rc<RecordError>> {
    let mut subscription = ctx
        .subscribe(key)
        .await
        .map_err(|e| Rc::new(RecordError::Subscribe(e.to_string())))?;
    let started = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let dir = writer::create_recording_dir(&config.stream_dir(key), &started.to_string())
        .await
        .map_err(Rc::new)?;
    count(|c| {
        bump(&c.started, 1);
        bump(&c.active, 1);
    });
    let _active = Active;
    tracing::info!(
        shard = ctx.id(),
        "record {key}: recording to {} as {} (origin instance {instance})",
        dir.display(),
        config.format.name(),
    );
    let queue = WriteQueue::new(config.queue_bytes);
    let writing = ctx.spawn(writer::run(dir.clone(), Rc::clone(&queue)));
    let mut recording = Recording::new(config);
    loop {
        let event = async { Woken::Viewer(subscription.next().await) };
        let failed = async { Woken::WriteFailed(queue.failed().await) };
        let event = match future::or(failed, event).await {
            Woken::Viewer(event) => event,
            Woken::WriteFailed(failure) => return Err(failure),
        };
        let last = matches!(event, ViewerEvent::Ended | ViewerEvent::Evicted(_));
        if let Err(e) = recording.handle(&event, unix_now()) {
            let failure = Rc::new(e);
            queue.fail(Rc::clone(&failure));
            return Err(failure);
        }
        while let Some(op) = recording.poll_op() {
            queue.push(op)?;
        }
        if let ViewerEvent::Evicted(_) = event {
            // What was recorded is complete; say why it ended early.
            queue.close();
            writing.await;
            return Err(Rc::new(RecordError::Evicted));
        }
        if last {
            break;
        }
    }
    queue.close();
    // The subscription stays until the files are written, so a shutdown
    // waits (up to its drain timeout) for the playlist's last version.
    let bytes = writing.await;
    drop(subscription);
    if let Some(failure) = queue.failure() {
        return Err(failure);
    }
    let (segments, duration) = recording.recorded();
    Ok(Summary {
        dir,
        segments,
        duration,
        bytes,
    })
}

/// Counts a running recording until dropped.
struct Active;

impl Drop for Active {
    fn drop(&mut self) {
        COUNTERS.with(|c| c.active.set(c.active.get().saturating_sub(1)));
    }
}

/// The wall clock in Unix microseconds.
fn unix_now() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    Timestamp(micros)
}
