//! Per-shard counters: plain cells bumped on the hot path, copied into a
//! [`ShardStats`] when someone asks (a scrape, the CLI, a test).

mod histogram;

use std::cell::Cell;

use self::histogram::{GOP_BYTES, GOP_FRAMES, JOIN_MICROS, LATENCY_MICROS};
pub(crate) use self::histogram::{Histogram, HistogramSnapshot};

/// What one shard has done since it started, and what it holds now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// The shard's id.
    pub shard: usize,
    /// Streams this shard owns (has a publisher or had one).
    pub streams_owned: u64,
    /// Mirrors of streams owned by other shards.
    pub streams_mirrored: u64,
    /// Viewers attached to streams on this shard now.
    pub viewers: u64,
    /// Frames taken in from publishers (and, for mirrors, from relays).
    pub frames_in: u64,
    /// Payload bytes of `frames_in`.
    pub bytes_in: u64,
    /// Frames handed to viewers.
    pub frames_out: u64,
    /// Payload bytes of `frames_out`.
    pub bytes_out: u64,
    /// Times a viewer was skipped forward to a keyframe.
    pub skips: u64,
    /// Viewers disconnected by the lag policy.
    pub evictions: u64,
    /// Writes to a viewer that its socket did not take at once (the viewer
    /// reads slowly), finished by the viewer's own task.
    pub slow_writes: u64,
    /// Relayed frames dropped because a peer's queue stayed full (its
    /// mirror was then resynchronised from a snapshot).
    pub relay_drops: u64,
    /// Messages waiting in this shard's outboxes and inbound queues now.
    pub mailbox_depth: u64,
    /// Messages accepted for other shards.
    pub messages_sent: u64,
    /// Messages received from other shards and from outside.
    pub messages_received: u64,
    /// Batches pushed to other shards (each costs at most one wake).
    pub batches_sent: u64,
    /// Batches received from other shards.
    pub batches_received: u64,
    /// Wake-ups this shard sent to parked peers.
    pub wakes_sent: u64,
    /// Times this shard was woken by a peer or an outside thread.
    pub wakes_received: u64,
    /// Sends refused because a queue was full.
    pub handed_back: u64,
    /// Connections accepted by this shard's listeners.
    pub connections_accepted: u64,
    /// Connections this shard handed to another shard.
    pub handoffs_sent: u64,
    /// Connections handed to this shard by another.
    pub handoffs_received: u64,
    /// Connections closed because the peer broke its protocol (malformed,
    /// oversized or unexpected input).
    pub protocol_errors: u64,
    /// Connections closed by a handshake or idle timeout.
    pub timeouts: u64,
    /// Connections refused at accept because the shard was at its limit.
    pub connections_refused: u64,
    /// RTMP publishers connected to this shard now.
    pub publishers: u64,
    /// RTMP players connected to this shard now.
    pub rtmp_players: u64,
    /// HTTP-FLV players connected to this shard now.
    pub http_flv_players: u64,
    /// HLS playlists, segments and parts asked of this shard.
    pub hls_requests: u64,
    /// Connections closed through the admin API.
    pub kicks: u64,
    /// Recordings running on this shard now.
    pub recordings_active: u64,
    /// Recordings that ended with their stream.
    pub recordings_finished: u64,
    /// Recordings stopped by an error (disk full, permissions): the
    /// stream went on without them.
    pub recordings_failed: u64,
    /// Bytes written to recordings.
    pub recorded_bytes: u64,
    /// Publishers and players refused for their credentials.
    pub refused_unauthorized: u64,
    /// Players refused because the stream was not live.
    pub refused_not_found: u64,
    /// Publishers refused because the key was taken or not valid.
    pub refused_bad_name: u64,
    /// Publishers and players refused for any other reason.
    pub refused_other: u64,
    /// Histograms of what this shard measured.
    pub(crate) histograms: HistogramSnapshots,
}

