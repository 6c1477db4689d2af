//! [`HlsPackager`]: media frames in; MPEG-TS segments, fMP4 parts and
//! segments, init segments and a [`Timeline`] out.

use std::collections::VecDeque;

use arcly_engine::{Codec, MediaFrame, Timestamp, TrackKind};
use bytes::{Bytes, BytesMut};

use super::cutter::{Cut, Cutter};
use super::tracks::{Muxers, TrackConfig};
use super::{Container, HlsError, HlsSettings, Resource, SegmentStart, Timeline, Variant};
use crate::codec::{TrackInfo, vp9_frame_size};

/// What a [`push`](HlsPackager::push) or [`finish`](HlsPackager::finish)
/// published: the driver wakes the requests waiting on it (see
/// [`Waiters::ready`](super::Waiters::ready)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// The newest part published: its segment's Media Sequence Number and
    /// its index.
    pub part: Option<(u64, u32)>,
    /// A segment that closed.
    pub segment: Option<u64>,
    /// A new init segment version.
    pub init: Option<u32>,
}

impl PushOutcome {
    /// Whether nothing was published.
    pub fn is_empty(&self) -> bool {
        *self == PushOutcome::default()
    }

    fn merge(&mut self, other: PushOutcome) {
        self.part = other.part.or(self.part);
        self.segment = other.segment.or(self.segment);
        self.init = other.init.or(self.init);
    }
}

/// Packages one live stream for HLS and LL-HLS.
///
/// Feed it every frame of the stream with [`push`](Self::push), in the order
/// they arrive, and call [`finish`](Self::finish) when the publisher leaves.
/// Read the results through [`timeline`](Self::timeline) (for the playlist
/// renderers and blocking requests) and [`resource`](Self::resource).
///
/// - Start: frames wait until the config of every track is known (video and
///   audio configs both seen, or one of them and a target duration of media
///   without the other), then the stream starts at the first video keyframe.
/// - Cuts: segments start on the first video keyframe at or after the target
///   duration (any audio frame, in an audio-only stream). Parts hold a fixed
///   number of frames, chosen from the measured frame interval so that each
///   part but a segment's last lasts 85 % to 100 % of the part target; when
///   whole frames cannot fill 85 % of it (24 fps into 200 ms), the advertised
///   part target grows to hold one more frame. A gap in the input can still
///   make the part before it longer. The MPEG-TS segments and the fMP4 parts
///   share the cut points; an fMP4 segment is its parts end to end.
/// - Tracks: H.264 and H.265 video, AAC and MP3 audio go to both containers;
///   AV1, VP9 and Opus only to fMP4 (there is then no `index.m3u8` media:
///   [`has_ts`](Self::has_ts) is false). VVC is refused.
/// - Muxed fMP4: each track is its own `moof`+`mdat` within a part, so each
///   track's last sample gets its true duration.
/// - A new config (a sequence header that differs from the last) ends the
///   segment at the next keyframe and starts the next with a new init segment
///   and a discontinuity; until that keyframe, frames of a changed audio
///   track are dropped, as the old init cannot describe them.
/// - Memory: the timeline's window, and the open segment up to
///   [`max_segment_bytes`](HlsSettings::max_segment_bytes) (plus the frame
///   that reaches it); then each frame is refused with
///   [`HlsError::SegmentTooLarge`] until a keyframe starts a new segment.
#[derive(Debug)]
pub struct HlsPackager {
    timeline: Timeline,
    cutter: Cutter,
    video_config: Option<TrackConfig>,
    audio_config: Option<TrackConfig>,
    /// Frames held until the tracks are known.
    probe: Vec<MediaFrame>,
    muxers: Option<Muxers>,
    /// Config changes that wait for the next keyframe.
    video_changed: bool,
    audio_changed: bool,
    /// Whether the part target was fixed on the timeline.
    part_target_fixed: bool,
    /// Init segments still needed by a kept segment, by version.
    inits: VecDeque<(u32, Bytes)>,
    /// Audio frames at or after the newest video frame, which may belong to
    /// the next part.
    held_audio: VecDeque<MediaFrame>,
    last_video_dts: Option<Timestamp>,
    last_audio_dts: Option<Timestamp>,
    /// The picture size of the newest VP9 keyframe.
    vp9_size: Option<(u32, u32)>,
    ts: BytesMut,
    /// fMP4 bytes of the open segment, published and pending.
    open_bytes: usize,
    moof_sequence: u32,
    /// `(now, dts)` of the newest frame when the first segment opened, for
    /// program date-times.
    clock_anchor: Option<(Timestamp, Timestamp)>,
    finished: bool,
}

