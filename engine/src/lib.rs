//! The stream model of arcly.
//!
//! This crate knows what a live stream *is*: [`MediaFrame`]s with `Bytes`
//! payloads, validated [`StreamKey`]s, and (in later modules) the stream with
//! its codec configs, GOP cache, ring and viewer cursors.
//!
//! It never does I/O, never reads the clock (time is passed in by the caller)
//! and never touches an async runtime, so everything here is tested by
//! feeding values in and looking at what comes out.
#![forbid(unsafe_code)]

mod frame;
mod key;

pub use frame::{Codec, FrameFlags, MediaFrame, Timestamp, TrackKind};
pub use key::{KeyError, MAX_KEY_LEN, StreamKey};
