//! One unit of media: a video access unit, an audio frame or a data message.

use std::fmt;

use bytes::Bytes;

/// Which track of a stream a frame belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// Coded pictures.
    Video,
    /// Coded audio frames.
    Audio,
    /// Timed data such as `onMetaData` script tags.
    Data,
}

/// The codec of a frame's payload.
///
/// Payload conventions, so that every ingest and egress agrees:
/// - H.264 / H.265 / VVC: NAL units with 4-byte big-endian length prefixes
///   (the MP4 / FLV layout); a config frame carries the decoder configuration
///   record (`avcC`, `hvcC`, `vvcC`).
/// - AV1: OBUs in the low-overhead format; config carries `av1C`.
/// - VP9: one frame; config carries `vpcC`.
/// - AAC: raw access units (no ADTS); config carries the AudioSpecificConfig.
/// - Opus: raw packets; config carries the `OpusHead` / `dOps` body.
/// - MP3: raw frames (they carry their own headers); no config.
/// - Script: an AMF0-encoded data message (e.g. `onMetaData`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// AVC / H.264.
    H264,
    /// HEVC / H.265.
    H265,
    /// AOMedia Video 1.
    Av1,
    /// VP9.
    Vp9,
    /// VVC / H.266.
    Vvc,
    /// MPEG-4 AAC.
    Aac,
    /// Opus.
    Opus,
    /// MPEG-1/2 Audio Layer III.
    Mp3,
    /// AMF0 script data (`onMetaData` and friends).
    Script,
}

impl Codec {
    /// The track a codec's frames travel on.
    pub fn track(self) -> TrackKind {
        match self {
            Codec::H264 | Codec::H265 | Codec::Av1 | Codec::Vp9 | Codec::Vvc => TrackKind::Video,
            Codec::Aac | Codec::Opus | Codec::Mp3 => TrackKind::Audio,
            Codec::Script => TrackKind::Data,
        }
    }

    /// A short lower-case name for logs and the API.
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Av1 => "av1",
            Codec::Vp9 => "vp9",
            Codec::Vvc => "vvc",
            Codec::Aac => "aac",
            Codec::Opus => "opus",
            Codec::Mp3 => "mp3",
            Codec::Script => "script",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A point on a stream's media timeline, in microseconds.
///
/// Microseconds hold RTMP's milliseconds and MPEG's 90 kHz clock without
/// drift worth caring about, and an `i64` of them lasts 292,000 years.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Zero.
    pub const ZERO: Timestamp = Timestamp(0);

    /// From milliseconds (RTMP, FLV).
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms.saturating_mul(1000))
    }

    /// From a 90 kHz clock value (MPEG-TS, RTP video).
    pub fn from_90khz(ticks: i64) -> Self {
        Timestamp(ticks.saturating_mul(100) / 9)
    }

    /// Whole milliseconds, rounded towards negative infinity.
    pub fn as_millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// In 90 kHz ticks, rounded towards negative infinity.
    pub fn as_90khz(self) -> i64 {
        (self.0.saturating_mul(9)).div_euclid(100)
    }

    /// Microseconds.
    pub fn as_micros(self) -> i64 {
        self.0
    }
}

/// Properties of a frame that the engine and the muxers act on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FrameFlags(u8);

impl FrameFlags {
    /// No flags.
    pub const NONE: FrameFlags = FrameFlags(0);
    /// A random access point: decoding can start here (IDR, IRAP, key OBU).
    pub const KEYFRAME: FrameFlags = FrameFlags(1);
    /// The payload is a codec configuration (sequence header), not media.
    pub const CONFIG: FrameFlags = FrameFlags(1 << 1);
    /// Nothing references this frame; it may be dropped under pressure.
    pub const DISCARDABLE: FrameFlags = FrameFlags(1 << 2);

    /// Whether every flag in `other` is set.
    pub fn contains(self, other: FrameFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of both sets.
    pub fn union(self, other: FrameFlags) -> FrameFlags {
        FrameFlags(self.0 | other.0)
    }
}

impl std::ops::BitOr for FrameFlags {
    type Output = FrameFlags;
    fn bitor(self, rhs: FrameFlags) -> FrameFlags {
        self.union(rhs)
    }
}

/// One frame of media, as every protocol hands it to the engine.
///
/// Cloning is cheap: the payload is a reference-counted [`Bytes`] slice of
/// what was read from the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFrame {
    /// The codec of `payload` (and so the track).
    pub codec: Codec,
    /// Decode time.
    pub dts: Timestamp,
    /// Presentation time (`dts` plus the composition offset).
    pub pts: Timestamp,
    /// Keyframe, config and discardable flags.
    pub flags: FrameFlags,
    /// The coded data, in the layout [`Codec`] describes.
    pub payload: Bytes,
}

impl MediaFrame {
    /// The track this frame belongs to.
    pub fn track(&self) -> TrackKind {
        self.codec.track()
    }

    /// Whether decoding can start at this frame.
    pub fn is_keyframe(&self) -> bool {
        self.flags.contains(FrameFlags::KEYFRAME)
    }

    /// Whether this frame carries a codec configuration.
    pub fn is_config(&self) -> bool {
        self.flags.contains(FrameFlags::CONFIG)
    }

    /// Whether this is a video frame that starts a GOP (a keyframe that is not
    /// a config).
    pub fn starts_gop(&self) -> bool {
        self.track() == TrackKind::Video && self.is_keyframe() && !self.is_config()
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.payload.len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_convert_between_clocks() {
        assert_eq!(Timestamp::from_millis(40).as_micros(), 40_000);
        assert_eq!(Timestamp::from_millis(40).as_90khz(), 3600);
        assert_eq!(Timestamp::from_90khz(3600).as_millis(), 40);
        assert_eq!(Timestamp(-1).as_millis(), -1);
    }

    #[test]
    fn flags_combine() {
        let f = FrameFlags::KEYFRAME | FrameFlags::CONFIG;
        assert!(f.contains(FrameFlags::KEYFRAME));
        assert!(f.contains(FrameFlags::CONFIG));
        assert!(!f.contains(FrameFlags::DISCARDABLE));
    }

    #[test]
    fn codec_tracks() {
        assert_eq!(Codec::Av1.track(), TrackKind::Video);
        assert_eq!(Codec::Opus.track(), TrackKind::Audio);
        assert_eq!(Codec::Script.track(), TrackKind::Data);
    }
}
