//! The owner's side of one (stream, shard) relay: what is still to be sent
//! to one mirroring shard, in order, and how it stays bounded.

use std::collections::VecDeque;

use arcly_engine::{MediaFrame, PublishInfo, Snapshot, StreamLimits};

/// One thing a mirror must apply, in order.
#[derive(Clone, Debug)]
pub(crate) enum RelayItem {
    /// Start (or restart) from this snapshot; `dropped` frames were lost
    /// before it because the mirror's queue stayed full.
    Snapshot {
        /// The stream's state at the owner.
        snapshot: Box<Snapshot>,
        /// Frames the owner dropped for this mirror before the snapshot.
        dropped: u64,
    },
    /// The next frame.
    Frame(MediaFrame),
    /// The publisher left (grace period).
    Unpublished,
    /// A publisher continues the stream.
    Republished(Box<PublishInfo>),
    /// The stream is over.
    Ended,
}

/// What the owner still has to send to one mirroring shard.
///
/// Items are queued as the stream changes and taken once per turn as one
/// `Media` message. If the peer's queue stays full and frames pile up past
/// the stream's own ring bounds (a mirror that far behind would skip its
/// viewers anyway), the frames are dropped and the relay falls back to a
/// fresh snapshot at the next send: memory stays bounded and the owner never
/// waits for a slow shard.
#[derive(Debug)]
pub(crate) struct Relay {
    /// Items not yet sent.
    items: VecDeque<RelayItem>,
    /// Frames among `items`.
    frames: usize,
    /// Payload bytes among `items`.
    bytes: usize,
    /// The next send starts with a fresh snapshot (set for a new
    /// subscriber, and after an overflow).
    needs_snapshot: bool,
    /// Frames dropped since the last snapshot was sent.
    dropped: u64,
    /// `Ended` is queued: the relay goes away once it is sent.
    closing: bool,
}

impl Relay {
    /// A relay for a new subscriber: its first item is a snapshot.
    pub(crate) fn new() -> Relay {
        Relay {
            items: VecDeque::new(),
            frames: 0,
            bytes: 0,
            needs_snapshot: true,
            dropped: 0,
            closing: false,
        }
    }

    /// Queues a frame; returns the frames dropped by an overflow (0 if
    /// none).
    pub(crate) fn push_frame(&mut self, frame: &MediaFrame, limits: &StreamLimits) -> u64 {
        if self.needs_snapshot {
            // The snapshot taken at the next send will include this frame.
            return 0;
        }
        self.frames += 1;
        self.bytes += frame.len();
        self.items.push_back(RelayItem::Frame(frame.clone()));
        if self.frames > limits.ring_frames || self.bytes > limits.ring_bytes {
            let dropped = self.frames as u64;
            self.items
                .retain(|item| !matches!(item, RelayItem::Frame(_)));
            self.frames = 0;
            self.bytes = 0;
            self.needs_snapshot = true;
            self.dropped += dropped;
            return dropped;
        }
        0
    }

    /// Queues a state change.
    pub(crate) fn push_state(&mut self, item: RelayItem) {
        if matches!(item, RelayItem::Ended) {
            self.closing = true;
        }
        if !self.needs_snapshot || self.closing {
            self.items.push_back(item);
        }
    }

    /// Whether anything is waiting to be sent.
    pub(crate) fn has_pending(&self) -> bool {
        self.needs_snapshot || !self.items.is_empty()
    }

    /// Takes everything to send now. `snapshot` is called only if the
    /// relay must (re)start from a snapshot; a relay that is closing sends
    /// just its end instead.
    pub(crate) fn take(&mut self, snapshot: impl FnOnce() -> Snapshot) -> Vec<RelayItem> {
        let mut out = Vec::with_capacity(self.items.len() + 1);
        if self.needs_snapshot {
            // The snapshot is taken now, so it already reflects every queued
            // frame and state change; only the end still needs saying.
            self.items.retain(|item| matches!(item, RelayItem::Ended));
            if !self.closing {
                out.push(RelayItem::Snapshot {
                    snapshot: Box::new(snapshot()),
                    dropped: self.dropped,
                });
            }
            self.needs_snapshot = false;
            self.dropped = 0;
        }
        out.extend(self.items.drain(..));
        self.frames = 0;
        self.bytes = 0;
        out
    }

