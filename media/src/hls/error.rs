//! Why the HLS packager refused a setting, a request or a frame.

use arcly_engine::{Codec, Timestamp};

use crate::codec::CodecError;
use crate::fmp4::Fmp4Error;
use crate::ts::TsError;

/// An error of the HLS packager, its timeline or a playlist request.
///
/// The request errors ([`MalformedQuery`](HlsError::MalformedQuery) to
/// [`PartTooFarAhead`](HlsError::PartTooFarAhead)) are the client's fault and
/// map to `400 Bad Request`; the others describe the stream or a misuse of the
/// API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlsError {
    /// A setting is outside the range the specification or this packager
    /// allows.
    #[error("invalid hls setting: {0}")]
    InvalidSettings(&'static str),
    /// A delivery directive has a value that is not a decimal integer (or, for
    /// `_HLS_skip`, not `YES` or `v2`).
    #[error("malformed {param} value")]
    MalformedQuery {
        /// The directive, e.g. `_HLS_msn`.
        param: &'static str,
    },
    /// A delivery directive appears twice in the query.
    #[error("{param} appears more than once")]
    DuplicateQuery {
        /// The directive.
        param: &'static str,
    },
    /// `_HLS_part` without `_HLS_msn` (rfc8216bis §6.2.5.2).
    #[error("_HLS_part without _HLS_msn")]
    PartWithoutMsn,
    /// `_HLS_msn` more than two segments past the last one in the playlist
    /// (rfc8216bis §6.2.5.2).
    #[error("_HLS_msn {msn} is more than two segments past the last ({last:?})")]
    MsnTooFarAhead {
        /// The requested media sequence number.
        msn: u64,
        /// The last media sequence number in the playlist, if any.
        last: Option<u64>,
    },
    /// `_HLS_part` more than the Advance Part Limit past the last part of the
    /// playlist (rfc8216bis §6.2.5.2).
    #[error("_HLS_part {part} is more than {limit} parts past the last ({last:?})")]
    PartTooFarAhead {
        /// The requested part index.
        part: u32,
        /// The index of the last part of that segment, if any.
        last: Option<u32>,
        /// The Advance Part Limit.
        limit: u32,
    },
    /// A part was added while no segment was open.
    #[error("no segment is open")]
    NoOpenSegment,
    /// A segment was opened while another one was still open, or the stream
    /// was ended with parts of an open segment published.
    #[error("segment {msn} is still open")]
    SegmentStillOpen {
        /// The open segment.
        msn: u64,
    },
    /// A segment was closed without any part.
    #[error("segment {msn} has no part")]
    EmptySegment {
        /// The segment.
        msn: u64,
    },
    /// The timeline was changed after the stream ended.
    #[error("the stream has ended")]
    Ended,
    /// The part target was changed after the first part was published.
    #[error("the part target is fixed once a part is published")]
    PartTargetFixed,
    /// A segment reached the byte limit without a keyframe to cut it on.
    #[error("segment {msn} reached the limit of {limit} bytes without a keyframe")]
    SegmentTooLarge {
        /// The segment.
        msn: u64,
        /// [`HlsSettings::max_segment_bytes`](super::HlsSettings::max_segment_bytes).
        limit: usize,
    },
    /// A playlist attribute holds characters its syntax cannot carry.
    #[error("{what} cannot be written into a playlist")]
    InvalidAttribute {
        /// Which attribute.
        what: &'static str,
    },
    /// A frame's decode time is earlier than the previous one of its track.
    #[error("{codec} dts went back from {last:?} to {dts:?}")]
    DtsWentBack {
        /// The codec of the frame.
        codec: Codec,
        /// The previous decode time of that track.
        last: Timestamp,
        /// The frame's decode time.
        dts: Timestamp,
    },
    /// A codec this packager cannot put in either container.
    #[error("{0} cannot be packaged for hls")]
    UnsupportedCodec(Codec),
    /// Neither the video config nor the first keyframe gives the picture
    /// size the init segment needs.
    #[error("no picture size for the {0} track")]
    UnknownPictureSize(Codec),
    /// The audio config gives no sample rate or channel count.
    #[error("no sample rate or channel count for the {0} track")]
    UnknownAudioFormat(Codec),
    /// A config record does not parse.
    #[error("config record: {0}")]
    Codec(#[from] CodecError),
    /// The MPEG-TS muxer refused a track or a frame.
    #[error("mpeg-ts: {0}")]
    Ts(#[from] TsError),
    /// The fMP4 muxer refused a track or a frame.
    #[error("fmp4: {0}")]
    Fmp4(#[from] Fmp4Error),
}
