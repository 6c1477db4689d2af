//! One viewer of a stream: its id, its cursor, and why it may be evicted.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crate::{ConfigSet, MediaFrame, Seq, Timestamp, TrackKind};

/// A viewer of one stream copy: a slot index and the slot's generation, so
/// an id is never mistaken for a later viewer in the same slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ViewerId {
    index: u32,
    generation: u32,
}

impl ViewerId {
    pub(crate) fn new(index: u32, generation: u32) -> ViewerId {
        ViewerId { index, generation }
    }

    pub(crate) fn index(self) -> usize {
        self.index as usize
    }

    pub(crate) fn generation(self) -> u32 {
        self.generation
    }
}

impl fmt::Display for ViewerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.index, self.generation)
    }
}

/// Why a lagging viewer was disconnected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvictReason {
    /// The viewer needed more skips than `StreamLimits::max_skips` allows.
    TooManySkips {
        /// Skips including the one that was refused.
        skips: u32,
    },
}

impl fmt::Display for EvictReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvictReason::TooManySkips { skips } => {
                write!(f, "too slow: needed skip {skips}, over the limit")
            }
        }
    }
}

/// Where a viewer is in the stream and what it still waits for.
///
/// Fixed size whatever the stream holds: a seq, a shared config set and a
/// few flags, never a payload.
#[derive(Clone, Debug)]
pub struct ViewerCursor {
    /// The next seq to read from the ring or the GOP cache.
    next: Seq,
    /// Configs and metadata still to send before `next`, from `prelude_pos`.
    prelude: Option<Arc<ConfigSet>>,
    prelude_pos: usize,
    /// Video is withheld until a GOP-starting keyframe.
    awaiting_keyframe: bool,
    /// Audio with a dts before this is withheld (it belongs before the
    /// keyframe the viewer started at).
    audio_from: Option<Timestamp>,
    skips: u32,
    joined_at: Instant,
}

impl ViewerCursor {
    /// A viewer that first gets `prelude`, then reads from `next` on,
    /// starting at the first GOP-starting keyframe.
    pub(crate) fn new(next: Seq, prelude: &Arc<ConfigSet>, now: Instant) -> ViewerCursor {
        let mut cursor = ViewerCursor {
            next,
            prelude: None,
            prelude_pos: 0,
            awaiting_keyframe: true,
            audio_from: None,
            skips: 0,
            joined_at: now,
        };
        cursor.restart(next, prelude);
        cursor
    }

    /// Moves to `next` as a fresh start: prelude again, then the first
    /// keyframe at or after `next`.
    pub(crate) fn restart(&mut self, next: Seq, prelude: &Arc<ConfigSet>) {
        self.next = next;
        self.prelude = (!prelude.is_empty()).then(|| Arc::clone(prelude));
        self.prelude_pos = 0;
        self.awaiting_keyframe = true;
        self.audio_from = None;
    }

    /// The next prelude entry, if any is left.
    pub(crate) fn next_prelude(&mut self) -> Option<(Seq, MediaFrame)> {
        let prelude = self.prelude.as_ref()?;
        let entry = prelude.entries().get(self.prelude_pos).cloned();
        self.prelude_pos += 1;
        if self.prelude_pos >= prelude.entries().len() {
            self.prelude = None;
        }
        entry
    }

    /// Steps past the frame at `next` and says whether to send it.
    ///
    /// Until the first GOP-starting keyframe, other video is withheld, and
    /// audio too when the stream has video; configs and metadata pass. After
    /// the keyframe, audio timed before it is withheld until one frame passes.
    pub(crate) fn admit(&mut self, frame: &MediaFrame, stream_has_video: bool) -> bool {
        self.next += 1;
        if frame.is_config() {
            return true;
        }
        match frame.track() {
            TrackKind::Data => true,
            TrackKind::Video if self.awaiting_keyframe => {
                if frame.starts_gop() {
                    self.awaiting_keyframe = false;
                    self.audio_from = Some(frame.dts);
                }
                !self.awaiting_keyframe
            }
            TrackKind::Video => true,
            TrackKind::Audio if self.awaiting_keyframe => !stream_has_video,
            TrackKind::Audio => match self.audio_from {
                Some(from) if frame.dts < from => false,
                _ => {
                    self.audio_from = None;
                    true
                }
            },
        }
    }

    /// Whether the viewer has its prelude and its start keyframe: from its
    /// next seq on it gets every frame, except audio timed before that
    /// keyframe (which [`Stream::advance`](crate::Stream::advance) checks
    /// for).
    pub fn is_steady(&self) -> bool {
        self.prelude.is_none() && !self.awaiting_keyframe
    }

