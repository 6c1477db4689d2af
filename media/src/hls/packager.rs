//! [`HlsPackager`]: media frames in; MPEG-TS segments, fMP4 parts and
//! segments, init segments and a [`Timeline`] out.

use std::collections::VecDeque;

use arcly_engine::{Codec, MediaFrame, Timestamp, TrackKind};
use bytes::{Bytes, BytesMut};

use super::cutter::{Before, Cutter, Span};
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
///   duration (any audio frame, in an audio-only stream). Parts hold a
///   planned number of frames, chosen from the measured frame interval so
///   that each part but a segment's last lasts 85 % to 100 % of the part
///   target; when whole frames cannot fill 85 % of it (24 fps into 200 ms),
///   the advertised part target grows to hold one more frame. The MPEG-TS
///   segments and the fMP4 parts share the segment boundaries; an fMP4
///   segment is its parts end to end.
/// - Readiness: the push of the frame that completes a part publishes it
///   (in [`PushOutcome::part`]), without waiting for the frame after it. The
///   part's last video frame lasts the mean frame interval measured so far.
///   When that prediction is off (timestamps rounded to milliseconds, a
///   dropped frame), the next part's media still start at their real decode
///   time, since each fragment's `tfdt` is absolute, and the next part's
///   duration in the playlist makes up the difference, so the error never
///   adds up: a segment's `EXTINF`, the sum of its parts, is the media from
///   the previous segment's end to its own last frame's predicted end. A
///   segment's last part, when the keyframe after it comes before the part
///   is complete, ends at that keyframe and is published when it arrives. A
///   gap in the input that a part cannot hold is left out of the durations.
/// - Preload hint: a part that completes where the next keyframe is due, by
///   the keyframe interval so far, is probably its segment's last, so the
///   hint names the next segment's first part
///   ([`Timeline::expect_segment_end`]) rather than a part that would never
///   come.
/// - Tracks: H.264 and H.265 video, AAC and MP3 audio go to both containers;
///   AV1, VP9 and Opus only to fMP4 (there is then no `index.m3u8` media:
///   [`has_ts`](Self::has_ts) is false). VVC is refused.
/// - Muxed fMP4: each track is its own `moof`+`mdat` within a part, since a
///   fragment gives every track's last sample the same end. Video ends where
///   the part does; audio ends exactly where the next part's audio starts:
///   the newest audio frame always waits for the next one, whose decode time
///   is where it ends, so the audio of consecutive parts neither overlaps
///   nor leaves a gap. Audio that comes after its part was cut goes into the
///   next part (each track's fragment has its own `tfdt`), and audio that
///   comes after the last part at the stream's end is dropped.
/// - MPEG-TS segments are whole segments: audio goes into one when a video
///   frame after it has come, and into the next if its decode time is at or
///   after the keyframe that starts the next.
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
    /// Audio frames not yet in the MPEG-TS segment: those at or after the
    /// newest video frame, which may belong to the next segment.
    ts_audio: VecDeque<MediaFrame>,
    /// Audio frames not yet in an fMP4 fragment; they go in when a part is
    /// cut. The newest always waits for the one after it, which says where
    /// it ends.
    part_audio: VecDeque<MediaFrame>,
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
            ts_audio: VecDeque::new(),
            part_audio: VecDeque::new(),
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
            while let Some(audio) = self.ts_audio.pop_front() {
                self.mux_ts(&audio)?;
            }
            if let Some(span) = self.cutter.finish() {
                outcome.merge(self.cut_part(span, now, true)?);
            }
            self.part_audio.clear();
            outcome.merge(self.close_segment()?);
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
            if self.audio_changed {
                return Ok(PushOutcome::default());
            }
            self.check_size()?;
            self.part_audio.push_back(frame.clone());
            if self.has_ts() {
                self.ts_audio.push_back(frame.clone());
                let video = self.last_video_dts.unwrap_or(Timestamp(i64::MIN));
                self.release_ts_audio(video)?;
            }
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
        let cut = self.cutter.decide(dts, keyframe, reconfigure);
        match cut.before {
            Before::Drop => {
                self.drop_audio_before(dts);
                return Ok(outcome);
            }
            Before::Open => {
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
            Before::Continue => self.release_ts_audio(dts)?,
            Before::Part(span) => {
                self.release_ts_audio(dts)?;
                outcome.merge(self.cut_part(span, now, false)?);
            }
            Before::Segment(ended) => {
                self.release_ts_audio(dts)?;
                if let Some(span) = ended {
                    outcome.merge(self.cut_part(span, now, false)?);
                }
                outcome.merge(self.close_segment()?);
                if self.audio_changed {
                    // Frames of the old audio config, which the new init
                    // cannot describe.
                    self.ts_audio.clear();
                    self.part_audio.clear();
                }
                (self.video_changed, self.audio_changed) = (false, false);
                outcome.merge(self.open_segment(dts, reconfigure)?);
            }
        }
        // A refused frame still ends its part, as the cutter decided.
        let muxed = self
            .mux_ts(frame)
            .and_then(|()| self.mux_fmp4(frame, track));
        if let Some(span) = cut.completes {
            outcome.merge(self.cut_part(span, now, false)?);
            if cut.ends_segment {
                self.timeline.expect_segment_end();
            }
        }
        muxed.map(|()| outcome)
    }

    /// Moves audio before `before` into the MPEG-TS segment.
    fn release_ts_audio(&mut self, before: Timestamp) -> Result<(), HlsError> {
        if self.cutter.segment_start().is_none() {
            return Ok(());
        }
        while self.ts_audio.front().is_some_and(|a| a.dts < before) {
            let audio = self.ts_audio.pop_front().expect("checked");
            self.mux_ts(&audio)?;
        }
        Ok(())
    }

    fn drop_audio_before(&mut self, dts: Timestamp) {
        for queue in [&mut self.ts_audio, &mut self.part_audio] {
            while queue.front().is_some_and(|a| a.dts < dts) {
                queue.pop_front();
            }
        }
    }

    fn mux_ts(&mut self, frame: &MediaFrame) -> Result<(), HlsError> {
        if let Some(ts) = &mut self.muxers.as_mut().expect("started").ts {
            ts.push(frame, &mut self.ts)?;
        }
        Ok(())
    }

    fn mux_fmp4(&mut self, frame: &MediaFrame, track: TrackKind) -> Result<(), HlsError> {
        let muxers = self.muxers.as_mut().expect("started");
        let fragmenter = match track {
            TrackKind::Video => muxers.video.as_mut(),
            _ => muxers.audio.as_mut(),
        };
        if let Some(fragmenter) = fragmenter {
            fragmenter.push(frame)?;
            self.open_bytes += frame.payload.len();
        }
        Ok(())
    }

    fn check_size(&self) -> Result<(), HlsError> {
        let limit = self.timeline.settings().max_segment_bytes;
        let held =
            |queue: &VecDeque<MediaFrame>| -> usize { queue.iter().map(|f| f.payload.len()).sum() };
        // MPEG-TS adds headers that are known only once written: refuse
        // once the limit is reached, so a segment passes it by one frame.
        let ts = self.ts.len() + held(&self.ts_audio);
        let size = ts.max(self.open_bytes + held(&self.part_audio));
        if size >= limit {
            let open = self.timeline.open().map(|s| s.msn);
            let msn = open.unwrap_or(self.timeline.next_msn());
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

    /// Cuts the pending fragments into the next part, which lasts `span`.
    ///
    /// Audio of a stream with video goes in up to where the part ends, but
    /// the newest frame waits for the next one, which says where it ends; at
    /// the stream's end (`last`), all of it goes in and its last frame lasts
    /// as long as the one before. An audio frame the fragmenter refuses is
    /// dropped, and its error returned once the part is published.
    fn cut_part(
        &mut self,
        span: Span,
        now: Timestamp,
        last: bool,
    ) -> Result<PushOutcome, HlsError> {
        let muxers = self.muxers.as_ref().expect("started");
        let muxed = muxers.video.is_some() && muxers.audio.is_some();
        let goes_in = |queue: &VecDeque<MediaFrame>| match queue.len() {
            0 => false,
            1 => last,
            _ => last || queue[0].dts < span.end,
        };
        let mut refused = Ok(());
        while muxed && goes_in(&self.part_audio) {
            let audio = self.part_audio.pop_front().expect("checked");
            let pushed = self.mux_fmp4(&audio, TrackKind::Audio);
            refused = refused.and(pushed);
        }
        let audio_end = match (muxed, self.part_audio.front()) {
            (false, _) => span.end,
            (true, Some(next)) => next.dts,
            (true, None) => self.last_audio_dts.unwrap_or(span.end),
        };

        let muxers = self.muxers.as_mut().expect("started");
        let mut bytes = BytesMut::new();
        let mut independent = true;
        if let Some(video) = &mut muxers.video
            && let Some(fragment) = video.cut(self.moof_sequence, span.end)
        {
            self.moof_sequence += 1;
            independent = fragment.starts_with_keyframe;
            bytes.extend_from_slice(&fragment.bytes);
        }
        if let Some(audio) = &mut muxers.audio
            && let Some(fragment) = audio.cut(self.moof_sequence, audio_end)
        {
            self.moof_sequence += 1;
            bytes.extend_from_slice(&fragment.bytes);
        }
        if bytes.is_empty() {
            // Every frame of it was refused.
            return refused.map(|()| PushOutcome::default());
        }
        if !self.part_target_fixed {
            self.timeline.set_part_target(self.cutter.plan().target)?;
            self.part_target_fixed = true;
        }
        let part = self
            .timeline
            .push_part(span.duration(), independent, bytes.freeze(), now)?;
        refused.map(|()| PushOutcome {
            part: Some(part),
            ..PushOutcome::default()
        })
    }

    /// Closes the open segment, which lasts as long as its parts.
    fn close_segment(&mut self) -> Result<PushOutcome, HlsError> {
        let duration = self
            .timeline
            .open()
            .map_or(Timestamp::ZERO, |segment| segment.duration);
        let ts = self.has_ts().then(|| self.ts.split().freeze());
        let msn = self.timeline.close_segment(duration, ts)?;
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

#[cfg(test)]
mod tests {
    use arcly_engine::FrameFlags;

    use super::super::{Part, Segment};

    use super::*;

    /// x264, High profile, 320x240, 25 fps.
    const SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
        0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
    ];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];
    /// AAC-LC, 44.1 kHz, stereo.
    const ASC: &[u8] = &[0x12, 0x10];
    /// One AAC frame at 44.1 kHz, in microseconds.
    const AAC_FRAME: f64 = 1024.0 * 1e6 / 44_100.0;

    fn frame(codec: Codec, dts: i64, flags: FrameFlags, payload: Vec<u8>) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp(dts),
            pts: Timestamp(dts),
            flags,
            payload: payload.into(),
        }
    }

    fn configs() -> [MediaFrame; 2] {
        let mut avcc = vec![1, 0x64, 0x00, 0x0d, 0xff, 0xe1];
        avcc.extend((SPS.len() as u16).to_be_bytes());
        avcc.extend(SPS);
        avcc.push(1);
        avcc.extend((PPS.len() as u16).to_be_bytes());
        avcc.extend(PPS);
        let video = FrameFlags::CONFIG | FrameFlags::KEYFRAME;
        [
            frame(Codec::H264, 0, video, avcc),
            frame(Codec::Aac, 0, FrameFlags::CONFIG, ASC.to_vec()),
        ]
    }

    /// `count` video frames at 25 fps, a keyframe every `gop`, and the AAC
    /// frames of the same time (millisecond timestamps, as FLV has them),
    /// interleaved by decode time.
    fn stream(gop: i64, count: i64) -> Vec<MediaFrame> {
        let mut frames = Vec::new();
        let mut audio = 0;
        for i in 0..count {
            let dts = i * 40_000;
            loop {
                let at = (audio as f64 * AAC_FRAME / 1000.0).round() as i64 * 1000;
                if at > dts {
                    break;
                }
                frames.push(frame(Codec::Aac, at, FrameFlags::KEYFRAME, vec![0x21; 20]));
                audio += 1;
            }
            let (flags, nal) = match i % gop {
                0 => (FrameFlags::KEYFRAME, 0x65),
                _ => (FrameFlags::NONE, 0x41),
            };
            let mut payload = 9u32.to_be_bytes().to_vec();
            payload.extend([nal, 0x88, 0x84, 0x00, 0x33, 0xff, 0x00, 0x00, 0x01]);
            frames.push(frame(Codec::H264, dts, flags, payload));
        }
        frames
    }

    /// A packager fed the configs and `frames`, the clock at each frame's
    /// decode time; the outcome of each push with its frame.
    fn package(frames: &[MediaFrame]) -> (HlsPackager, Vec<(MediaFrame, PushOutcome)>) {
        let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
        for config in configs() {
            packager.push(&config, Timestamp::ZERO).unwrap();
        }
        let outcomes = frames
            .iter()
            .map(|f| (f.clone(), packager.push(f, f.dts).unwrap()))
            .collect();
        (packager, outcomes)
    }

    /// Per `traf` of an fMP4 fragment (or several): track id, `tfdt` and
    /// the sample durations.
    fn trafs(mut bytes: &[u8]) -> Vec<(u32, u64, Vec<u32>)> {
        fn boxes(mut bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
            let mut out = Vec::new();
            while bytes.len() >= 8 {
                let size = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
                out.push((bytes[4..8].try_into().unwrap(), &bytes[8..size]));
                bytes = &bytes[size..];
            }
            out
        }
        let u32_at = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let (kind, body) = boxes(bytes)[0];
            bytes = &bytes[body.len() + 8..];
            if &kind != b"moof" {
                continue;
            }
            for (kind, traf) in boxes(body) {
                if &kind != b"traf" {
                    continue;
                }
                let (mut id, mut tfdt, mut durations) = (0, 0, Vec::new());
                for (kind, body) in boxes(traf) {
                    match &kind {
                        b"tfhd" => id = u32_at(body, 4),
                        b"tfdt" => tfdt = u64::from_be_bytes(body[4..12].try_into().unwrap()),
                        b"trun" => {
                            let flags = u32_at(body, 0) & 0xff_ffff;
                            let fields = [0x100, 0x200, 0x400, 0x800]
                                .iter()
                                .filter(|&&f| flags & f != 0)
                                .count();
                            let mut at = 8 + if flags & 1 != 0 { 4 } else { 0 };
                            for _ in 0..u32_at(body, 4) {
                                durations.push(u32_at(body, at));
                                at += 4 * fields;
                            }
                        }
                        _ => {}
                    }
                }
                out.push((id, tfdt, durations));
            }
        }
        out
    }

    #[test]
    fn the_fifth_frame_of_a_part_publishes_it() {
        let (packager, outcomes) = package(&stream(50, 12));
        let published: Vec<(i64, (u64, u32))> = outcomes
            .iter()
            .filter_map(|(f, o)| Some((f.dts.0, o.part?)))
            .collect();
        // Five frames of 40 ms a part: ready with the frames at 160 and
        // 360 ms, not with the frames after them.
        assert_eq!(published, [(160_000, (0, 0)), (360_000, (0, 1))]);
        let (frame, _) = outcomes.iter().find(|(_, o)| o.part.is_some()).unwrap();
        assert_eq!(frame.codec, Codec::H264);
        let part = packager.timeline().part(0, 0).unwrap();
        assert_eq!(part.duration, Timestamp(200_000));
        assert_eq!(part.ready_at, Timestamp(160_000));
        assert!(part.independent);
        assert_eq!(packager.timeline().part_target(), Timestamp(200_000));
    }

    #[test]
    fn segment_and_part_durations_add_up() {
        for (gop, parts) in [
            (50, vec![200_000; 10]),
            (53, {
                let mut parts = vec![200_000; 10];
                parts.push(120_000);
                parts
            }),
        ] {
            let (mut packager, _) = package(&stream(gop, 300));
            packager.finish(Timestamp(12_000_000)).unwrap();
            let timeline = packager.timeline();
            let segments: Vec<&Segment> = timeline.segments().collect();
            assert_eq!(segments.len(), 300usize.div_ceil(gop as usize), "gop {gop}");
            let gop_us = gop * 40_000;
            for (i, segment) in segments.iter().enumerate() {
                let durations: Vec<i64> = segment.parts.iter().map(|p| p.duration.0).collect();
                let sum: i64 = durations.iter().sum();
                assert_eq!(segment.duration.0, sum, "{segment:?}");
                assert_eq!(segment.first_dts.0, i as i64 * gop_us);
                if i + 1 < segments.len() {
                    assert_eq!(durations, parts, "gop {gop}, segment {i}");
                    assert_eq!(sum, gop_us);
                }
            }
        }
    }

    #[test]
    fn audio_is_continuous_across_parts() {
        let (mut packager, _) = package(&stream(50, 250));
        packager.finish(Timestamp(10_000_000)).unwrap();
        let timeline = packager.timeline();
        let parts: Vec<&Part> = timeline.segments().flat_map(|s| &s.parts).collect();
        assert_eq!(parts.len(), 50);
        let (mut video, mut audio) = (Vec::new(), Vec::new());
        for part in &parts {
            for (track, tfdt, durations) in trafs(&part.bytes) {
                let end = tfdt + durations.iter().map(|&d| u64::from(d)).sum::<u64>();
                match track {
                    1 => video.push((tfdt, end)),
                    _ => audio.push((tfdt, end)),
                }
            }
        }
        // One fragment per track and part.
        assert_eq!((video.len(), audio.len()), (50, 50));
        // Each part's audio starts exactly where the one before ended: no
        // gap, no overlap, though parts are cut before the audio of their
        // last video frame has all come.
        for pair in audio.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "{audio:?}");
        }
        // 25 fps predicts exactly: video joins up too.
        for pair in video.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "{video:?}");
        }
        // The audio starts with the first video frame and ends within a
        // frame of the last one's start: the audio frame that waited for
        // the next one when the last part was cut is dropped at the end.
        assert_eq!(audio[0].0, 0);
        let audio_end = audio.last().unwrap().1 as f64 / 44_100.0;
        assert!(
            (9.96 - AAC_FRAME / 1e6..=9.96).contains(&audio_end),
            "{audio_end}"
        );
    }
}