impl HlsPackager {
    /// A packager with these settings.
    pub fn new(settings: HlsSettings) -> Result<HlsPackager, HlsError> {
        let cutter = Cutter::new(settings.target_duration, settings.part_target);
        Ok(HlsPackager {
            timeline: Timeline::new(settings)?,
            cutter,
            video_config: None,
            audio_config: None,
            probe: Vec::new(),
            muxers: None,
            video_changed: false,
            audio_changed: false,
            part_target_fixed: false,
            inits: VecDeque::new(),
            held_audio: VecDeque::new(),
            last_video_dts: None,
            last_audio_dts: None,
            vp9_size: None,
            ts: BytesMut::new(),
            open_bytes: 0,
            moof_sequence: 1,
            clock_anchor: None,
            finished: false,
        })
    }

    // Getters.

    /// The segments and parts, for the playlists and blocking requests.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Whether the stream started (its tracks are known).
    pub fn is_started(&self) -> bool {
        self.muxers.is_some()
    }

    /// Whether segments have an MPEG-TS rendition (`index.m3u8`); false
    /// before the start and for codecs MPEG-TS cannot carry.
    pub fn has_ts(&self) -> bool {
        self.muxers.as_ref().is_some_and(|m| m.ts.is_some())
    }

    /// The description of the video and audio tracks, once started.
    pub fn tracks(&self) -> (Option<&TrackInfo>, Option<&TrackInfo>) {
        let started = self.is_started();
        fn info(config: &Option<TrackConfig>, started: bool) -> Option<&TrackInfo> {
            config.as_ref().filter(|_| started).map(|c| &c.info)
        }
        (
            info(&self.video_config, started),
            info(&self.audio_config, started),
        )
    }