    /// Moves a steady viewer over `frames` (the ones from `next` on), if
    /// [`ViewerCursor::admit`] would pass every one of them; otherwise
    /// nothing changes and it returns false.
    pub(crate) fn skip_over<'a>(
        &mut self,
        frames: impl Iterator<Item = &'a MediaFrame>,
        to: Seq,
    ) -> bool {
        debug_assert!(self.is_steady());
        if let Some(from) = self.audio_from {
            let mut audio = frames.filter(|f| f.track() == TrackKind::Audio && !f.is_config());
            match audio.next() {
                Some(first) if first.dts < from => return false,
                Some(_) => self.audio_from = None,
                None => {}
            }
        }
        self.next = to;
        true
    }

    /// Counts a skip and returns the new total.
    pub(crate) fn count_skip(&mut self) -> u32 {
        self.skips = self.skips.saturating_add(1);
        self.skips
    }

    /// Whether prelude entries are still to be sent.
    pub fn in_prelude(&self) -> bool {
        self.prelude.is_some()
    }

    /// The next seq this viewer reads (after any prelude).
    pub fn next_seq(&self) -> Seq {
        self.next
    }

    /// Whether the viewer still waits for a keyframe to start video.
    pub fn is_awaiting_keyframe(&self) -> bool {
        self.awaiting_keyframe
    }

    /// Skips taken so far.
    pub fn skips(&self) -> u32 {
        self.skips
    }

    /// When the viewer joined.
    pub fn joined_at(&self) -> Instant {
        self.joined_at
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::{Codec, FrameFlags};

    fn frame(codec: Codec, flags: FrameFlags, dts: i64) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp(dts),
            pts: Timestamp(dts),
            flags,
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn replays_the_prelude_once_in_order() {
        let set = ConfigSet::empty(0)
            .with(2, &frame(Codec::H264, FrameFlags::CONFIG, 0))
            .unwrap()
            .with(3, &frame(Codec::Aac, FrameFlags::CONFIG, 0))
            .unwrap();
        let mut cursor = ViewerCursor::new(10, &Arc::new(set), Instant::now());
        assert!(cursor.in_prelude());
        assert_eq!(cursor.next_prelude().map(|(s, _)| s), Some(2));
        assert_eq!(cursor.next_prelude().map(|(s, _)| s), Some(3));
        assert!(cursor.next_prelude().is_none());
        assert!(!cursor.in_prelude());
    }

    #[test]
    fn withholds_video_and_audio_until_a_keyframe() {
        let set = Arc::new(ConfigSet::empty(0));
        let mut cursor = ViewerCursor::new(0, &set, Instant::now());
        assert!(!cursor.admit(&frame(Codec::H264, FrameFlags::NONE, 0), true));
        assert!(!cursor.admit(&frame(Codec::Aac, FrameFlags::NONE, 0), true));
        assert!(cursor.admit(&frame(Codec::Aac, FrameFlags::CONFIG, 0), true));
        assert!(cursor.admit(&frame(Codec::Script, FrameFlags::NONE, 0), true));
        assert!(cursor.admit(&frame(Codec::H264, FrameFlags::KEYFRAME, 100), true));
        assert!(!cursor.is_awaiting_keyframe());
        assert_eq!(cursor.next_seq(), 5);
    }

    #[test]
    fn audio_only_streams_flow_before_any_keyframe() {
        let set = Arc::new(ConfigSet::empty(0));
        let mut cursor = ViewerCursor::new(0, &set, Instant::now());
        assert!(cursor.admit(&frame(Codec::Aac, FrameFlags::NONE, 0), false));
    }

    #[test]
    fn audio_timed_before_the_keyframe_is_withheld() {
        let set = Arc::new(ConfigSet::empty(0));
        let mut cursor = ViewerCursor::new(0, &set, Instant::now());
        assert!(cursor.admit(&frame(Codec::H264, FrameFlags::KEYFRAME, 100), true));
        assert!(!cursor.admit(&frame(Codec::Aac, FrameFlags::NONE, 90), true));
        assert!(cursor.admit(&frame(Codec::Aac, FrameFlags::NONE, 100), true));
        assert!(cursor.admit(&frame(Codec::Aac, FrameFlags::NONE, 95), true));
    }

    #[test]
    fn ids_and_reasons_display() {
        assert_eq!(ViewerId::new(3, 7).to_string(), "3.7");
        let reason = EvictReason::TooManySkips { skips: 11 };
        assert_eq!(
            reason.to_string(),
            "too slow: needed skip 11, over the limit"
        );
    }
}
