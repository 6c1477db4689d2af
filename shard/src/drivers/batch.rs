//! What a viewer's next write carries, and when it goes out: the one
//! policy RTMP players and HTTP-FLV viewers share.
//!
//! A write is the costly part of serving a viewer (a system call and a TCP
//! segment each), so frames are gathered and written together:
//! - everything ready in the viewer's queue goes out in one write, up to
//!   [`MAX_WRITE`];
//! - with a merge window (`write_batch_ms`, SRS's "merged writes") frames
//!   wait until the window has passed since the viewer's last write (its
//!   first write, a joiner's configs and GOP, goes at once), so the frames
//!   of the whole window go out in one write. The shard's fan-out looks at
//!   the batch whenever the stream changes, so a write goes with the first
//!   frame after its window: no timer per viewer;
//! - with no window, each video frame goes out as soon as it arrives, and
//!   audio frames wait for the video frame they are due with (at most
//!   [`AUDIO_HOLD_FRAMES`] of them), which halves the writes of a typical
//!   stream at a latency cost below one video frame interval. The bound is
//!   a count, not a time, so holding audio arms no timer: a timer armed and
//!   dropped per frame cost a player more than the write it saved. Streams
//!   without video send audio at once.

use std::time::{Duration, Instant};

use arcly_engine::{EvictReason, TrackKind};
use bytes::Bytes;

use super::egress::{EncodeError, SharedEncoder};
use super::per_app::PerApp;
use crate::ViewerEvent;

/// The most bytes gathered into one socket write. A burst (a joiner's GOP)
/// costs few system calls, and a slow viewer never holds more than this
/// outside the engine's queue accounting.
pub(crate) const MAX_WRITE: usize = 256 << 10;

/// Audio frames that may wait for a video frame to share a write with:
/// about 90 ms of AAC at 44.1 kHz, so only a stalled video track makes
/// audio wait that long; normally the next video frame comes first.
pub(crate) const AUDIO_HOLD_FRAMES: usize = 4;

/// The merge window per app; zero sends each frame at once.
pub type WriteBatching = PerApp<Duration>;

/// Why a viewer's stream stops after the gathered bytes.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The viewer lagged out.
    Evicted(EvictReason),
    /// The stream ended.
    Ended,
    /// A frame could not be put on the wire.
    Encode(EncodeError),
    /// Writing to the viewer's socket failed otherwise.
    Write(std::io::Error),
}

/// What waits for a write, as far as deciding whether it is due needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Waiting {
    /// Bytes.
    pub(crate) size: usize,
    /// Audio frames since the last video frame or write.
    pub(crate) audio: usize,
    /// A video frame waits: the write is due.
    pub(crate) has_video: bool,
}

impl Waiting {
    /// Adds an encoded frame of `len` bytes of `track`.
    pub(crate) fn add(&mut self, len: usize, track: TrackKind) {
        self.size += len;
        match track {
            TrackKind::Video => self.has_video = true,
            _ => self.audio += 1,
        }
    }
}

/// The encoded frames waiting for a viewer's next write.
pub(crate) struct Batch {
    encoder: SharedEncoder,
    /// The merge window; zero sends at once.
    merge: Duration,
    parts: Vec<Bytes>,
    waiting: Waiting,
    /// The stream has shown video, so audio may wait for it.
    stream_has_video: bool,
    /// With a merge window, when the current one closes; `None` until the
    /// first write, which never waits: a joiner's configs and GOP go out
    /// at once, merging starts after them.
    window_end: Option<Instant>,
}

impl Batch {
    /// An empty batch encoding with `encoder`, merging `merge` of media per
    /// write.
    pub(crate) fn new(encoder: SharedEncoder, merge: Duration) -> Batch {
        Batch {
            encoder,
            merge,
            parts: Vec::new(),
            waiting: Waiting::default(),
            stream_has_video: false,
            window_end: None,
        }
    }

    /// When the current merge window closes, if one is open or was.
    pub(crate) fn window_end(&self) -> Option<Instant> {
        self.window_end
    }

    /// Whether the viewer's merge window is still open at `now`: frames
    /// can wait in the stream until it closes, untouched.
    pub(crate) fn in_window(&self, now: Instant) -> bool {
        self.window_end.is_some_and(|end| now < end)
    }

    /// Adds what a viewer gets next. On a stop, what was added before it
    /// is still to be written.
    pub(crate) fn push(&mut self, event: ViewerEvent) -> Result<(), Stop> {
        match event {
            ViewerEvent::Frame { seq, frame } => {
                let bytes = self.encoder.encode(seq, &frame).map_err(Stop::Encode)?;
                self.add(bytes, frame.track());
                Ok(())
            }
            ViewerEvent::Skipped { .. } => Ok(()),
            ViewerEvent::Evicted(reason) => Err(Stop::Evicted(reason)),
            ViewerEvent::Ended => Err(Stop::Ended),
        }
    }

    /// The encoder of the viewer's frames.
    pub(crate) fn encoder(&self) -> &SharedEncoder {
        &self.encoder
    }

