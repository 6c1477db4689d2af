//! Codec configuration records, parameter sets and codec strings.
//!
//! Each config [`MediaFrame`] carries its codec's decoder configuration
//! record; this module reads them, and the parameter sets inside, into the
//! picture size, profile and codec string that playlists and muxers need:
//!
//! - H.264: [`AvcDecoderConfig`] (`avcC`, `avc1.64001f`) and [`Sps`].
//! - H.265: [`HevcDecoderConfig`] (`hvcC`, `hvc1.1.6.L93.B0`) and
//!   [`HevcSps`].
//! - AV1: [`Av1CodecConfig`] (`av1C`, `av01.0.08M.08`) and the
//!   [`Av1SequenceHeader`] inside it.
//! - VP9: [`VpCodecConfig`] (`vpcC`, `vp09.00.10.08`), and
//!   [`vp9_frame_size`] for the size, which `vpcC` does not carry.
//! - AAC: [`AudioSpecificConfig`] (`mp4a.40.2`).
//! - Opus: [`OpusHead`], read from an `OpusHead` packet or a `dOps` box and
//!   written as `dOps`.
//!
//! [`describe`] reads any of them into one [`TrackInfo`], and
//! [`is_random_access`] tells a keyframe from the payload itself.
//!
//! Every reader takes hostile input: lengths are checked before use, and
//! allocations are bounded by the bytes received.
//!
//! [`MediaFrame`]: arcly_engine::MediaFrame

mod aac;
mod av1;
mod av1_sequence;
mod avc;
mod bit_reader;
mod error;
mod hevc;
mod hevc_sps;
mod keyframe;
mod obu;
mod opus;
mod rbsp;
mod sps;
mod track_info;
mod vp9_frame;
mod vpcc;

pub use aac::AudioSpecificConfig;
pub use av1::Av1CodecConfig;
pub use av1_sequence::{Av1ColorConfig, Av1SequenceHeader, Av1Timing};
pub use avc::{AvcDecoderConfig, AvcHighProfileExt};
pub use error::CodecError;
pub use hevc::{HevcDecoderConfig, HevcNalArray};
pub use hevc_sps::HevcSps;
pub use keyframe::is_random_access;
pub use opus::{OPUS_SAMPLE_RATE, OpusChannelMapping, OpusHead};
pub use sps::{MAX_PICTURE_DIMENSION, Sps, SpsTiming};
pub use track_info::{TrackInfo, describe};
pub use vp9_frame::vp9_frame_size;
pub use vpcc::VpCodecConfig;
