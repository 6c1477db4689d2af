//! MPEG-TS (ISO/IEC 13818-1): the container of HLS segments.
//!
//! [`TsMuxer`] writes one program with up to one video track (H.264 or
//! HEVC) and one audio track (AAC or MP3) from [`MediaFrame`]s, the way
//! ffmpeg lays it out, so that every HLS player reads it:
//!
//! - `packet`: 188-byte packets, the adaptation field (PCR, random access,
//!   stuffing) and the per-PID continuity counters.
//! - `psi`: the PAT and PMT sections and their CRC-32/MPEG-2.
//! - `pes`: PES headers with 33-bit, 90 kHz PTS and DTS.
//! - `annexb`: length-prefixed NAL units to Annex B, with an access unit
//!   delimiter before every picture and the parameter sets before keyframes.
//! - `adts`: the ADTS header before each AAC frame.
//!
//! The muxer never reads a clock or does I/O: frames carry their times and
//! the caller owns the output buffer and decides where segments start.
//!
//! [`MediaFrame`]: arcly_engine::MediaFrame

mod adts;
mod annexb;
mod error;
mod muxer;
mod packet;
mod pes;
mod psi;

pub use error::TsError;
pub use muxer::{TsAudio, TsMuxer, TsVideo};
pub use packet::PACKET_SIZE;

/// The PID of the video track's PES packets (ffmpeg's first stream PID).
pub const VIDEO_PID: u16 = 0x100;

/// The PID of the audio track's PES packets.
pub const AUDIO_PID: u16 = 0x101;

/// The PID of the program map table.
pub const PMT_PID: u16 = 0x1000;

/// The program number the PAT and PMT announce.
pub const PROGRAM_NUMBER: u16 = 1;

/// Added to every PTS and DTS, in 90 kHz ticks: 1.4 s, as ffmpeg does, so
/// that a stream starting at 0 keeps its B-frames' DTS and its PCR positive.
pub const TIMESTAMP_OFFSET: u64 = 126_000;

/// How far the PCR runs behind the DTS of the PES that carries it, in
/// 90 kHz ticks: 0.7 s, ffmpeg's default `muxdelay`. It is the time a
/// decoder has to receive a frame before it must decode it.
pub const PCR_DELAY: u64 = 63_000;
