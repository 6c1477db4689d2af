//! A recording as FLV files, `seg{N}.flv`, each one playable on its own,
//! and an ffconcat list of them ([`FlvRecording`]). No I/O here.

use std::collections::VecDeque;

use arcly_engine::{Codec, MediaFrame, Timestamp};
use arcly_media::flv::{FlvHeader, FlvTag};
use bytes::{Bytes, BytesMut};

use super::error::RecordError;
use super::playlist::{Entry, ffconcat};
use super::split::{Splitter, Step};
use super::writer::FileOp;
use super::{FRAGMENT_BYTES, FRAGMENT_TIME, PLAYLIST_FLV};

/// Records a stream as FLV files split at keyframes.
///
/// Every file starts with the FLV header, the newest `onMetaData` and the
/// configs in force, so it plays alone; timestamps run on across files from
/// 0 at the recording's start, so `ffmpeg -f concat -i index.ffconcat`
/// plays the whole recording. Tags are buffered and written about every
/// [`FRAGMENT_TIME`].
#[derive(Debug)]
pub(crate) struct FlvRecording {
    splitter: Splitter,
    /// The open file and its first `dts`.
    open: Option<(Entry, Timestamp)>,
    /// Tags not yet written.
    buffer: BytesMut,
    /// The `dts` of the last write.
    written_at: Timestamp,
    entries: Vec<Entry>,
    ops: VecDeque<FileOp>,
    ended: bool,
}

impl FlvRecording {
    /// A recording cut into files of at least `target`.
    pub(crate) fn new(target: Timestamp) -> FlvRecording {
        FlvRecording {
            splitter: Splitter::new(target),
            open: None,
            buffer: BytesMut::new(),
            written_at: Timestamp::ZERO,
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

    /// The stream ended: the last file closes.
    pub(crate) fn finish(&mut self, now: Timestamp) -> Result<(), RecordError> {
        if self.ended {
            return Ok(());
        }
        self.splitter.finish();
        self.apply_steps(now)?;
        self.ended = true;
        Ok(())
    }

    /// The next file operation.
    pub(crate) fn poll_op(&mut self) -> Option<FileOp> {
        self.ops.pop_front()
    }

    /// Closed files, and how long they play together.
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
                    ..
                } => {
                    let name = format!("seg{}.flv", self.entries.len());
                    self.ops.push_back(FileOp::Open(name.clone()));
                    let entry = Entry {
                        name,
                        duration: Timestamp::ZERO,
                        discontinuity,
                        init: None,
                        date: (self.entries.is_empty() || discontinuity).then_some(now),
                    };
                    self.open = Some((entry, first.dts));
                    self.write_head(first.dts)?;
                    self.written_at = first.dts;
                    self.add(&first)?;
                }
                Step::Add(frame) => self.add(&frame)?,
            }
        }
        Ok(())
    }

    /// The FLV header, then metadata and the configs, timed at `at`.
    fn write_head(&mut self, at: Timestamp) -> Result<(), RecordError> {
        let video = self.splitter.video_config().cloned();
        let audio = self.splitter.audio_config().cloned();
        FlvHeader {
            has_audio: audio.is_some(),
            has_video: video.is_some(),
        }
        .encode(&mut self.buffer);
        // Metadata at 0, or demuxers take it for a data track.
        let head = [
            (self.splitter.metadata().cloned(), Timestamp::ZERO),
            (video, at),
            (audio, at),
        ];
        for (frame, at) in head {
            // MP3 has no config: its first frame only describes the track.
            if let Some(frame) = frame.filter(|f| f.codec != Codec::Mp3) {
                let timed = MediaFrame {
                    dts: at,
                    pts: at,
                    ..frame
                };
                self.encode(&timed)?;
            }
        }
        Ok(())
    }

    fn add(&mut self, frame: &MediaFrame) -> Result<(), RecordError> {
        self.encode(frame)?;
        let driving = frame.track() == self.splitter.driving();
        let due = frame.dts.0 - self.written_at.0 >= FRAGMENT_TIME.0;
        if (driving && due) || self.buffer.len() >= FRAGMENT_BYTES {
            self.flush();
            self.written_at = frame.dts;
        }
        Ok(())
    }

    fn encode(&mut self, frame: &MediaFrame) -> Result<(), RecordError> {
        let tag = FlvTag::from_frame(frame)?;
        tag.encode(&mut self.buffer)?;
        Ok(())
    }

    fn flush(&mut self) {
        if !self.buffer.is_empty() {
            let bytes: Bytes = self.buffer.split().freeze();
            self.ops.push_back(FileOp::Append(bytes));
        }
    }

    fn close(&mut self, end: Timestamp) {
        let Some((mut entry, start)) = self.open.take() else {
            return;
        };
        self.flush();
        self.ops.push_back(FileOp::Close);
        entry.duration = Timestamp(end.0 - start.0);
        self.entries.push(entry);
        self.ops.push_back(FileOp::Replace {
            name: PLAYLIST_FLV.to_owned(),
            bytes: Bytes::from(ffconcat(&self.entries)),
        });
    }
}
