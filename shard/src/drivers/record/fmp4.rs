//! The fragmented-MP4 recording format: `init.mp4`, `seg{N}.m4s` and an
//! HLS playlist ([`Fmp4`]). No I/O here.

use std::collections::VecDeque;

use super::error::RecordError;
use super::playlist::{Entry, media_playlist};
use super::recording::Format;
use super::split::Splitter;
use super::tracks::{audio_track, video_track};
use super::writer::FileOp;
use super::{FRAGMENT_BYTES, FRAGMENT_TIME, PLAYLIST_FMP4};
use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::fmp4::{self, Fragmenter};

/// fMP4 segments listed in an HLS playlist.
///
/// Each segment starts at a keyframe and is written as it grows, one
/// `moof`+`mdat` per track about every [`FRAGMENT_TIME`], so at most that
/// much media is held in memory. The playlist is `EVENT` while recording
/// and `VOD` with `EXT-X-ENDLIST` once the stream ended. A config change
/// writes a new init segment (`init1.mp4`, `init2.mp4`, ...) used from the
/// next keyframe on, after an `EXT-X-DISCONTINUITY`.
#[derive(Debug)]
pub(super) struct Fmp4 {
    /// The configured segment duration, for the playlist.
    target: Timestamp,
    /// Init segments written so far.
    inits: u32,
    /// The current init segment's name.
    init: Option<String>,
    video: Option<Fragmenter>,
    audio: Option<Fragmenter>,
    /// The next `moof` sequence number.
    sequence: u32,
    /// Where the pending fragment starts.
    fragment_start: Timestamp,
}

impl Fmp4 {
    /// Segments of at least `target`.
    pub(super) fn new(target: Timestamp) -> Fmp4 {
        Fmp4 {
            target,
            inits: 0,
            init: None,
            video: None,
            audio: None,
            sequence: 1,
            fragment_start: Timestamp::ZERO,
        }
    }
}

impl Format for Fmp4 {
    fn extension(&self) -> &'static str {
        "m4s"
    }

    fn open(
        &mut self,
        media: &Splitter,
        first: &MediaFrame,
        reconfigured: bool,
        ops: &mut VecDeque<FileOp>,
    ) -> Result<Option<String>, RecordError> {
        if self.init.is_none() || reconfigured {
            self.write_init(media, first, ops)?;
        }
        self.fragment_start = first.dts;
        Ok(self.init.clone())
    }

    fn add(
        &mut self,
        media: &Splitter,
        frame: &MediaFrame,
        ops: &mut VecDeque<FileOp>,
    ) -> Result<(), RecordError> {
        let driving = frame.track() == media.driving();
        let pending = self.video.as_ref().map_or(0, Fragmenter::pending_bytes)
            + self.audio.as_ref().map_or(0, Fragmenter::pending_bytes);
        let due = frame.dts.0 - self.fragment_start.0 >= FRAGMENT_TIME.0;
        if driving && (due || pending >= FRAGMENT_BYTES) {
            self.cut(frame.dts, ops);
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

    fn close(&mut self, end: Timestamp, ops: &mut VecDeque<FileOp>) {
        self.cut(end, ops);
    }

    fn playlist(&self, entries: &[Entry], ended: bool) -> (&'static str, String) {
        (PLAYLIST_FMP4, media_playlist(entries, self.target, ended))
    }
}

impl Fmp4 {
    /// A new init segment from the configs in force; `first` is the
    /// keyframe it starts at (for a VP9 picture size).
    fn write_init(
        &mut self,
        media: &Splitter,
        first: &MediaFrame,
        ops: &mut VecDeque<FileOp>,
    ) -> Result<(), RecordError> {
        let video = media
            .video_config()
            .map(|config| video_track(config, Some(first)))
            .transpose()?;
        let audio = media.audio_config().map(audio_track).transpose()?;
        let tracks: Vec<_> = video.iter().chain(&audio).cloned().collect();
        let bytes = fmp4::init_segment(&tracks)?;
        let name = match self.inits {
            0 => "init.mp4".to_owned(),
            n => format!("init{n}.mp4"),
        };
        self.inits += 1;
        self.video = video.map(|t| Fragmenter::new(&[t]));
        self.audio = audio.map(|t| Fragmenter::new(&[t]));
        ops.push_back(FileOp::Replace {
            name: name.clone(),
            bytes,
        });
        self.init = Some(name);
        Ok(())
    }

    /// Writes the pending media as one fragment per track, the driving
    /// track ending at `end`.
    fn cut(&mut self, end: Timestamp, ops: &mut VecDeque<FileOp>) {
        let audio_end = match self.video {
            // Audio's last frame lasts as long as the one before it.
            Some(_) => Timestamp::ZERO,
            None => end,
        };
        let video = self.video.as_mut().and_then(|v| v.cut(self.sequence, end));
        if let Some(fragment) = video {
            self.sequence += 1;
            ops.push_back(FileOp::Append(fragment.bytes));
        }
        let audio = self
            .audio
            .as_mut()
            .and_then(|a| a.cut(self.sequence, audio_end));
        if let Some(fragment) = audio {
            self.sequence += 1;
            ops.push_back(FileOp::Append(fragment.bytes));
        }
        self.fragment_start = end;
    }
}
