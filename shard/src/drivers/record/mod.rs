//! Recording (DVR): live streams written to disk as they are published.
//!
//! With a [`RecordConfig`] in [`RuntimeConfig::record`](crate::RuntimeConfig::record), every
//! publish of an app it covers starts a recorder on the stream's owner
//! shard: a local subscriber of the stream (joined at the GOP cache, so
//! nothing before the first keyframe is lost) that writes
//! `{dir}/{app}/{stream}/{start-unix-secs}/`:
//!
//! - fMP4 (the default): `init.mp4`, `seg0.m4s`, `seg1.m4s`... and
//!   `index.m3u8`, an HLS playlist (`EVENT` while recording; `VOD` with
//!   `EXT-X-ENDLIST` when the stream ends), playable by any HLS player or
//!   `ffmpeg -i index.m3u8`.
//! - FLV: `seg0.flv`, `seg1.flv`... each playable alone, and
//!   `index.ffconcat` (`ffmpeg -f concat -i index.ffconcat`).
//!
//! A segment (a file) ends at the first keyframe at least
//! [`RecordConfig::segment`] after its start, so every file starts with a
//! keyframe. A recording survives a publisher reconnect within the grace
//! period (the stream, and so the subscription, stays): it goes on in the
//! same directory, on one continuous timeline (see `rebase`), and a config
//! change writes a new init segment after an `EXT-X-DISCONTINUITY`.
//!
//! Writes never block the shard and never slow the stream: the recorder
//! hands file operations to a writer task through a queue bounded by
//! [`RecordConfig::queue_bytes`], and the writer uses glommio's io_uring
//! file I/O. When a write fails (permission denied, disk full) or the queue
//! overflows (the disk cannot keep up), that recording stops with one log
//! line, `shard=N record {key}: stopped: {why}`, and the `recordings_failed`
//! counter; the stream and its viewers carry on.
//!
//! Files are not `fsync`ed: after a crash the last few seconds may be
//! missing, and an `EVENT` playlist without `EXT-X-ENDLIST` marks a
//! recording that did not finish.

mod error;
mod flv;
mod fmp4;
mod playlist;
mod rebase;
mod recorder;
mod recording;
mod split;
mod tracks;
mod writer;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use arcly_engine::{StreamKey, Timestamp};

use crate::ShardCtx;

/// Where the playlist of an fMP4 recording goes.
const PLAYLIST_FMP4: &str = "index.m3u8";
/// Where the file list of an FLV recording goes.
const PLAYLIST_FLV: &str = "index.ffconcat";
/// About how much media goes into one write.
const FRAGMENT_TIME: Timestamp = Timestamp(1_000_000);
/// The most media bytes held before a write, whatever their duration.
const FRAGMENT_BYTES: usize = 4 << 20;

/// The container recordings are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RecordFormat {
    /// Fragmented MP4 segments and an HLS playlist.
    #[default]
    Fmp4,
    /// FLV files and an ffconcat list.
    Flv,
}

impl RecordFormat {
    /// `fmp4` or `flv`, as in the config file.
    pub fn name(self) -> &'static str {
        match self {
            RecordFormat::Fmp4 => "fmp4",
            RecordFormat::Flv => "flv",
        }
    }
}

/// What to record, where, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordConfig {
    /// Recordings go to `{dir}/{app}/{stream}/{start-unix-secs}/` (with
    /// `-2`, `-3`... when two start in the same second).
    pub dir: PathBuf,
    /// The container.
    pub format: RecordFormat,
    /// A segment ends at the first keyframe at least this long after its
    /// start.
    pub segment: Duration,
    /// Whether apps not listed in `apps` are recorded.
    pub all_apps: bool,
    /// Apps recorded (`true`) or not (`false`), whatever `all_apps` says.
    pub apps: BTreeMap<String, bool>,
    /// Bytes one recording may have waiting to be written; past it the disk
    /// is taken to be too slow and the recording stops.
    pub queue_bytes: usize,
}

impl RecordConfig {
    /// The default segment duration.
    pub const DEFAULT_SEGMENT: Duration = Duration::from_secs(10);
    /// The default write queue bound per recording.
    pub const DEFAULT_QUEUE_BYTES: usize = 32 << 20;

    /// Records nothing yet (no app listed, `all_apps` off) into `dir` as
    /// fMP4 with the default segment duration and queue bound.
    pub fn new(dir: impl Into<PathBuf>) -> RecordConfig {
        RecordConfig {
            dir: dir.into(),
            format: RecordFormat::default(),
            segment: Self::DEFAULT_SEGMENT,
            all_apps: false,
            apps: BTreeMap::new(),
            queue_bytes: Self::DEFAULT_QUEUE_BYTES,
        }
    }

    /// Whether streams of `app` are recorded.
    pub fn records(&self, app: &str) -> bool {
        self.apps.get(app).copied().unwrap_or(self.all_apps)
    }

    /// The directory holding the recordings of `key`: the stream name's
    /// `/`-separated parts become directories (empty and `.` parts are
    /// left out; keys never hold `..`).
    fn stream_dir(&self, key: &StreamKey) -> PathBuf {
        let mut dir = self.dir.clone();
        let parts = std::iter::once(key.app()).chain(key.name().split('/'));
        for part in parts.filter(|p| !p.is_empty() && *p != ".") {
            dir.push(Path::new(part));
        }
        dir
    }
}

/// One shard's recording counters, from [`ShardCtx::record_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Recordings started (their directory created).
    pub started: u64,
    /// Recordings that ended with their stream, playlist complete.
    pub finished: u64,
    /// Recordings stopped by an error (see the log line): the
    /// `recordings_failed` metric.
    pub failed: u64,
    /// Recordings running now.
    pub active: u64,
    /// Bytes written to recordings.
    pub bytes_written: u64,
}

#[derive(Default)]
struct Counters {
    started: Cell<u64>,
    finished: Cell<u64>,
    failed: Cell<u64>,
    active: Cell<u64>,
    bytes_written: Cell<u64>,
}

thread_local! {
    /// The streams this shard records now, with the origin instance each
    /// recorder follows.
    static RECORDING: RefCell<HashMap<StreamKey, u64>> = RefCell::new(HashMap::new());
    static COUNTERS: Counters = Counters::default();
}

impl ShardCtx {
    /// This shard's recording counters (`recordings_failed` and friends,
    /// for `/metrics`).
    pub fn record_stats(&self) -> RecordStats {
        COUNTERS.with(|c| RecordStats {
            started: c.started.get(),
            finished: c.finished.get(),
            failed: c.failed.get(),
            active: c.active.get(),
            bytes_written: c.bytes_written.get(),
        })
    }
}

/// A publish of `key` was accepted on this shard, its owner, as origin
/// `instance`: starts recording it if its app is recorded and no recorder
/// follows that instance yet (a publisher that reconnects within the grace
/// period continues the same instance, and so the same recording).
pub(crate) fn on_publish(ctx: &ShardCtx, key: &StreamKey, instance: u64) {
    // `RuntimeConfig::record`: a reload changes it for publishes from now
    // on; recordings already running go on as they started.
    let Some(config) = ctx.config().record.clone() else {
        return;
    };
    if !config.records(key.app()) {
        return;
    }
    let following = RECORDING.with_borrow(|r| r.get(key) == Some(&instance));
    if following {
        return;
    }
    RECORDING.with_borrow_mut(|r| r.insert(key.clone(), instance));
    ctx.spawn(recorder::run(ctx.clone(), key.clone(), instance, config))
        .detach();
}

fn count(update: impl FnOnce(&Counters)) {
    COUNTERS.with(update);
}

fn bump(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get() + n);
}
