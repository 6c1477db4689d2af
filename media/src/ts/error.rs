//! Why the MPEG-TS muxer refused a track or a frame.

use arcly_engine::Codec;

use super::adts::MAX_ADTS_PAYLOAD;

/// An error building a [`TsMuxer`](super::TsMuxer) or muxing a frame.
///
/// A frame that fails leaves the output and the muxer's continuity counters
/// as they were: every check runs before the first byte is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    /// The muxer was given neither a video nor an audio track.
    #[error("a transport stream needs a video or an audio track")]
    NoTracks,
    /// A codec this muxer cannot carry (or not on that track): video must be
    /// H.264 or H.265, audio AAC or MP3.
    #[error("{0} cannot be carried in mpeg-ts by this muxer")]
    UnsupportedCodec(Codec),
    /// A frame for a track the muxer was not built with.
    #[error("{0} frame pushed to a muxer without that track")]
    NoTrack(Codec),
    /// A frame whose codec differs from its track's.
    #[error("{found} frame pushed to the {expected} track")]
    CodecMismatch {
        /// The track's codec.
        expected: Codec,
        /// The frame's codec.
        found: Codec,
    },
    /// A NAL unit length prefix size other than 1, 2 or 4 bytes.
    #[error("nal length size {0} is not 1, 2 or 4")]
    BadLengthSize(u8),
    /// An empty parameter set in the video track (it would be a bare start
    /// code).
    #[error("video parameter set {0} is empty")]
    EmptyParameterSet(usize),
    /// A video payload ends inside a NAL unit length prefix.
    #[error("nal length prefix truncated at byte {offset} of the frame")]
    NalLengthTruncated {
        /// Where the prefix starts in the payload.
        offset: usize,
    },
    /// A NAL unit length prefix announces more bytes than the payload has.
    #[error(
        "nal unit of {length} bytes at byte {offset} of the frame overruns the {available} bytes left"
    )]
    NalOverrun {
        /// Where the prefix starts in the payload.
        offset: usize,
        /// The length it announces.
        length: u64,
        /// The bytes that follow the prefix.
        available: usize,
    },
    /// An AAC track without its `AudioSpecificConfig`, which the ADTS
    /// headers are made from.
    #[error("aac track without an audio specific config")]
    MissingAacConfig,
    /// An AAC object type that has no ADTS profile (ADTS carries types 1 to
    /// 4; SBR and PS are written as their AAC-LC core).
    #[error("aac object type {0} cannot be written in an adts header")]
    AdtsObjectType(u8),
    /// A sampling frequency outside ADTS's table of 13 frequencies.
    #[error("aac sampling frequency {0} hz has no adts frequency index")]
    AdtsFrequency(u32),
    /// A channel configuration ADTS cannot express here: 0 (a program config
    /// element) or above 7.
    #[error("aac channel configuration {0} is not 1 to 7")]
    AdtsChannels(u8),
    /// An AAC frame too large for ADTS's 13-bit frame length.
    #[error("aac frame of {0} bytes is over the adts limit of {MAX_ADTS_PAYLOAD}")]
    AdtsFrameTooLarge(usize),
    /// An audio PES over the 65,535 bytes `PES_packet_length` can count
    /// (only video PES may leave it unbounded).
    #[error("audio pes packet of {0} bytes is over the limit of 65535")]
    PesTooLarge(usize),
}