    /// The init segment of a version, while a kept segment needs it.
    pub fn init_segment(&self, version: u32) -> Option<&Bytes> {
        self.inits
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, b)| b)
    }

    /// The bytes of a media resource (init, segment or part); `None` for
    /// playlists and for what is not (or no longer) there.
    pub fn resource(&self, resource: Resource) -> Option<Bytes> {
        match resource {
            Resource::Init(v) => self.init_segment(v).cloned(),
            Resource::TsSegment(msn) => self.timeline.segment(msn)?.ts.clone(),
            Resource::Fmp4Segment(msn) => self.timeline.segment(msn)?.fmp4.clone(),
            Resource::Part(msn, i) => Some(self.timeline.part(msn, i)?.bytes.clone()),
            _ => None,
        }
    }

    /// An `EXT-X-STREAM-INF` entry for this stream's `container` rendition,
    /// once a segment is complete: measured bit rates, codec strings, size
    /// and frame rate.
    pub fn variant(&self, uri: &str, container: Container) -> Option<Variant> {
        let bandwidth = self.timeline.bandwidth(container)?;
        let (video, audio) = self.tracks();
        Some(Variant {
            uri: uri.to_owned(),
            bandwidth: bandwidth.peak,
            average_bandwidth: Some(bandwidth.average),
            codecs: video
                .iter()
                .chain(&audio)
                .map(|t| t.codec_string.clone())
                .collect(),
            resolution: video.and_then(|v| Some((v.width?, v.height?))),
            frame_rate: video.and_then(|v| v.frame_rate),
        })
    }

    // Inputs.

    /// Takes the next frame of the stream; `now` is the driver's clock (Unix
    /// microseconds if [`program_date_time`](HlsSettings::program_date_time)
    /// is on). A refused frame is dropped and the packager stays usable.
    pub fn push(&mut self, frame: &MediaFrame, now: Timestamp) -> Result<PushOutcome, HlsError> {
        if self.finished {
            return Err(HlsError::Ended);
        }
        match frame.track() {
            TrackKind::Data => return Ok(PushOutcome::default()),
            _ if frame.codec == Codec::Vvc => return Err(HlsError::UnsupportedCodec(frame.codec)),
            _ => {}
        }
        if frame.is_config() {
            return self.handle_config(frame, now);
        }
        let video = frame.track() == TrackKind::Video;
        let last = match video {
            true => self.last_video_dts,
            false => self.last_audio_dts,
        };
        if let Some(last) = last
            && frame.dts < last
        {
            return Err(HlsError::DtsWentBack {
                codec: frame.codec,
                last,
                dts: frame.dts,
            });
        }
        if frame.codec == Codec::Mp3 && self.audio_config.is_none() {
            self.audio_config = Some(TrackConfig::read(frame)?);
            self.audio_changed = self.is_started();
        }
        if frame.codec == Codec::Vp9 && frame.is_keyframe() {
            self.vp9_size = vp9_frame_size(&frame.payload).or(self.vp9_size);
        }
        if !self.is_started() {
            let limit = self.timeline.settings().max_segment_bytes;
            let held: usize = self.probe.iter().map(|f| f.payload.len()).sum();
            if held + frame.payload.len() > limit {
                return Err(HlsError::SegmentTooLarge { msn: 0, limit });
            }
            self.probe.push(frame.clone());
            match video {
                true => self.last_video_dts = Some(frame.dts),
                false => self.last_audio_dts = Some(frame.dts),
            }
            return self.try_start(now);
        }
        self.process(frame, now)
    }

    /// Ends the stream: the open segment closes at the end of its last frame
    /// and the playlists get `EXT-X-ENDLIST`.
    pub fn finish(&mut self, now: Timestamp) -> Result<PushOutcome, HlsError> {
        let mut outcome = PushOutcome::default();
        if self.finished {
            return Ok(outcome);
        }
        let known = self.video_config.is_some() || self.audio_config.is_some();
        if !self.is_started() && known {
            outcome.merge(self.start(now)?);
        }
        self.finished = true;
        if self.cutter.segment_start().is_some() {
            let end = self.cutter.end();
            while let Some(audio) = self.held_audio.pop_front() {
                self.mux(&audio, TrackKind::Audio)?;
            }
            outcome.merge(self.cut_part(end, self.cutter.part_start(), now)?);
            outcome.merge(self.close_segment(end)?);
        }
        self.timeline.end()?;
        Ok(outcome)
    }

    // The rest.

    fn handle_config(
        &mut self,
        frame: &MediaFrame,
        now: Timestamp,
    ) -> Result<PushOutcome, HlsError> {
        let video = frame.track() == TrackKind::Video;
        let slot = match video {
            true => &mut self.video_config,
            false => &mut self.audio_config,
        };
        if slot.as_ref().is_some_and(|c| c.same_as(frame)) {
            return Ok(PushOutcome::default());
        }
        *slot = Some(TrackConfig::read(frame)?);
        if self.is_started() {
            match video {
                true => self.video_changed = true,
                false => self.audio_changed = true,
            }
            Ok(PushOutcome::default())
        } else {
            self.try_start(now)
        }
    }

    /// Starts once every track is known, and replays the held frames.
    fn try_start(&mut self, now: Timestamp) -> Result<PushOutcome, HlsError> {
        let span = match (self.probe.first(), self.probe.last()) {
            (Some(first), Some(last)) => last.dts.0.saturating_sub(first.dts.0),
            _ => 0,
        };
        let waited = span >= self.timeline.settings().target_duration.0;
        let known = match (&self.video_config, &self.audio_config) {
            (Some(_), Some(_)) => true,
            (Some(_), None) | (None, Some(_)) => waited,
            (None, None) => false,
        };
        // `vpcC` has no picture size: wait for a keyframe to read it from.
        let sized = self.video_config.as_ref().is_none_or(|c| {
            c.frame.codec != Codec::Vp9 || c.info.width.is_some() || self.vp9_size.is_some()
        });
        let known = known && sized;
        if !known {
            if waited {
                // No config at all yet: keep only the last target duration.
                let horizon = self.probe.last().map_or(0, |f| f.dts.0)
                    - self.timeline.settings().target_duration.0;
                self.probe.retain(|f| f.dts.0 >= horizon);
            }
            return Ok(PushOutcome::default());
        }
        self.start(now)
    }

    /// Builds the muxers and replays the held frames.
    fn start(&mut self, now: Timestamp) -> Result<PushOutcome, HlsError> {
        let muxers = match self.build_muxers() {
            Ok(muxers) => muxers,
            Err(e) => {
                // The configs are refused: so are the frames that waited.
                self.probe.clear();
                return Err(e);
            }
        };
        self.inits.push_back((0, muxers.init.clone()));
        self.muxers = Some(muxers);
        let mut outcome = PushOutcome {
            init: Some(0),
            ..PushOutcome::default()
        };
        for frame in std::mem::take(&mut self.probe) {
            outcome.merge(self.process(&frame, now)?);
        }
        Ok(outcome)
    }

    fn build_muxers(&self) -> Result<Muxers, HlsError> {
        Muxers::new(
            self.video_config.as_ref(),
            self.audio_config.as_ref(),
            self.vp9_size,
        )
    }

    /// A media frame of a started stream.
    fn process(&mut self, frame: &MediaFrame, now: Timestamp) -> Result<PushOutcome, HlsError> {
        let muxers = self.muxers.as_ref().expect("started");
        let track = frame.track();
        if !muxers.carries(track) {
            return Ok(PushOutcome::default());
        }
        match track {
            TrackKind::Video => self.last_video_dts = Some(frame.dts),
            _ => self.last_audio_dts = Some(frame.dts),
        }
        let driving = match muxers.video {
            Some(_) => TrackKind::Video,
            None => TrackKind::Audio,
        };
        if track != driving {
            // Audio of a stream with video belongs to the current part once
            // a video frame after it has been seen.
            if self.audio_changed {
                return Ok(PushOutcome::default());
            }
            self.check_size()?;
            self.held_audio.push_back(frame.clone());
            let video = self.last_video_dts.unwrap_or(Timestamp(i64::MIN));
            self.release_audio(video)?;
            return Ok(PushOutcome::default());
        }

        let keyframe = track == TrackKind::Audio || frame.is_keyframe();
        if self.video_changed && !keyframe {
            return Ok(PushOutcome::default());
        }
        let dts = frame.dts;
        let reconfigure = self.video_changed || self.audio_changed;
        if !self.cutter.starts_segment(dts, keyframe, reconfigure) {
            self.check_size()?;
        }
        let mut outcome = PushOutcome::default();
        match self.cutter.decide(dts, keyframe, reconfigure) {
            Cut::Drop => {
                self.drop_audio_before(dts);
                return Ok(outcome);
            }
            Cut::Open => {
                self.drop_audio_before(dts);
                if reconfigure {
                    // Changed before anything was published: version 0 is
                    // still free to change.
                    let muxers = self.build_muxers()?;
                    self.inits = VecDeque::from([(0, muxers.init.clone())]);
                    self.muxers = Some(muxers);
                    (self.video_changed, self.audio_changed) = (false, false);
                }
                // `now` is when the newest frame arrived.
                let newest = self.last_video_dts.max(self.last_audio_dts);
                self.clock_anchor = Some((now, newest.unwrap_or(dts)));
                outcome.merge(self.open_segment(dts, false)?);
            }
            Cut::Extend => self.release_audio(dts)?,
            Cut::Part { part_start } => {
                self.release_audio(dts)?;
                outcome.merge(self.cut_part(dts, part_start, now)?);
            }
            Cut::Segment { part_start, .. } => {
                self.release_audio(dts)?;
                outcome.merge(self.cut_part(dts, part_start, now)?);
                outcome.merge(self.close_segment(dts)?);
                (self.video_changed, self.audio_changed) = (false, false);
                outcome.merge(self.open_segment(dts, reconfigure)?);
            }
        }
        self.mux(frame, track)?;
        Ok(outcome)
    }

    /// Moves held audio before `before` into the current part.
    fn release_audio(&mut self, before: Timestamp) -> Result<(), HlsError> {
        if self.cutter.segment_start().is_none() {
            return Ok(());
        }
        while self.held_audio.front().is_some_and(|a| a.dts < before) {
            let audio = self.held_audio.pop_front().expect("checked");
            self.mux(&audio, TrackKind::Audio)?;
        }
        Ok(())
    }

    fn drop_audio_before(&mut self, dts: Timestamp) {
        while self.held_audio.front().is_some_and(|a| a.dts < dts) {
            self.held_audio.pop_front();
        }
    }

    fn mux(&mut self, frame: &MediaFrame, track: TrackKind) -> Result<(), HlsError> {
        let muxers = self.muxers.as_mut().expect("started");
        let fragmenter = match track {
            TrackKind::Video => muxers.video.as_mut(),
            _ => muxers.audio.as_mut(),
        };
        if let Some(fragmenter) = fragmenter {
            fragmenter.push(frame)?;
        }
        if let Some(ts) = &mut muxers.ts {
            ts.push(frame, &mut self.ts)?;
        }
        self.open_bytes += frame.payload.len();
        Ok(())
    }

    fn check_size(&self) -> Result<(), HlsError> {
        let limit = self.timeline.settings().max_segment_bytes;
        let held: usize = self.held_audio.iter().map(|f| f.payload.len()).sum();
        // MPEG-TS adds headers that are known only once written: refuse
        // once the limit is reached, so a segment passes it by one frame.
        let size = self.ts.len().max(self.open_bytes) + held;
        if size >= limit {
            let msn = self.timeline.next_part().0;
            return Err(HlsError::SegmentTooLarge { msn, limit });
        }
        Ok(())
    }

    fn open_segment(&mut self, dts: Timestamp, new_init: bool) -> Result<PushOutcome, HlsError> {
        let mut outcome = PushOutcome::default();
        if new_init {
            let muxers = self.build_muxers()?;
            let version = self.timeline.init_version() + 1;
            self.inits.push_back((version, muxers.init.clone()));
            self.muxers = Some(muxers);
            outcome.init = Some(version);
        }
        let program_date_time = match self.clock_anchor {
            Some((now, at)) if self.timeline.settings().program_date_time => {
                Some(Timestamp(now.0 + (dts.0 - at.0)))
            }
            _ => None,
        };
        self.timeline.open_segment(SegmentStart {
            first_dts: dts,
            discontinuity: false,
            new_init,
            program_date_time,
        })?;
        if let Some(ts) = &mut self.muxers.as_mut().expect("started").ts {
            ts.write_tables(&mut self.ts);
        }
        Ok(outcome)
    }

    /// Cuts the pending fragments at `end` into the next part.
    fn cut_part(
        &mut self,
        end: Timestamp,
        part_start: Timestamp,
        now: Timestamp,
    ) -> Result<PushOutcome, HlsError> {
        let next_audio = self.held_audio.front().map(|a| a.dts);
        let muxers = self.muxers.as_mut().expect("started");
        let mut bytes = BytesMut::new();
        let mut independent = true;
        if let Some(video) = &mut muxers.video
            && let Some(fragment) = video.cut(self.moof_sequence, end)
        {
            self.moof_sequence += 1;
            independent = fragment.starts_with_keyframe;
            bytes.extend_from_slice(&fragment.bytes);
        }
        if let Some(audio) = &mut muxers.audio {
            // Audio ends where the next audio frame starts, if it came;
            // otherwise at its last frame, which makes the fragmenter reuse
            // the previous frame's duration.
            let audio_end = match (&muxers.video, next_audio) {
                (None, _) => end,
                (Some(_), Some(next)) => next,
                (Some(_), None) => self.last_audio_dts.unwrap_or(end),
            };
            if let Some(fragment) = audio.cut(self.moof_sequence, audio_end) {
                self.moof_sequence += 1;
                bytes.extend_from_slice(&fragment.bytes);
            }
        }
        if !self.part_target_fixed {
            self.timeline.set_part_target(self.cutter.plan().target)?;
            self.part_target_fixed = true;
        }
        let duration = Timestamp(end.0 - part_start.0);
        let part = self
            .timeline
            .push_part(duration, independent, bytes.freeze(), now)?;
        Ok(PushOutcome {
            part: Some(part),
            ..PushOutcome::default()
        })
    }

    fn close_segment(&mut self, end: Timestamp) -> Result<PushOutcome, HlsError> {
        let start = self
            .timeline
            .open()
            .map_or(end, |segment| segment.first_dts);
        let ts = self.has_ts().then(|| self.ts.split().freeze());
        let msn = self
            .timeline
            .close_segment(Timestamp(end.0 - start.0), ts)?;
        self.open_bytes = 0;
        // Drop init segments no kept segment needs any more.
        let oldest = self.timeline.segments().next().map(|s| s.init);
        while self.inits.len() > 1 && self.inits.front().map(|(v, _)| *v) < oldest {
            self.inits.pop_front();
        }
        Ok(PushOutcome {
            segment: Some(msn),
            ..PushOutcome::default()
        })
    }
}