    /// The bytes waiting for the next write.
    pub(crate) fn size(&self) -> usize {
        self.waiting.size
    }

    /// Whether the next write is as large as one write gets.
    pub(crate) fn is_full(&self) -> bool {
        self.waiting.size >= MAX_WRITE
    }

    /// Adds an encoded frame of `track` to the next write.
    fn add(&mut self, bytes: Bytes, track: TrackKind) {
        self.stream_has_video |= track == TrackKind::Video;
        self.waiting.add(bytes.len(), track);
        self.parts.push(bytes);
    }

    /// Whether bytes wait and should go out at `now`: with a merge window,
    /// once the window has passed; without, unless only audio waits for
    /// its video frame.
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        !self.parts.is_empty() && self.due(self.waiting, now)
    }

    /// Whether frames adding up to `waiting`, were they gathered into this
    /// batch while it is empty, would be due at `now` (see
    /// [`Batch::is_due`]): for frames written from the fan-out's shared run.
    pub(crate) fn would_be_due(&self, waiting: Waiting, now: Instant) -> bool {
        debug_assert!(self.parts.is_empty());
        self.due(waiting, now)
    }

    fn due(&self, waiting: Waiting, now: Instant) -> bool {
        let full = waiting.size >= MAX_WRITE;
        if !self.merge.is_zero() {
            return full || !self.in_window(now);
        }
        let audio_may_wait = self.stream_has_video
            && !waiting.has_video
            && !full
            && waiting.audio < AUDIO_HOLD_FRAMES;
        !audio_may_wait
    }

    /// Takes the waiting bytes for a write made at `now`.
    pub(crate) fn take(&mut self, now: Instant) -> Vec<Bytes> {
        self.wrote(now);
        self.waiting = Waiting::default();
        std::mem::take(&mut self.parts)
    }

    /// Notes a write made at `now` (its merge window starts), of the
    /// batch's bytes or of frames from a shared run.
    pub(crate) fn wrote(&mut self, now: Instant) {
        if !self.merge.is_zero() {
            self.window_end = Some(now + self.merge);
        }
    }
}

#[cfg(test)]
mod tests {
    use arcly_engine::StreamKey;

    use super::*;
    use crate::drivers::egress::WireFormat;

    fn batch(merge: Duration) -> Batch {
        let key = StreamKey::new("live", "batch").unwrap();
        Batch::new(SharedEncoder::new(key, WireFormat::FlvTag), merge)
    }

    fn now() -> Instant {
        Instant::now()
    }

    fn bytes(n: usize) -> Bytes {
        Bytes::from(vec![0; n])
    }

    #[test]
    fn an_empty_batch_is_never_due() {
        assert!(!batch(Duration::ZERO).is_due(now()));
    }

    #[test]
    fn audio_before_any_video_goes_at_once() {
        let mut b = batch(Duration::ZERO);
        b.add(bytes(10), TrackKind::Audio);
        assert!(b.is_due(now()));
    }

    #[test]
    fn audio_waits_for_the_next_video_frame() {
        let mut b = batch(Duration::ZERO);
        b.add(bytes(100), TrackKind::Video);
        assert!(b.is_due(now()));
        assert_eq!(b.take(now()).len(), 1);
        b.add(bytes(10), TrackKind::Audio);
        assert!(!b.is_due(now()));
        b.add(bytes(100), TrackKind::Video);
        assert!(b.is_due(now()));
        assert_eq!(b.take(now()).len(), 2, "audio and video share one write");
        assert!(!b.is_due(now()));
    }

    #[test]
    fn audio_waits_for_a_few_frames_at_most() {
        let mut b = batch(Duration::ZERO);
        b.add(bytes(1), TrackKind::Video);
        b.take(now());
        for _ in 1..AUDIO_HOLD_FRAMES {
            b.add(bytes(10), TrackKind::Audio);
            assert!(!b.is_due(now()));
        }
        b.add(bytes(10), TrackKind::Audio);
        assert!(
            b.is_due(now()),
            "a stalled video track does not stall audio"
        );
    }

    #[test]
    fn a_full_batch_of_audio_is_due() {
        let mut b = batch(Duration::ZERO);
        b.add(bytes(1), TrackKind::Video);
        b.take(now());
        b.add(bytes(MAX_WRITE), TrackKind::Audio);
        assert!(b.is_due(now()));
    }

    #[test]
    fn a_merge_window_waits_from_the_last_write() {
        let mut b = batch(Duration::from_millis(350));
        assert!(!b.in_window(now()), "a joiner's first write goes at once");
        b.add(bytes(10), TrackKind::Audio);
        b.add(bytes(10), TrackKind::Video);
        let written = now();
        b.take(written);
        b.add(bytes(10), TrackKind::Audio);
        let later = written + Duration::from_millis(349);
        assert!(!b.is_due(later), "within the window nothing is due");
        assert!(b.in_window(later));
        let closed = written + Duration::from_millis(350);
        assert!(!b.in_window(closed));
        assert!(b.is_due(closed));
        b.add(bytes(MAX_WRITE), TrackKind::Video);
        assert!(b.is_due(later), "a full batch goes before the window ends");
    }
}
