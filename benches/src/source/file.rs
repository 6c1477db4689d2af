//! Replaying a real FLV file as a live stream, looped, paced by its tag
//! timestamps.
//!
//! Its frames carry no stamps, so players measure latency from arrival
//! spacing only (see `player`): the delay of each frame beyond the
//! quickest frame that player has seen, which shows queueing and bursts
//! but not the constant part of the delay.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use arcly_media::flv::{FlvReader, FlvTag};
use bytes::BytesMut;

/// The tags of a file, replayed in a loop.
#[derive(Debug)]
pub(crate) struct FileReplay {
    tags: Vec<FlvTag>,
    /// First tag timestamp of the file, ms.
    first_ms: u32,
    /// Length of one pass, ms (last tag − first tag + one frame).
    pass_ms: u64,
    next: usize,
    /// Passes completed.
    passes: u64,
}

impl FileReplay {
    /// Reads every tag of `path`.
    pub(crate) fn open(path: &Path) -> anyhow::Result<FileReplay> {
        let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
        let mut buf = BytesMut::from(&bytes[..]);
        let mut reader = FlvReader::new();
        let mut tags = Vec::new();
        while let Some(tag) = reader
            .feed(&mut buf)
            .with_context(|| format!("{}: not an FLV file", path.display()))?
        {
            tags.push(tag);
        }
        anyhow::ensure!(!tags.is_empty(), "{}: no FLV tags", path.display());
        let first_ms = tags.iter().map(|t| t.timestamp_ms).min().unwrap_or(0);
        let last_ms = tags.iter().map(|t| t.timestamp_ms).max().unwrap_or(0);
        Ok(FileReplay {
            tags,
            first_ms,
            // One 25 fps frame after the last tag, so passes do not overlap.
            pass_ms: u64::from(last_ms - first_ms) + 40,
            next: 0,
            passes: 0,
        })
    }

    /// When the next tag is due, from the start of the stream.
    pub(crate) fn next_due(&self) -> Duration {
        Duration::from_millis(self.stream_ms(&self.tags[self.next]))
    }

    /// The next tag, with its timestamp moved to the stream's timeline.
    pub(crate) fn take(&mut self) -> FlvTag {
        let mut tag = self.tags[self.next].clone();
        tag.timestamp_ms = self.stream_ms(&tag) as u32;
        self.next += 1;
        if self.next == self.tags.len() {
            self.next = 0;
            self.passes += 1;
        }
        tag
    }

    fn stream_ms(&self, tag: &FlvTag) -> u64 {
        u64::from(tag.timestamp_ms - self.first_ms) + self.passes * self.pass_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_with_timestamps_that_keep_rising() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../media/tests/data/ffmpeg_h264_aac.flv");
        let mut replay = FileReplay::open(&path).unwrap();
        let tags = replay.tags.len();
        let mut last_video = None;
        for _ in 0..tags * 2 + 5 {
            let due = replay.next_due();
            let tag = replay.take();
            assert_eq!(u64::from(tag.timestamp_ms), due.as_millis() as u64);
            if tag.tag_type == arcly_media::flv::TagType::Video {
                assert!(last_video.is_none_or(|last| tag.timestamp_ms >= last));
                last_video = Some(tag.timestamp_ms);
            }
        }
        assert_eq!(replay.passes, 2);
    }
}