    /// Puts back items whose send was refused (queue full), ahead of
    /// anything queued since.
    pub(crate) fn put_back(&mut self, items: Vec<RelayItem>) {
        for item in items.into_iter().rev() {
            match &item {
                RelayItem::Frame(frame) => {
                    self.frames += 1;
                    self.bytes += frame.len();
                }
                RelayItem::Snapshot { .. } => {
                    // A stale snapshot is worth nothing: take a fresh one.
                    self.needs_snapshot = true;
                    continue;
                }
                _ => {}
            }
            self.items.push_front(item);
        }
    }

    /// Whether the relay's end was sent and it can go.
    pub(crate) fn is_finished(&self) -> bool {
        self.closing && !self.has_pending()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use arcly_engine::{Codec, FrameFlags, NoopObserver, Stream, StreamKey, Timestamp};
    use bytes::Bytes;

    use super::*;

    fn frame(n: i64, key: bool) -> MediaFrame {
        MediaFrame {
            codec: Codec::H264,
            dts: Timestamp(n),
            pts: Timestamp(n),
            flags: if key {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            },
            payload: Bytes::from(vec![0; 10]),
        }
    }

    fn stream() -> Stream {
        let key = StreamKey::new("live", "relay").unwrap();
        let info = PublishInfo::new("test", None, Instant::now());
        Stream::new(
            key,
            info,
            StreamLimits::default(),
            Arc::new(NoopObserver),
            Instant::now(),
        )
    }

    fn limits(ring_frames: usize) -> StreamLimits {
        StreamLimits {
            ring_frames,
            ..StreamLimits::default()
        }
    }

    fn kinds(items: &[RelayItem]) -> Vec<&'static str> {
        items
            .iter()
            .map(|item| match item {
                RelayItem::Snapshot { .. } => "snapshot",
                RelayItem::Frame(_) => "frame",
                RelayItem::Unpublished => "unpublished",
                RelayItem::Republished(_) => "republished",
                RelayItem::Ended => "ended",
            })
            .collect()
    }

    #[test]
    fn a_new_relay_starts_with_a_snapshot_that_covers_earlier_frames() {
        let stream = stream();
        let mut relay = Relay::new();
        assert_eq!(relay.push_frame(&frame(0, true), &limits(8)), 0);
        relay.push_state(RelayItem::Unpublished);
        let items = relay.take(|| stream.snapshot());
        assert_eq!(kinds(&items), ["snapshot"]);
        relay.push_frame(&frame(1, false), &limits(8));
        assert_eq!(kinds(&relay.take(|| stream.snapshot())), ["frame"]);
        assert!(!relay.has_pending());
    }

    #[test]
    fn overflow_drops_frames_and_falls_back_to_a_snapshot() {
        let stream = stream();
        let mut relay = Relay::new();
        relay.take(|| stream.snapshot());
        for n in 0..3 {
            assert_eq!(relay.push_frame(&frame(n, n == 0), &limits(3)), 0);
        }
        assert_eq!(relay.push_frame(&frame(3, false), &limits(3)), 4);
        let items = relay.take(|| stream.snapshot());
        assert_eq!(kinds(&items), ["snapshot"]);
        assert!(matches!(items[0], RelayItem::Snapshot { dropped: 4, .. }));
    }

    #[test]
    fn refused_items_go_back_in_front_and_stale_snapshots_are_retaken() {
        let stream = stream();
        let mut relay = Relay::new();
        let first = relay.take(|| stream.snapshot());
        relay.push_frame(&frame(9, false), &limits(8));
        relay.put_back(first);
        // The refused snapshot is retaken fresh; the queued frame is in it.
        assert_eq!(kinds(&relay.take(|| stream.snapshot())), ["snapshot"]);

        relay.push_frame(&frame(10, false), &limits(8));
        let refused = relay.take(|| stream.snapshot());
        relay.push_frame(&frame(11, false), &limits(8));
        relay.put_back(refused);
        let items = relay.take(|| stream.snapshot());
        let dts: Vec<i64> = items
            .iter()
            .filter_map(|item| match item {
                RelayItem::Frame(f) => Some(f.dts.0),
                _ => None,
            })
            .collect();
        assert_eq!(dts, [10, 11]);
    }

    #[test]
    fn a_closing_relay_sends_its_end_and_finishes() {
        let stream = stream();
        let mut relay = Relay::new();
        relay.push_state(RelayItem::Ended);
        assert!(!relay.is_finished());
        assert_eq!(kinds(&relay.take(|| stream.snapshot())), ["ended"]);
        assert!(relay.is_finished());
    }
}
