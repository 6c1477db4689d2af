//! Why a codec record or parameter set was refused.

use crate::byte_reader::Short;

/// An error reading a codec configuration record or parameter set.
///
/// Byte offsets count from the start of the record (or, for an SPS, of the
/// NAL unit); bit positions count from the start of the unescaped RBSP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The record ends before a field it announces.
    #[error("{what} truncated at byte {offset}")]
    Truncated {
        /// The field that did not fit.
        what: &'static str,
        /// Where the field starts.
        offset: usize,
    },
    /// The record's version byte is not one this reader knows.
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// Which record.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// `avcC` or `hvcC` announces a NAL length prefix of 3 bytes, which
    /// ISO/IEC 14496-15 does not allow.
    #[error("nal length size {0} is not 1, 2 or 4")]
    BadLengthSize(u8),
    /// A bit-level read ran past the end of the RBSP.
    #[error("bitstream ended at bit {bit}")]
    BitstreamEnd {
        /// The bit position of the read.
        bit: usize,
    },
    /// An Exp-Golomb code has more leading zeros than a 32-bit value allows.
    #[error("exp-golomb code at bit {bit} has more than 31 leading zeros")]
    ExpGolombOverflow {
        /// The bit position of the code.
        bit: usize,
    },
    /// A syntax element is outside its range in the specification (or
    /// outside a limit of this reader, named in the message).
    #[error("{what} is {value}, above the limit of {limit}")]
    OutOfRange {
        /// The syntax element.
        what: &'static str,
        /// The value read.
        value: u64,
        /// The largest accepted value.
        limit: u64,
    },
    /// The NAL unit handed to an SPS reader is of another type.
    #[error("nal unit type {0} is not a sequence parameter set (7)")]
    NotSps(u8),
    /// The NAL unit handed to the HEVC SPS reader is of another type.
    #[error("nal unit type {0} is not an hevc sequence parameter set (33)")]
    NotHevcSps(u8),
    /// A field holds a value the format forbids (a marker bit that is not
    /// set, a zero channel count ...).
    #[error("invalid {what} at byte {offset}")]
    Invalid {
        /// The field, and what is wrong with it.
        what: &'static str,
        /// Where the field starts.
        offset: usize,
    },
    /// [`describe`](super::describe) has no reader for this codec's config.
    #[error("no config record reader for codec {0}")]
    UnsupportedCodec(arcly_engine::Codec),
    /// The cropping window is larger than the coded picture.
    #[error("cropping window is larger than the {coded_width}x{coded_height} coded picture")]
    BadCropping {
        /// Coded width in pixels.
        coded_width: u32,
        /// Coded height in pixels.
        coded_height: u32,
    },
    /// The AAC sampling frequency index is reserved (13 or 14).
    #[error("aac sampling frequency index {0} is reserved")]
    ReservedFrequencyIndex(u8),
}

impl From<Short> for CodecError {
    fn from(short: Short) -> Self {
        CodecError::Truncated {
            what: short.what,
            offset: short.offset,
        }
    }
}
