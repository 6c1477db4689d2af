//! The storage under [`Ring`](crate::Ring) and [`GopCache`](crate::GopCache):
//! consecutive frames addressed by seq, with their payload bytes counted
//! against a frame bound and a byte bound.

use std::collections::VecDeque;

use crate::{MediaFrame, Seq};

/// Consecutive frames, the first of which was pushed as [`first`](Self::first).
///
/// It only counts: what to do when [`over_bounds`](Self::over_bounds) is
/// true (drop the oldest, or drop everything) is the owner's policy.
#[derive(Clone, Debug)]
pub(crate) struct BoundedFrames {
    max_frames: usize,
    max_bytes: usize,
    /// Seq of `frames[0]`, or of the next push when empty.
    first: Seq,
    frames: VecDeque<MediaFrame>,
    /// Payload bytes of `frames`.
    bytes: usize,
}

impl BoundedFrames {
    /// No frames; the next push gets `first`.
    pub(crate) fn new(max_frames: usize, max_bytes: usize, first: Seq) -> BoundedFrames {
        BoundedFrames {
            max_frames,
            max_bytes,
            first,
            frames: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Whether a zero bound means nothing can ever be held.
    pub(crate) fn is_disabled(&self) -> bool {
        self.max_frames == 0 || self.max_bytes == 0
    }

    /// Whether more frames or more payload bytes are held than the bounds
    /// allow.
    pub(crate) fn over_bounds(&self) -> bool {
        self.frames.len() > self.max_frames || self.bytes > self.max_bytes
    }

    /// Appends a frame; it gets seq [`end`](Self::end).
    pub(crate) fn push_back(&mut self, frame: MediaFrame) {
        self.bytes += frame.len();
        self.frames.push_back(frame);
    }

    /// Drops the oldest frame and returns the seq it had.
    pub(crate) fn pop_front(&mut self) -> Option<Seq> {
        let old = self.frames.pop_front()?;
        self.bytes -= old.len();
        let seq = self.first;
        self.first += 1;
        Some(seq)
    }

    /// Drops every frame; the next push gets `first`.
    pub(crate) fn restart(&mut self, first: Seq) {
        self.frames.clear();
        self.bytes = 0;
        self.first = first;
    }

    /// Drops every frame; the next push gets the seq it would have got.
    pub(crate) fn clear(&mut self) {
        self.restart(self.end());
    }

    /// The frame pushed as `seq`, if it is held.
    pub(crate) fn get(&self, seq: Seq) -> Option<&MediaFrame> {
        let index = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.frames.get(index)
    }

    /// The held frames with their seqs, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Seq, &MediaFrame)> {
        (self.first..).zip(&self.frames)
    }

    /// The seq of the oldest frame held, or of the next push when empty.
    pub(crate) fn first(&self) -> Seq {
        self.first
    }

    /// The seq the next push gets.
    pub(crate) fn end(&self) -> Seq {
        self.first + self.frames.len() as Seq
    }

    /// Frames held.
    pub(crate) fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Payload bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::{Codec, FrameFlags, Timestamp};

    /// A video frame of `len` payload bytes, GOP-starting if `key`: what the
    /// ring and GOP cache tests push.
    pub(crate) fn video(key: bool, len: usize) -> MediaFrame {
        MediaFrame {
            codec: Codec::H264,
            dts: Timestamp::ZERO,
            pts: Timestamp::ZERO,
            flags: if key {
                FrameFlags::KEYFRAME
            } else {
                FrameFlags::NONE
            },
            payload: Bytes::from(vec![0; len]),
        }
    }

    #[test]
    fn counts_frames_and_bytes_against_the_bounds() {
        let mut frames = BoundedFrames::new(2, 10, 5);
        frames.push_back(video(false, 4));
        frames.push_back(video(false, 6));
        assert!(!frames.over_bounds());
        frames.push_back(video(false, 1));
        assert!(frames.over_bounds());
        assert_eq!(frames.pop_front(), Some(5));
        assert_eq!((frames.first(), frames.end(), frames.bytes()), (6, 8, 7));
        assert!(!frames.over_bounds());
        let seqs: Vec<Seq> = frames.iter().map(|(seq, _)| seq).collect();
        assert_eq!(seqs, [6, 7]);
    }

    #[test]
    fn clear_keeps_the_numbering_and_restart_moves_it() {
        let mut frames = BoundedFrames::new(4, 100, 0);
        frames.push_back(video(false, 1));
        frames.push_back(video(false, 1));
        frames.clear();
        assert_eq!((frames.first(), frames.end(), frames.bytes()), (2, 2, 0));
        assert_eq!(frames.pop_front(), None);
        frames.restart(9);
        frames.push_back(video(false, 3));
        assert_eq!(frames.get(9).map(MediaFrame::len), Some(3));
        assert!(frames.get(8).is_none());
        assert!(BoundedFrames::new(0, 100, 0).is_disabled());
    }
}
