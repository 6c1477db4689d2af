//! The codec configs and metadata a decoder needs before the first frame.

use crate::{Codec, MediaFrame, Seq, TrackKind};

/// The latest video config, audio config and metadata (`onMetaData`) in
/// force at one point of a stream, each with the seq it was pushed as.
///
/// A set is immutable and shared by the stream, the GOP cache and every
/// viewer replaying it, so replaying costs no copy of a payload. The sharing
/// is an `Arc` rather than an `Rc` because a [`Snapshot`](crate::Snapshot)
/// carries sets to another shard; it changes only when a config does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigSet {
    since: Seq,
    /// At most one entry per track, sorted by seq (the order they were pushed).
    entries: Vec<(Seq, MediaFrame)>,
}

impl ConfigSet {
    /// Whether `frame` is one a set holds: a config, or script data.
    pub fn holds(frame: &MediaFrame) -> bool {
        frame.is_config() || frame.codec == Codec::Script
    }

    /// The set after `frame` (a config or script frame) was pushed as `seq`,
    /// or `None` when `frame` repeats the one in force (same codec and
    /// payload), so a resent sequence header is not a change.
    pub fn with(&self, seq: Seq, frame: &MediaFrame) -> Option<ConfigSet> {
        let track = frame.track();
        if let Some((_, old)) = self.get(track)
            && old.codec == frame.codec
            && old.payload == frame.payload
        {
            return None;
        }
        let mut entries: Vec<(Seq, MediaFrame)> = self
            .entries
            .iter()
            .filter(|(_, f)| f.track() != track)
            .cloned()
            .collect();
        entries.push((seq, frame.clone()));
        entries.sort_by_key(|(s, _)| *s);
        Some(ConfigSet {
            since: seq,
            entries,
        })
    }

    /// An empty set, in force from `since`.
    pub fn empty(since: Seq) -> ConfigSet {
        ConfigSet {
            since,
            entries: Vec::new(),
        }
    }

    /// The first seq this set is in force at: the set describes every
    /// keyframe at or after it until the next change.
    pub fn since(&self) -> Seq {
        self.since
    }

    /// The entry for one track (`Data` is the metadata).
    pub fn get(&self, track: TrackKind) -> Option<(Seq, &MediaFrame)> {
        self.entries
            .iter()
            .find(|(_, f)| f.track() == track)
            .map(|(s, f)| (*s, f))
    }

    /// Every entry, in the order it was pushed.
    pub fn entries(&self) -> &[(Seq, MediaFrame)] {
        &self.entries
    }

    /// Whether the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Payload bytes held.
    pub fn bytes(&self) -> usize {
        self.entries.iter().map(|(_, f)| f.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::{FrameFlags, Timestamp};

    fn frame(codec: Codec, payload: &'static [u8]) -> MediaFrame {
        let flags = if codec == Codec::Script {
            FrameFlags::NONE
        } else {
            FrameFlags::CONFIG
        };
        MediaFrame {
            codec,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags,
            payload: Bytes::from_static(payload),
        }
    }

    #[test]
    fn keeps_one_entry_per_track_in_push_order() {
        let set = ConfigSet::empty(0);
        let set = set.with(3, &frame(Codec::Aac, b"a")).unwrap();
        let set = set.with(5, &frame(Codec::H264, b"v")).unwrap();
        let set = set.with(9, &frame(Codec::Script, b"m")).unwrap();
        let set = set.with(11, &frame(Codec::Aac, b"b")).unwrap();
        let seqs: Vec<Seq> = set.entries().iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [5, 9, 11]);
        assert_eq!(set.since(), 11);
        assert_eq!(set.get(TrackKind::Audio).unwrap().1.payload, "b");
        assert_eq!(set.bytes(), 3);
    }

    #[test]
    fn a_repeated_config_is_no_change() {
        let set = ConfigSet::empty(0)
            .with(1, &frame(Codec::H264, b"v"))
            .unwrap();
        assert!(set.with(4, &frame(Codec::H264, b"v")).is_none());
        assert!(set.with(4, &frame(Codec::H265, b"v")).is_some());
    }

    #[test]
    fn holds_configs_and_script_only() {
        assert!(ConfigSet::holds(&frame(Codec::Script, b"m")));
        assert!(ConfigSet::holds(&frame(Codec::Aac, b"a")));
        let mut media = frame(Codec::Aac, b"a");
        media.flags = FrameFlags::NONE;
        assert!(!ConfigSet::holds(&media));
    }
}
