//! Per-shard counters: plain cells bumped on the hot path, copied into a
//! [`ShardStats`] when someone asks (a scrape, the CLI, a test).

use std::cell::Cell;

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
}

impl ShardStats {
    /// Every counter with its name, in declaration order: what the status
    /// API and metrics print, so a new counter shows up everywhere at once.
    pub fn fields(&self) -> [(&'static str, u64); 25] {
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
        ]
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
    pub(crate) relay_drops: Cell<u64>,
    pub(crate) connections_accepted: Cell<u64>,
    pub(crate) handoffs_sent: Cell<u64>,
    pub(crate) handoffs_received: Cell<u64>,
    pub(crate) protocol_errors: Cell<u64>,
    pub(crate) timeouts: Cell<u64>,
    pub(crate) connections_refused: Cell<u64>,
}

/// Adds `n` to a counter.
pub(crate) fn add(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get().wrapping_add(n));
}

/// Adds one to a counter.
pub(crate) fn bump(cell: &Cell<u64>) {
    add(cell, 1);
}