impl ShardStats {
    /// Every counter with its name, in declaration order: what the status
    /// API and metrics print, so a new counter shows up everywhere at once.
    pub fn fields(&self) -> [(&'static str, u64); 39] {
        [
            ("shard", self.shard as u64),
            ("streams_owned", self.streams_owned),
            ("streams_mirrored", self.streams_mirrored),
            ("viewers", self.viewers),
            ("frames_in", self.frames_in),
            ("bytes_in", self.bytes_in),
            ("frames_out", self.frames_out),
            ("bytes_out", self.bytes_out),
            ("skips", self.skips),
            ("evictions", self.evictions),
            ("slow_writes", self.slow_writes),
            ("relay_drops", self.relay_drops),
            ("mailbox_depth", self.mailbox_depth),
            ("messages_sent", self.messages_sent),
            ("messages_received", self.messages_received),
            ("batches_sent", self.batches_sent),
            ("batches_received", self.batches_received),
            ("wakes_sent", self.wakes_sent),
            ("wakes_received", self.wakes_received),
            ("handed_back", self.handed_back),
            ("connections_accepted", self.connections_accepted),
            ("handoffs_sent", self.handoffs_sent),
            ("handoffs_received", self.handoffs_received),
            ("protocol_errors", self.protocol_errors),
            ("timeouts", self.timeouts),
            ("connections_refused", self.connections_refused),
            ("publishers", self.publishers),
            ("rtmp_players", self.rtmp_players),
            ("http_flv_players", self.http_flv_players),
            ("hls_requests", self.hls_requests),
            ("kicks", self.kicks),
            ("recordings_active", self.recordings_active),
            ("recordings_finished", self.recordings_finished),
            ("recordings_failed", self.recordings_failed),
            ("recorded_bytes", self.recorded_bytes),
            ("refused_unauthorized", self.refused_unauthorized),
            ("refused_not_found", self.refused_not_found),
            ("refused_bad_name", self.refused_bad_name),
            ("refused_other", self.refused_other),
        ]
    }
}

/// The histograms of one shard (or of all, added up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HistogramSnapshots {
    /// Microseconds from a subscribe to the viewer's first media frame.
    pub(crate) join_micros: HistogramSnapshot,
    /// Microseconds from a keyframe's arrival on the shard to its hand-over
    /// to a viewer's driver, sampled at keyframes.
    pub(crate) delivery_latency_micros: HistogramSnapshot,
    /// Video frames per GOP, recorded at each keyframe on the owner.
    pub(crate) gop_frames: HistogramSnapshot,
    /// Video bytes per GOP, recorded at each keyframe on the owner.
    pub(crate) gop_bytes: HistogramSnapshot,
}

impl HistogramSnapshots {
    /// Adds another shard's histograms.
    pub(crate) fn merge(&mut self, other: &HistogramSnapshots) {
        self.join_micros.merge(&other.join_micros);
        self.delivery_latency_micros
            .merge(&other.delivery_latency_micros);
        self.gop_frames.merge(&other.gop_frames);
        self.gop_bytes.merge(&other.gop_bytes);
    }
}

/// The histograms a shard records into; see [`HistogramSnapshots`].
#[derive(Debug)]
pub(crate) struct Histograms {
    pub(crate) join_micros: Histogram,
    pub(crate) delivery_latency_micros: Histogram,
    pub(crate) gop_frames: Histogram,
    pub(crate) gop_bytes: Histogram,
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms {
            join_micros: Histogram::new(JOIN_MICROS),
            delivery_latency_micros: Histogram::new(LATENCY_MICROS),
            gop_frames: Histogram::new(GOP_FRAMES),
            gop_bytes: Histogram::new(GOP_BYTES),
        }
    }
}

impl Histograms {
    /// What they hold now.
    pub(crate) fn snapshot(&self) -> HistogramSnapshots {
        HistogramSnapshots {
            join_micros: self.join_micros.snapshot(),
            delivery_latency_micros: self.delivery_latency_micros.snapshot(),
            gop_frames: self.gop_frames.snapshot(),
            gop_bytes: self.gop_bytes.snapshot(),
        }
    }
}

/// The stream and connection counters of one shard (the mailbox keeps its
/// own).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames_in: Cell<u64>,
    pub(crate) bytes_in: Cell<u64>,
    pub(crate) frames_out: Cell<u64>,
    pub(crate) bytes_out: Cell<u64>,
    pub(crate) skips: Cell<u64>,
    pub(crate) evictions: Cell<u64>,
    pub(crate) slow_writes: Cell<u64>,
    pub(crate) relay_drops: Cell<u64>,
    pub(crate) connections_accepted: Cell<u64>,
    pub(crate) handoffs_sent: Cell<u64>,
    pub(crate) handoffs_received: Cell<u64>,
    pub(crate) protocol_errors: Cell<u64>,
    pub(crate) timeouts: Cell<u64>,
    pub(crate) connections_refused: Cell<u64>,
    pub(crate) hls_requests: Cell<u64>,
    pub(crate) kicks: Cell<u64>,
    pub(crate) refused_unauthorized: Cell<u64>,
    pub(crate) refused_not_found: Cell<u64>,
    pub(crate) refused_bad_name: Cell<u64>,
    pub(crate) refused_other: Cell<u64>,
    pub(crate) histograms: Histograms,
}

/// Adds `n` to a counter.
pub(crate) fn add(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get().wrapping_add(n));
}

/// Adds one to a counter.
pub(crate) fn bump(cell: &Cell<u64>) {
    add(cell, 1);
}

/// Why a publisher or player was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Missing or wrong credentials.
    Unauthorized,
    /// No such live stream.
    NotFound,
    /// The key is taken or not valid.
    BadName,
    /// Anything else (a busy owner, a stopping shard ...).
    Other,
}

impl Counters {
    /// Counts a refused publisher or player.
    pub(crate) fn refused(&self, why: Refusal) {
        bump(match why {
            Refusal::Unauthorized => &self.refused_unauthorized,
            Refusal::NotFound => &self.refused_not_found,
            Refusal::BadName => &self.refused_bad_name,
            Refusal::Other => &self.refused_other,
        });
    }
}
