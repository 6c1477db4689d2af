//! A recording: the stream cut into files at keyframes, the list of those
//! files, and the file operations that write them, in one of the formats
//! ([`Format`]: FLV or fMP4). No I/O here.

use std::collections::VecDeque;
use std::fmt;

use arcly_engine::{MediaFrame, Timestamp};
use bytes::Bytes;

use super::error::RecordError;
use super::flv::Flv;
use super::fmp4::Fmp4;
use super::playlist::Entry;
use super::split::{Splitter, Step};
use super::writer::FileOp;
use super::{RecordConfig, RecordFormat};
use crate::ViewerEvent;

/// What a recording format writes; the [`Recording`] decides when, and
/// keeps the list of files.
pub(super) trait Format: fmt::Debug {
    /// The extension of its media files (`seg{N}.{extension}`).
    fn extension(&self) -> &'static str;

    /// A file starts at keyframe `first` (the configs changed before it if
    /// `reconfigured`): writes what goes before its frames, and returns the
    /// init segment the file needs, if the format has them. `media` holds
    /// the configs and metadata in force.
    fn open(
        &mut self,
        media: &Splitter,
        first: &MediaFrame,
        reconfigured: bool,
        ops: &mut VecDeque<FileOp>,
    ) -> Result<Option<String>, RecordError>;

    /// Adds a frame to the open file.
    fn add(
        &mut self,
        media: &Splitter,
        frame: &MediaFrame,
        ops: &mut VecDeque<FileOp>,
    ) -> Result<(), RecordError>;

    /// Writes what the open file still holds; its media end at `end`.
    fn close(&mut self, end: Timestamp, ops: &mut VecDeque<FileOp>);

    /// The list of the closed files: its file name and text. `ended`: the
    /// recording is over.
    fn playlist(&self, entries: &[Entry], ended: bool) -> (&'static str, String);
}

/// A stream being recorded: takes the recorder's viewer events, gives file
/// operations for the writer.
#[derive(Debug)]
pub(super) struct Recording {
    format: Box<dyn Format>,
    splitter: Splitter,
    /// The open file and its first `dts`.
    open: Option<(Entry, Timestamp)>,
    /// The closed files.
    entries: Vec<Entry>,
    ops: VecDeque<FileOp>,
    ended: bool,
}

impl Recording {
    /// A recording as `config` asks: its format, cut into files of at
    /// least its segment duration.
    pub(super) fn new(config: &RecordConfig) -> Recording {
        let target = Timestamp(config.segment.as_micros().min(i64::MAX as u128) as i64);
        let format: Box<dyn Format> = match config.format {
            RecordFormat::Fmp4 => Box::new(Fmp4::new(target)),
            RecordFormat::Flv => Box::new(Flv::new()),
        };
        Recording {
            format,
            splitter: Splitter::new(target),
            open: None,
            entries: Vec::new(),
            ops: VecDeque::new(),
            ended: false,
        }
    }

    /// Takes the recorder's next event; `now` is the wall clock in Unix
    /// microseconds. A frame goes to its file, a skip (the recorder lagged)
    /// cuts a discontinuity, anything else ends the recording: the last
    /// file closes and the list is written a last time.
    pub(super) fn handle(
        &mut self,
        event: &ViewerEvent,
        now: Timestamp,
    ) -> Result<(), RecordError> {
        match event {
            ViewerEvent::Frame { frame, .. } => self.splitter.push(frame),
            ViewerEvent::Skipped { .. } => self.splitter.skipped(),
            ViewerEvent::Evicted(_) | ViewerEvent::Ended => {
                if self.ended {
                    return Ok(());
                }
                self.splitter.finish();
                self.apply_steps(now)?;
                self.ended = true;
                if !self.entries.is_empty() {
                    self.write_playlist();
                }
                return Ok(());
            }
        }
        self.apply_steps(now)
    }

    /// The next file operation.
    pub(super) fn poll_op(&mut self) -> Option<FileOp> {
        self.ops.pop_front()
    }

