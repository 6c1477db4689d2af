//! Why a track could not be described or a frame could not be fragmented.

use arcly_engine::{Codec, Timestamp};

/// An error writing an fMP4 init segment or adding a frame to a fragment.
///
/// [`init_segment`](super::init_segment) returns it for a track it cannot
/// describe; [`Fragmenter::push`](super::Fragmenter::push) returns it for a
/// frame it refuses, and then leaves the pending fragment as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fmp4Error {
    /// An init segment needs at least one track.
    #[error("an init segment needs at least one track")]
    NoTracks,
    /// More tracks than [`MAX_TRACKS`](super::MAX_TRACKS).
    #[error("{count} tracks, above the limit of {limit}")]
    TooManyTracks {
        /// Tracks given.
        count: usize,
        /// The largest accepted count.
        limit: usize,
    },
    /// Track ids must be non-zero and unique (ISO/IEC 14496-12 8.3.2).
    #[error("track id {0} is zero or used twice")]
    BadTrackId(u32),
    /// A track's timescale is zero, so no time can be expressed in it.
    #[error("track {track_id} has a timescale of zero")]
    ZeroTimescale {
        /// The track.
        track_id: u32,
    },
    /// The codec cannot be carried on this kind of track, or has no fMP4
    /// sample entry here (VVC, script data).
    #[error("track {track_id}: codec {codec} is not supported as {kind}")]
    UnsupportedCodec {
        /// The track.
        track_id: u32,
        /// The codec.
        codec: Codec,
        /// `"video"` or `"audio"`.
        kind: &'static str,
    },
    /// A codec that needs a decoder configuration record got none.
    #[error("track {track_id}: codec {codec} needs a configuration record")]
    MissingConfig {
        /// The track.
        track_id: u32,
        /// The codec.
        codec: Codec,
    },
    /// The configuration record is longer than
    /// [`MAX_CONFIG_SIZE`](super::MAX_CONFIG_SIZE).
    #[error("track {track_id}: configuration record of {len} bytes, above the limit of {limit}")]
    ConfigTooLarge {
        /// The track.
        track_id: u32,
        /// Record length in bytes.
        len: usize,
        /// The largest accepted length.
        limit: usize,
    },
    /// The configuration record cannot be what its codec says it is.
    #[error("track {track_id}: malformed {what}")]
    BadConfig {
        /// The track.
        track_id: u32,
        /// Which record, and what is wrong with it.
        what: &'static str,
    },
    /// Width or height do not fit the 16-bit fields of a visual sample entry.
    #[error("track {track_id}: picture size {width}x{height} is above 65535 in a dimension")]
    PictureTooLarge {
        /// The track.
        track_id: u32,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// No track was declared for a frame's codec.
    #[error("no track for codec {0}")]
    NoTrackForCodec(Codec),
    /// A frame's payload is larger than
    /// [`MAX_SAMPLE_SIZE`](super::MAX_SAMPLE_SIZE).
    #[error("track {track_id}: sample of {len} bytes, above the limit of {limit}")]
    SampleTooLarge {
        /// The track.
        track_id: u32,
        /// Payload length in bytes.
        len: usize,
        /// The largest accepted length.
        limit: usize,
    },
    /// The pending fragment already holds
    /// [`MAX_FRAGMENT_SAMPLES`](super::MAX_FRAGMENT_SAMPLES) samples; cut it
    /// first.
    #[error("fragment already holds {limit} samples, the limit")]
    TooManySamples {
        /// The largest accepted count.
        limit: usize,
    },
    /// The frame would take the pending fragment's media data above
    /// [`MAX_FRAGMENT_BYTES`](super::MAX_FRAGMENT_BYTES); cut it first.
    #[error("fragment would hold {bytes} bytes of media, above the limit of {limit}")]
    FragmentTooLarge {
        /// Media bytes with this frame.
        bytes: usize,
        /// The largest accepted total.
        limit: usize,
    },
    /// A decode time before zero: `tfdt` holds an unsigned time.
    #[error("track {track_id}: dts {} us is before zero", dts.0)]
    NegativeDts {
        /// The track.
        track_id: u32,
        /// The frame's decode time.
        dts: Timestamp,
    },
    /// A time that does not fit 64 bits once in the track timescale.
    #[error("track {track_id}: time {} us is out of range in timescale {timescale}", time.0)]
    TimeOutOfRange {
        /// The track.
        track_id: u32,
        /// The time.
        time: Timestamp,
        /// The track timescale.
        timescale: u32,
    },
    /// A frame decodes before the frame pushed before it on its track.
    #[error("track {track_id}: dts went back from {} us to {} us", last.0, dts.0)]
    DtsWentBack {
        /// The track.
        track_id: u32,
        /// The previous frame's decode time.
        last: Timestamp,
        /// This frame's decode time.
        dts: Timestamp,
    },
    /// The gap since the previous frame does not fit a 32-bit sample
    /// duration.
    #[error("track {track_id}: {ticks} ticks since the previous sample, above the 32-bit limit")]
    GapTooLong {
        /// The track.
        track_id: u32,
        /// The gap in track timescale units.
        ticks: u64,
    },
    /// `pts - dts` does not fit a signed 32-bit composition offset.
    #[error("track {track_id}: composition offset of {ticks} ticks is out of the 32-bit range")]
    CompositionOffsetOutOfRange {
        /// The track.
        track_id: u32,
        /// The offset in track timescale units.
        ticks: i128,
    },
}
