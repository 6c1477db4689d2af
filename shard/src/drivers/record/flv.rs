//! The FLV recording format: files `seg{N}.flv`, each one playable on its
//! own, and an ffconcat list of them ([`Flv`]). No I/O here.

use std::collections::VecDeque;

use arcly_engine::{Codec, MediaFrame, Timestamp};
use arcly_media::flv::{FlvHeader, FlvTag};
use bytes::BytesMut;

use super::error::RecordError;
use super::playlist::{Entry, ffconcat};
use super::recording::Format;
use super::split::Splitter;
use super::writer::FileOp;
use super::{FRAGMENT_BYTES, FRAGMENT_TIME, PLAYLIST_FLV};

/// FLV files split at keyframes, listed in an ffconcat file.
///
/// Every file starts with the FLV header, the newest `onMetaData` and the
/// configs in force, so it plays alone; timestamps run on across files from
/// 0 at the recording's start, so `ffmpeg -f concat -i index.ffconcat`
/// plays the whole recording. Tags are buffered and written about every
/// [`FRAGMENT_TIME`].
#[derive(Debug)]
pub(super) struct Flv {
    /// Tags not yet written.
    buffer: BytesMut,
    /// The `dts` of the last write.
    written_at: Timestamp,
}

impl Flv {
    pub(super) fn new() -> Flv {
        Flv {
            buffer: BytesMut::new(),
            written_at: Timestamp::ZERO,
        }
    }
}

impl Format for Flv {
    fn extension(&self) -> &'static str {
        "flv"
    }

    fn open(
        &mut self,
        media: &Splitter,
        first: &MediaFrame,
        _reconfigured: bool,
        _ops: &mut VecDeque<FileOp>,
    ) -> Result<Option<String>, RecordError> {
        self.write_head(media, first.dts)?;
        self.written_at = first.dts;
        Ok(None)
    }

    fn add(
        &mut self,
        media: &Splitter,
        frame: &MediaFrame,
        ops: &mut VecDeque<FileOp>,
    ) -> Result<(), RecordError> {
        self.encode(frame)?;
        let driving = frame.track() == media.driving();
        let due = frame.dts.0 - self.written_at.0 >= FRAGMENT_TIME.0;
        if (driving && due) || self.buffer.len() >= FRAGMENT_BYTES {
            self.flush(ops);
            self.written_at = frame.dts;
        }
        Ok(())
    }

    fn close(&mut self, _end: Timestamp, ops: &mut VecDeque<FileOp>) {
        self.flush(ops);
    }

    fn playlist(&self, entries: &[Entry], _ended: bool) -> (&'static str, String) {
        (PLAYLIST_FLV, ffconcat(entries))
    }
}

impl Flv {
    /// The FLV header, then metadata and the configs, timed at `at`.
    fn write_head(&mut self, media: &Splitter, at: Timestamp) -> Result<(), RecordError> {
        let video = media.video_config().cloned();
        let audio = media.audio_config().cloned();
        FlvHeader {
            has_audio: audio.is_some(),
            has_video: video.is_some(),
        }
        .encode(&mut self.buffer);
        // Metadata at 0, or demuxers take it for a data track.
        let head = [
            (media.metadata().cloned(), Timestamp::ZERO),
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

    fn encode(&mut self, frame: &MediaFrame) -> Result<(), RecordError> {
        let tag = FlvTag::from_frame(frame)?;
        tag.encode(&mut self.buffer)?;
        Ok(())
    }

    fn flush(&mut self, ops: &mut VecDeque<FileOp>) {
        if !self.buffer.is_empty() {
            ops.push_back(FileOp::Append(self.buffer.split().freeze()));
        }
    }
}