    /// Closed files, and how long they play together.
    pub(super) fn recorded(&self) -> (usize, Timestamp) {
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
                    let media = &self.splitter;
                    let init = self
                        .format
                        .open(media, &first, reconfigured, &mut self.ops)?;
                    let name = format!("seg{}.{}", self.entries.len(), self.format.extension());
                    self.ops.push_back(FileOp::Open(name.clone()));
                    let entry = Entry {
                        name,
                        duration: Timestamp::ZERO,
                        discontinuity,
                        init,
                        date: (self.entries.is_empty() || discontinuity).then_some(now),
                    };
                    self.open = Some((entry, first.dts));
                    self.format.add(&self.splitter, &first, &mut self.ops)?;
                }
                Step::Add(frame) => self.format.add(&self.splitter, &frame, &mut self.ops)?,
            }
        }
        Ok(())
    }

    fn close(&mut self, end: Timestamp) {
        let Some((mut entry, start)) = self.open.take() else {
            return;
        };
        self.format.close(end, &mut self.ops);
        self.ops.push_back(FileOp::Close);
        entry.duration = Timestamp(end.0 - start.0);
        self.entries.push(entry);
        self.write_playlist();
    }

    /// Rewrites the list (whole, through a temporary file and a rename).
    fn write_playlist(&mut self) {
        let (name, text) = self.format.playlist(&self.entries, self.ended);
        self.ops.push_back(FileOp::Replace {
            name: name.to_owned(),
            bytes: Bytes::from(text),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use arcly_engine::{Codec, FrameFlags};

    use super::*;

    /// The `avcC` x264 wrote for a 320x240 High profile level 1.3 stream.
    const X264_AVCC: &[u8] = &[
        0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41,
        0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1,
        0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8,
        0x00,
    ];

    /// A video frame: the config is [`X264_AVCC`], a picture is one
    /// two-byte IDR NAL unit (the recording never decodes pictures).
    fn frame(codec: Codec, flags: FrameFlags, ms: i64) -> ViewerEvent {
        let payload = match flags {
            FrameFlags::CONFIG => Bytes::from_static(X264_AVCC),
            _ => Bytes::from_static(&[0, 0, 0, 2, 0x65, 0x88]),
        };
        let frame = MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms),
            flags,
            payload,
        };
        ViewerEvent::Frame { seq: 0, frame }
    }

    /// The file operations, as `open NAME`, `append`, `close` and
    /// `replace NAME` (appends in a row counted once).
    fn ops(recording: &mut Recording) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        while let Some(op) = recording.poll_op() {
            let line = match op {
                FileOp::Open(name) => format!("open {name}"),
                FileOp::Append(_) => "append".to_owned(),
                FileOp::Close => "close".to_owned(),
                FileOp::Replace { name, .. } => format!("replace {name}"),
            };
            if line != "append" || out.last().is_none_or(|last| last != "append") {
                out.push(line);
            }
        }
        out
    }

    /// 2.5 s of audio and 25 fps video with a keyframe every second, cut
    /// at 1 s, then the end.
    fn record(format: RecordFormat) -> (Vec<String>, (usize, Timestamp)) {
        let mut config = RecordConfig::new("/unused");
        config.format = format;
        config.segment = Duration::from_secs(1);
        let mut recording = Recording::new(&config);
        let now = Timestamp::ZERO;
        recording
            .handle(&frame(Codec::H264, FrameFlags::CONFIG, 0), now)
            .unwrap();
        for ms in (0..2500).step_by(40) {
            let flags = match ms % 1000 {
                0 => FrameFlags::KEYFRAME,
                _ => FrameFlags::NONE,
            };
            recording
                .handle(&frame(Codec::H264, flags, ms), now)
                .unwrap();
        }
        recording.handle(&ViewerEvent::Ended, now).unwrap();
        recording
            .handle(&ViewerEvent::Ended, now)
            .expect("a second end changes nothing");
        (ops(&mut recording), recording.recorded())
    }

    #[test]
    fn flv_files_are_cut_at_keyframes_and_listed_as_they_close() {
        let (ops, (files, duration)) = record(RecordFormat::Flv);
        let list = "replace index.ffconcat";
        assert_eq!(
            ops,
            [
                "open seg0.flv",
                "append",
                "close",
                list,
                "open seg1.flv",
                "append",
                "close",
                list,
                "open seg2.flv",
                "append",
                "close",
                list,
                list,
            ]
        );
        assert_eq!(files, 3);
        // The last frame lasts as long as the one before it.
        assert_eq!(duration, Timestamp::from_millis(2520));
    }

    #[test]
    fn fmp4_segments_need_their_init_segment_and_end_the_playlist() {
        let (ops, (files, _)) = record(RecordFormat::Fmp4);
        assert_eq!(ops.first().map(String::as_str), Some("replace init.mp4"));
        assert_eq!(ops[1], "open seg0.m4s");
        assert_eq!(files, 3);
        assert_eq!(
            ops.iter().filter(|op| *op == "replace index.m3u8").count(),
            4,
            "once per closed segment, and once more to end it"
        );
    }
}
