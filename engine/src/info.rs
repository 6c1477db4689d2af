//! What is known about a publisher and the media it sends.

use std::net::SocketAddr;
use std::time::Instant;

use crate::{Codec, MediaFrame, TrackKind};

/// The media of a stream, as seen in its frames and as callers set it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaInfo {
    /// The video codec, once a video frame was seen.
    pub video: Option<Codec>,
    /// The audio codec, once an audio frame was seen.
    pub audio: Option<Codec>,
    /// Picture width in pixels (set by callers that parse the config).
    pub width: Option<u32>,
    /// Picture height in pixels (set by callers that parse the config).
    pub height: Option<u32>,
    /// Video frames per second, measured over the QoS window at each keyframe.
    pub frame_rate: Option<f64>,
}

impl MediaInfo {
    /// Records the picture size.
    pub fn set_video_size(&mut self, width: u32, height: u32) {
        self.width = Some(width);
        self.height = Some(height);
    }

    /// Notes the codec of a frame's track.
    pub fn observe(&mut self, frame: &MediaFrame) {
        match frame.track() {
            TrackKind::Video => self.video = Some(frame.codec),
            TrackKind::Audio => self.audio = Some(frame.codec),
            TrackKind::Data => {}
        }
    }

    /// Whether the stream carries video.
    pub fn has_video(&self) -> bool {
        self.video.is_some()
    }
}

/// Who publishes a stream, how, since when, and what it sends.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishInfo {
    /// The publisher's address, when it came over a socket.
    pub peer: Option<SocketAddr>,
    /// The ingest protocol (`"rtmp"`, `"srt"` ...).
    pub protocol: &'static str,
    /// When publishing started.
    pub started_at: Instant,
    /// The media, updated as frames arrive.
    pub media: MediaInfo,
}

impl PublishInfo {
    /// A publisher that started at `now`, with nothing known of its media.
    pub fn new(protocol: &'static str, peer: Option<SocketAddr>, now: Instant) -> PublishInfo {
        PublishInfo {
            peer,
            protocol,
            started_at: now,
            media: MediaInfo::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::{FrameFlags, Timestamp};

    #[test]
    fn learns_codecs_from_frames() {
        let mut media = MediaInfo::default();
        assert!(!media.has_video());
        for codec in [Codec::H265, Codec::Opus, Codec::Script] {
            media.observe(&MediaFrame {
                codec,
                dts: Timestamp::ZERO,
                pts: Timestamp::ZERO,
                flags: FrameFlags::NONE,
                payload: Bytes::new(),
            });
        }
        media.set_video_size(1920, 1080);
        assert_eq!(media.video, Some(Codec::H265));
        assert_eq!(media.audio, Some(Codec::Opus));
        assert_eq!((media.width, media.height), (Some(1920), Some(1080)));
        assert!(media.has_video());
    }
}
