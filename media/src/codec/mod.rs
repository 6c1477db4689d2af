//! Codec configuration records, parameter sets and codec strings.
//!
//! - [`AvcDecoderConfig`]: the H.264 `avcC` record an FLV/RTMP sequence
//!   header carries, and its RFC 6381 codec string (`avc1.64001f`).
//! - [`Sps`]: the picture size, profile and frame rate from an H.264 sequence
//!   parameter set.
//! - [`AudioSpecificConfig`]: the AAC config record and its codec string
//!   (`mp4a.40.2`).

mod aac;
mod avc;
mod bit_reader;
mod error;
mod rbsp;
mod sps;

pub use aac::AudioSpecificConfig;
pub use avc::{AvcDecoderConfig, AvcHighProfileExt};
pub use error::CodecError;
pub use sps::{MAX_PICTURE_DIMENSION, Sps, SpsTiming};
