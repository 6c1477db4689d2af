//! Fragmented MP4 / CMAF (ISO/IEC 14496-12): the segments of HLS and LL-HLS.
//!
//! A fragmented MP4 stream is an init segment, then fragments:
//!
//! - [`init_segment`] writes `ftyp` and a `moov` whose sample tables are
//!   empty, with one `trak` per [`Fmp4Track`] and an `mvex` announcing that
//!   the samples come in fragments. It carries each track's decoder
//!   configuration (`avcC`, `hvcC`, `av1C`, `vpcC`, `esds`, `dOps`).
//! - [`Fragmenter`] collects [`MediaFrame`]s with [`push`](Fragmenter::push)
//!   and, on [`cut`](Fragmenter::cut), writes them as one `moof` + `mdat`
//!   [`Fragment`]: a segment, or an LL-HLS part. Where to cut is the
//!   caller's decision (at a keyframe for a segment, every few hundred
//!   milliseconds for a part).
//!
//! Sample payloads go into `mdat` as [`MediaFrame`] carries them: H.264 and
//! H.265 as length-prefixed NAL units (the `avcC`/`hvcC` length size), AV1
//! as low-overhead OBUs, AAC as raw access units. Times are converted from
//! microseconds to each track's timescale from the absolute `dts` and `pts`,
//! never by adding up deltas, so rounding never accumulates into drift.
//!
//! Like the rest of the crate this does no I/O and reads no clock. Every
//! input is bounded: a sample over [`MAX_SAMPLE_SIZE`], a fragment over
//! [`MAX_FRAGMENT_SAMPLES`] samples or [`MAX_FRAGMENT_BYTES`] bytes, a record
//! over [`MAX_CONFIG_SIZE`] is refused with an [`Fmp4Error`].
//!
//! [`MediaFrame`]: arcly_engine::MediaFrame

mod boxes;
mod error;
mod fragment;
mod init;
mod sample_entry;
mod track;

use arcly_engine::Codec;
use bytes::Bytes;

pub use error::Fmp4Error;
pub use fragment::{Fragment, Fragmenter};
pub use init::init_segment;
pub use track::{AUDIO_TRACK_ID, VIDEO_TIMESCALE, VIDEO_TRACK_ID};

/// Most tracks an init segment or fragmenter describes.
pub const MAX_TRACKS: usize = 32;

/// Largest decoder configuration record accepted, in bytes.
pub const MAX_CONFIG_SIZE: usize = 1 << 20;

/// Largest sample (frame payload) accepted, in bytes.
pub const MAX_SAMPLE_SIZE: usize = 16 << 20;

/// Most samples, over all tracks, in one fragment.
pub const MAX_FRAGMENT_SAMPLES: usize = 10_000;

/// Most media bytes, over all tracks, in one fragment. It keeps `mdat` far
/// inside its 32-bit size field.
pub const MAX_FRAGMENT_BYTES: usize = 256 << 20;

/// What a track carries, and the decoder configuration its sample entry
/// needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackMedia {
    /// Coded pictures.
    Video {
        /// [`Codec::H264`], [`Codec::H265`], [`Codec::Av1`] or [`Codec::Vp9`].
        codec: Codec,
        /// Picture width in pixels (at most 65,535).
        width: u32,
        /// Picture height in pixels (at most 65,535).
        height: u32,
        /// The `avcC`, `hvcC`, `av1C` or `vpcC` record, as the config
        /// [`MediaFrame`](arcly_engine::MediaFrame) carries it. A `vpcC` may
        /// start with its full box version and flags or not.
        config: Bytes,
    },
    /// Coded audio.
    Audio {
        /// [`Codec::Aac`], [`Codec::Opus`] or [`Codec::Mp3`].
        codec: Codec,
        /// Samples per second.
        sample_rate: u32,
        /// Channel count.
        channels: u8,
        /// The AudioSpecificConfig for AAC; the `dOps` body or `OpusHead`
        /// for Opus (empty: mono or stereo with no pre-skip); empty for MP3.
        config: Bytes,
    },
}

impl TrackMedia {
    /// The codec of the track.
    pub fn codec(&self) -> Codec {
        match self {
            TrackMedia::Video { codec, .. } | TrackMedia::Audio { codec, .. } => *codec,
        }
    }

    /// Whether this is a video track.
    pub fn is_video(&self) -> bool {
        matches!(self, TrackMedia::Video { .. })
    }
}

/// One track of an fMP4 stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fmp4Track {
    /// The track id, non-zero and unique in the stream.
    pub track_id: u32,
    /// Ticks per second of the track's times: 90,000 for video and the
    /// sample rate for audio are what players expect.
    pub timescale: u32,
    /// The codec and its configuration.
    pub media: TrackMedia,
}
