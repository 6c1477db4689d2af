//! Codecs and containers of arcly.
//!
//! This crate turns container and codec bytes into [`MediaFrame`]s and back:
//! [`flv`] maps FLV tags (legacy and Enhanced RTMP) to frames for RTMP and
//! HTTP-FLV, and [`codec`] reads the decoder configuration records and
//! parameter sets that carry a stream's resolution, profile and codec string.
//! [`ts`] writes MPEG-TS and [`fmp4`] fragmented MP4 (CMAF) for HLS
//! segments, and [`hls`] cuts a stream into segments and LL-HLS parts, keeps
//! a sliding window of them and writes the playlists.
//!
//! Everything here is a pure function of its input: the crate never does I/O,
//! never reads the clock (timestamps come in with the data) and never touches
//! an async runtime. Every length read from the input is checked against the
//! bytes actually present, or a documented limit, before it is used, so a
//! hostile stream yields an error and never a panic or an unbounded
//! allocation. Payloads are zero-copy [`bytes::Bytes`] slices of the input.
//!
//! [`MediaFrame`]: arcly_engine::MediaFrame
#![forbid(unsafe_code)]

mod byte_reader;
pub mod codec;
pub mod flv;
pub mod fmp4;
pub mod hls;
pub mod ts;
