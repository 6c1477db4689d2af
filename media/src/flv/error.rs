//! Why FLV input was refused or a frame could not be written as FLV.

use arcly_engine::Codec;

use super::FourCc;
use super::header::MAX_HEADER_SIZE;
use crate::byte_reader::Short;

/// An error reading or writing FLV.
///
/// Offsets in body errors count from the first byte of the tag body (the
/// RTMP message payload); [`FlvReader`](super::FlvReader) wraps stream-level
/// errors in [`FlvError::InStream`] with the offset in the whole stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    /// A tag body ends before a field its header announces.
    #[error("{what} truncated at byte {offset} of the tag body")]
    Truncated {
        /// The field that did not fit.
        what: &'static str,
        /// Where the field starts.
        offset: usize,
    },
    /// The video frame type is reserved.
    #[error("video frame type {0} is reserved")]
    UnknownFrameType(u8),
    /// A legacy video codec id other than AVC (7) or HEVC (12).
    #[error("unsupported legacy video codec id {0}")]
    UnsupportedVideoCodec(u8),
    /// A legacy sound format other than AAC (10) or MP3 (2, 14).
    #[error("unsupported sound format {0}")]
    UnsupportedAudioFormat(u8),
    /// An Enhanced RTMP FourCC arcly has no codec for.
    #[error("unsupported codec fourcc '{0}'")]
    UnsupportedFourCc(FourCc),
    /// A packet type that is reserved for this codec or track.
    #[error("unknown {kind} packet type {packet_type}")]
    UnknownPacketType {
        /// `"avc"`, `"video"`, `"aac"`, `"audio"` ...
        kind: &'static str,
        /// The packet type found.
        packet_type: u8,
    },
    /// A reserved Enhanced RTMP multitrack type.
    #[error("unknown multitrack type {0}")]
    UnknownMultitrackType(u8),
    /// A multitrack packet announces multitrack again for its tracks.
    #[error("multitrack packet type inside a multitrack packet")]
    NestedMultitrack,
    /// A `TimestampOffsetNano` ModEx with fewer than the 3 bytes it needs.
    #[error("timestamp offset mod-ex data is {0} bytes, needs at least 3")]
    ShortTimestampOffset(usize),
    /// The stream does not start with `FLV`.
    #[error("not an flv stream: signature is {0:02x?}")]
    BadSignature([u8; 3]),
    /// An FLV version other than 1.
    #[error("unsupported flv version {0}")]
    UnsupportedVersion(u8),
    /// The header's data offset is below 9 or above [`MAX_HEADER_SIZE`].
    #[error("flv header size {0} is outside 9..={MAX_HEADER_SIZE}")]
    HeaderSize(u32),
    /// A tag type other than audio (8), video (9) or script (18).
    #[error("unknown flv tag type {0}")]
    UnknownTagType(u8),
    /// The tag's filter bit is set: its body is encrypted.
    #[error("encrypted flv tags are not supported")]
    EncryptedTag,
    /// A tag body larger than the reader's limit, or than FLV's 24-bit size.
    #[error("flv tag of {size} bytes is over the limit of {limit}")]
    TagTooLarge {
        /// The size announced or asked for.
        size: u64,
        /// The limit in force.
        limit: u32,
    },
    /// A `PreviousTagSize` field that does not match the tag before it.
    #[error("previous tag size is {found}, expected {expected}")]
    PreviousTagSize {
        /// 11 plus the body size of the tag before (0 after the header).
        expected: u32,
        /// The value in the stream.
        found: u32,
    },
    /// A stream-level error, with where in the stream it happened.
    #[error("at byte {offset} of the flv stream: {source}")]
    InStream {
        /// Offset of the field in the whole stream.
        offset: u64,
        /// What was wrong there.
        source: Box<FlvError>,
    },
    /// A frame whose codec FLV (or this tag type) cannot carry.
    #[error("{codec} frames cannot be written as an flv {tag} tag")]
    CannotEncode {
        /// The frame's codec.
        codec: Codec,
        /// `"video"`, `"audio"` or `"script"`.
        tag: &'static str,
    },
    /// `pts - dts` does not fit FLV's signed 24-bit milliseconds.
    #[error("composition time offset of {0} ms does not fit in 24 bits")]
    CompositionTimeOutOfRange(i64),
}

impl From<Short> for FlvError {
    fn from(short: Short) -> Self {
        FlvError::Truncated {
            what: short.what,
            offset: short.offset,
        }
    }
}
