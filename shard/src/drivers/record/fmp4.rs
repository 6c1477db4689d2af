//! A recording as fragmented MP4: `init.mp4`, `seg{N}.m4s` and an HLS
//! playlist, as file operations ([`Fmp4Recording`]). No I/O here.

use std::collections::VecDeque;

use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::fmp4::{self, Fragmenter};
use bytes::Bytes;

use super::error::RecordError;
use super::playlist::{Entry, media_playlist};
use super::split::{Splitter, Step};
use super::tracks::{audio_track, video_track};
use super::writer::FileOp;
use super::{FRAGMENT_BYTES, FRAGMENT_TIME, PLAYLIST_FMP4};

/// Records a stream as fMP4 segments listed in an HLS playlist.
///
/// Each segment starts at a keyframe and is written as it grows, one
/// `moof`+`mdat` per track about every [`FRAGMENT_TIME`], so at most that
/// much media is held in memory. The playlist is rewritten (whole, through
/// a temporary file and a rename) each time a segment closes, and last with
/// `EXT-X-ENDLIST` by [`finish`](Self::finish). A config change writes a
/// new init segment (`init1.mp4`, `init2.mp4`, ...) used from the next
/// keyframe on, after an `EXT-X-DISCONTINUITY`.
#[derive(Debug)]
pub(crate) struct Fmp4Recording {
    splitter: Splitter,
    target: Timestamp,
    /// Init segments written so far.
    inits: u32,
    /// The current init segment's name.
    init: Option<String>,
    video: Option<Fragmenter>,
    audio: Option<Fragmenter>,
    /// The next `moof` sequence number.
    sequence: u32,
    /// The open segment and its first `dts`.
    open: Option<(Entry, Timestamp)>,
    /// Where the pending fragment starts.
    fragment_start: Timestamp,
    entries: Vec<Entry>,
    ops: VecDeque<FileOp>,
    ended: bool,
}

impl Fmp4Recording {
    /// A recording cut into segments of at least `target`.
    pub(crate) fn new(target: Timestamp) -> Fmp4Recording {
        Fmp4Recording {
            splitter: Splitter::new(target),
            target,
            inits: 0,
            init: None,
            video: None,
            audio: None,
            sequence: 1,
            open: None,
            fragment_start: Timestamp::ZERO,
            entries: Vec::new(),
            ops: VecDeque::new(),
            ended: false,
        }
    }

    /// Takes the stream's next frame; `now` is the wall clock in Unix
    /// microseconds.
    pub(crate) fn push(&mut self, frame: &MediaFrame, now: Timestamp) -> Result<(), RecordError> {
        self.splitter.push(frame);
        self.apply_steps(now)
    }

    /// The recorder lagged and frames were skipped.
    pub(crate) fn skipped(&mut self, now: Timestamp) -> Result<(), RecordError> {
        self.splitter.skipped();
        self.apply_steps(now)
    }

    /// The stream ended: the last segment closes and the playlist becomes
    /// a VOD playlist.
    pub(crate) fn finish(&mut self, now: Timestamp) -> Result<(), RecordError> {
        if self.ended {
            return Ok(());
        }
        self.splitter.finish();
        self.apply_steps(now)?;
        self.ended = true;
        if !self.entries.is_empty() {
            self.write_playlist();
        }
        Ok(())
    }

    /// The next file operation.
    pub(crate) fn poll_op(&mut self) -> Option<FileOp> {
        self.ops.pop_front()
    }

    /// Closed segments, and how long they play together.
    pub(crate) fn recorded(&self) -> (usize, Timestamp) {
        let total = self.entries.iter().map(|e| e.duration.0).sum();
        (self.entries.len(), Timestamp(total))
    }

