//! The GOP cache: everything since the newest keyframe, for joiners.

use std::sync::Arc;

use crate::bounded::BoundedFrames;
use crate::{ConfigSet, MediaFrame, Seq};

/// Every frame pushed since the newest GOP-starting keyframe, with the
/// configs in force at that keyframe, so a joiner can start decoding at once.
///
/// The cache never holds a GOP without its keyframe: when a GOP passes either
/// bound, the cache empties and stays empty until the next keyframe. Its
/// frames are consecutive seqs ending at the newest push.
#[derive(Clone, Debug)]
pub struct GopCache {
    /// The GOP, keyframe first: its first seq is the keyframe's.
    frames: BoundedFrames,
    /// The configs in force at the keyframe.
    configs: Arc<ConfigSet>,
}

impl GopCache {
    /// An empty cache; a zero bound disables it.
    pub fn new(max_frames: usize, max_bytes: usize) -> GopCache {
        GopCache {
            frames: BoundedFrames::new(max_frames, max_bytes, 0),
            configs: Arc::default(),
        }
    }

    /// Takes the frame pushed as `seq`. A GOP-starting keyframe begins a new
    /// GOP, remembering `configs` (those in force at it); any other frame
    /// extends the current GOP, if there is one.
    pub fn push(&mut self, seq: Seq, frame: &MediaFrame, configs: &Arc<ConfigSet>) {
        if self.frames.is_disabled() {
            return;
        }
        if frame.starts_gop() {
            self.frames.restart(seq);
            self.configs = Arc::clone(configs);
        } else if self.frames.is_empty() {
            return;
        }
        self.frames.push_back(frame.clone());
        if self.frames.over_bounds() {
            self.clear();
        }
    }

    /// Forgets the current GOP; the cache fills again at the next keyframe.
    pub fn clear(&mut self) {
        self.frames.clear();
        self.configs = Arc::default();
    }

    /// The seq of the cached GOP's keyframe, if a GOP is cached.
    pub fn start(&self) -> Option<Seq> {
        (!self.frames.is_empty()).then_some(self.frames.first())
    }

    /// The configs in force at the cached GOP's keyframe.
    pub fn configs(&self) -> &Arc<ConfigSet> {
        &self.configs
    }

    /// The cached frame pushed as `seq`.
    pub fn get(&self, seq: Seq) -> Option<&MediaFrame> {
        self.frames.get(seq)
    }

    /// The cached frames with their seqs, keyframe first.
    pub fn iter(&self) -> impl Iterator<Item = (Seq, &MediaFrame)> {
        self.frames.iter()
    }

    /// Frames cached.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no GOP is cached.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Payload bytes cached (configs not included).
    pub fn bytes(&self) -> usize {
        self.frames.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::tests::video;

    #[test]
    fn holds_frames_since_the_newest_keyframe() {
        let configs = Arc::new(ConfigSet::empty(0));
        let mut gop = GopCache::new(10, 1000);
        gop.push(0, &video(false, 1), &configs);
        assert!(gop.is_empty());
        gop.push(1, &video(true, 1), &configs);
        gop.push(2, &video(false, 1), &configs);
        assert_eq!(gop.start(), Some(1));
        gop.push(3, &video(true, 5), &configs);
        gop.push(4, &video(false, 2), &configs);
        assert_eq!(gop.start(), Some(3));
        assert_eq!((gop.len(), gop.bytes()), (2, 7));
        assert!(gop.get(2).is_none());
        assert_eq!(gop.get(4).map(MediaFrame::len), Some(2));
        let seqs: Vec<Seq> = gop.iter().map(|(s, _)| s).collect();
        assert_eq!(seqs, [3, 4]);
    }

    #[test]
    fn an_overflowing_gop_empties_until_the_next_keyframe() {
        let configs = Arc::new(ConfigSet::empty(0));
        let mut gop = GopCache::new(3, 1000);
        for seq in 0..4 {
            gop.push(seq, &video(seq == 0, 1), &configs);
        }
        assert!(gop.is_empty());
        gop.push(4, &video(false, 1), &configs);
        assert!(gop.is_empty());
        gop.push(5, &video(true, 1), &configs);
        assert_eq!(gop.start(), Some(5));
    }

    #[test]
    fn a_keyframe_over_the_byte_bound_is_not_cached() {
        let configs = Arc::new(ConfigSet::empty(0));
        let mut gop = GopCache::new(10, 4);
        gop.push(0, &video(true, 5), &configs);
        assert!(gop.is_empty());
        assert_eq!(gop.bytes(), 0);
    }

    #[test]
    fn zero_bounds_disable_it() {
        let configs = Arc::new(ConfigSet::empty(0));
        let mut gop = GopCache::new(0, 0);
        gop.push(0, &video(true, 1), &configs);
        assert!(gop.is_empty());
    }

    #[test]
    fn remembers_the_configs_at_the_keyframe() {
        let first = Arc::new(ConfigSet::empty(0));
        let later = Arc::new(ConfigSet::empty(2));
        let mut gop = GopCache::new(10, 1000);
        gop.push(1, &video(true, 1), &first);
        gop.push(2, &video(false, 1), &later);
        assert!(Arc::ptr_eq(gop.configs(), &first));
    }
}
