//! The ring: the newest frames of a stream, addressed by sequence number.

use std::collections::VecDeque;

use crate::MediaFrame;
use crate::bounded::BoundedFrames;

/// The absolute position of a frame in one stream copy, counted from zero
/// and never reused. A mirror continues the origin's numbering, so a frame
/// has the same `Seq` on every copy.
pub type Seq = u64;

/// The newest frames of a stream, bounded in frames and in payload bytes.
///
/// Entries are addressed by [`Seq`]: the entry for `seq` sits at
/// `seq - base`. When either bound is passed, the oldest entries drop, so the
/// ring always holds the longest suffix of the pushed frames that fits; that
/// can be empty when a single frame is larger than the byte bound.
#[derive(Clone, Debug)]
pub struct Ring {
    /// The frames; their first seq is the base.
    frames: BoundedFrames,
    /// Seqs of the GOP-starting keyframes in `frames`, oldest first.
    keyframes: VecDeque<Seq>,
}

impl Ring {
    /// An empty ring whose first push gets `first_seq`.
    pub fn new(max_frames: usize, max_bytes: usize, first_seq: Seq) -> Ring {
        Ring {
            frames: BoundedFrames::new(max_frames, max_bytes, first_seq),
            keyframes: VecDeque::new(),
        }
    }

    /// Appends a frame, drops what no longer fits, and returns its seq.
    pub fn push(&mut self, frame: MediaFrame) -> Seq {
        let seq = self.frames.end();
        if frame.starts_gop() {
            self.keyframes.push_back(seq);
        }
        self.frames.push_back(frame);
        while self.frames.over_bounds() {
            self.drop_oldest();
        }
        seq
    }

    fn drop_oldest(&mut self) {
        let dropped = self.frames.pop_front();
        if dropped.is_some() && self.keyframes.front() == dropped.as_ref() {
            self.keyframes.pop_front();
        }
    }

    /// The frame pushed as `seq`, if the ring still holds it.
    pub fn get(&self, seq: Seq) -> Option<&MediaFrame> {
        self.frames.get(seq)
    }

    /// The oldest seq held (equal to [`Ring::end`] when empty).
    pub fn base(&self) -> Seq {
        self.frames.first()
    }

    /// The seq the next push gets.
    pub fn end(&self) -> Seq {
        self.frames.end()
    }

    /// The seq of the newest GOP-starting keyframe held, in O(1).
    pub fn newest_keyframe(&self) -> Option<Seq> {
        self.keyframes.back().copied()
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Payload bytes held.
    pub fn bytes(&self) -> usize {
        self.frames.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrameFlags;
    use crate::bounded::tests::video;

    #[test]
    fn addresses_frames_by_seq() {
        let mut ring = Ring::new(4, 1000, 7);
        assert_eq!(ring.push(video(true, 1)), 7);
        assert_eq!(ring.push(video(false, 2)), 8);
        assert_eq!(ring.get(8).map(MediaFrame::len), Some(2));
        assert!(ring.get(6).is_none());
        assert!(ring.get(9).is_none());
        assert_eq!((ring.base(), ring.end(), ring.bytes()), (7, 9, 3));
    }

    #[test]
    fn drops_oldest_past_the_frame_bound() {
        let mut ring = Ring::new(2, 1000, 0);
        for _ in 0..5 {
            ring.push(video(false, 10));
        }
        assert_eq!((ring.base(), ring.len(), ring.bytes()), (3, 2, 20));
    }

    #[test]
    fn drops_oldest_past_the_byte_bound() {
        let mut ring = Ring::new(100, 25, 0);
        for _ in 0..5 {
            ring.push(video(false, 10));
        }
        assert_eq!((ring.base(), ring.len(), ring.bytes()), (3, 2, 20));
        ring.push(video(false, 30));
        assert!(ring.is_empty());
        assert_eq!((ring.base(), ring.end()), (6, 6));
    }

    #[test]
    fn indexes_keyframes_as_they_come_and_go() {
        let mut ring = Ring::new(3, 1000, 0);
        assert_eq!(ring.newest_keyframe(), None);
        ring.push(video(true, 1));
        ring.push(video(false, 1));
        ring.push(video(true, 1));
        assert_eq!(ring.newest_keyframe(), Some(2));
        ring.push(video(false, 1));
        ring.push(video(false, 1));
        assert_eq!(ring.newest_keyframe(), Some(2));
        ring.push(video(false, 1));
        assert_eq!(ring.newest_keyframe(), None);
    }

    #[test]
    fn config_keyframes_do_not_start_gops() {
        let mut ring = Ring::new(3, 1000, 0);
        let mut config = video(true, 1);
        config.flags = FrameFlags::KEYFRAME | FrameFlags::CONFIG;
        ring.push(config);
        assert_eq!(ring.newest_keyframe(), None);
    }
}