    fn apply_steps(&mut self, now: Timestamp) -> Result<(), RecordError> {
        while let Some(step) = self.splitter.pop() {
            match step {
                Step::Close { end } => self.close(end),
                Step::Open {
                    first,
                    discontinuity,
                    reconfigured,
                } => {
                    if self.init.is_none() || reconfigured {
                        self.write_init(&first)?;
                    }
                    let name = format!("seg{}.m4s", self.entries.len());
                    let date = (self.entries.is_empty() || discontinuity).then_some(now);
                    self.ops.push_back(FileOp::Open(name.clone()));
                    let entry = Entry {
                        name,
                        duration: Timestamp::ZERO,
                        discontinuity,
                        init: self.init.clone(),
                        date,
                    };
                    self.open = Some((entry, first.dts));
                    self.fragment_start = first.dts;
                    self.add(&first)?;
                }
                Step::Add(frame) => self.add(&frame)?,
            }
        }
        Ok(())
    }

    /// A new init segment from the configs in force; `first` is the
    /// keyframe it starts at (for a VP9 picture size).
    fn write_init(&mut self, first: &MediaFrame) -> Result<(), RecordError> {
        let video = self
            .splitter
            .video_config()
            .map(|config| video_track(config, Some(first)))
            .transpose()?;
        let audio = self.splitter.audio_config().map(audio_track).transpose()?;
        let tracks: Vec<_> = video.iter().chain(&audio).cloned().collect();
        let bytes = fmp4::init_segment(&tracks)?;
        let name = match self.inits {
            0 => "init.mp4".to_owned(),
            n => format!("init{n}.mp4"),
        };
        self.inits += 1;
        self.video = video.map(|t| Fragmenter::new(&[t]));
        self.audio = audio.map(|t| Fragmenter::new(&[t]));
        self.ops.push_back(FileOp::Replace {
            name: name.clone(),
            bytes,
        });
        self.init = Some(name);
        Ok(())
    }

    fn add(&mut self, frame: &MediaFrame) -> Result<(), RecordError> {
        let driving = frame.track() == self.splitter.driving();
        let pending = self.video.as_ref().map_or(0, Fragmenter::pending_bytes)
            + self.audio.as_ref().map_or(0, Fragmenter::pending_bytes);
        let due = frame.dts.0 - self.fragment_start.0 >= FRAGMENT_TIME.0;
        if driving && (due || pending >= FRAGMENT_BYTES) {
            self.cut(frame.dts);
        }
        let fragmenter = match frame.track() {
            TrackKind::Video => self.video.as_mut(),
            TrackKind::Audio => self.audio.as_mut(),
            TrackKind::Data => None,
        };
        if let Some(fragmenter) = fragmenter {
            fragmenter.push(frame)?;
        }
        Ok(())
    }

    /// Writes the pending media as one fragment per track, the driving
    /// track ending at `end`.
    fn cut(&mut self, end: Timestamp) {
        let audio_end = match self.video {
            // Audio's last frame lasts as long as the one before it.
            Some(_) => Timestamp::ZERO,
            None => end,
        };
        let video = self.video.as_mut().and_then(|v| v.cut(self.sequence, end));
        if let Some(fragment) = video {
            self.sequence += 1;
            self.ops.push_back(FileOp::Append(fragment.bytes));
        }
        let audio = self
            .audio
            .as_mut()
            .and_then(|a| a.cut(self.sequence, audio_end));
        if let Some(fragment) = audio {
            self.sequence += 1;
            self.ops.push_back(FileOp::Append(fragment.bytes));
        }
        self.fragment_start = end;
    }

    fn close(&mut self, end: Timestamp) {
        let Some((mut entry, start)) = self.open.take() else {
            return;
        };
        self.cut(end);
        self.ops.push_back(FileOp::Close);
        entry.duration = Timestamp(end.0 - start.0);
        self.entries.push(entry);
        self.write_playlist();
    }

    fn write_playlist(&mut self) {
        let text = media_playlist(&self.entries, self.target, self.ended);
        self.ops.push_back(FileOp::Replace {
            name: PLAYLIST_FMP4.to_owned(),
            bytes: Bytes::from(text),
        });
    }
}
