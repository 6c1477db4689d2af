//! FLV: the container of RTMP and HTTP-FLV, legacy and Enhanced RTMP.
//!
//! An FLV stream is a 9-byte [`FlvHeader`], then tags, each followed by the
//! size of the tag before it. A tag is an 11-byte [`TagHeader`] and a body;
//! RTMP carries the same bodies as audio, video and data messages, so the
//! body codecs here serve both:
//!
//! - [`decode_video`] / [`encode_video_tag_body`]: legacy AVC (codec id 7)
//!   and HEVC (id 12, as some encoders send it), and Enhanced RTMP
//!   (`avc1`, `hvc1`, `av01`, `vp09`), including ModEx and multitrack.
//! - [`decode_audio`] / [`encode_audio_tag_body`]: AAC, MP3 and Enhanced RTMP
//!   (`mp4a`, `Opus`, `.mp3`).
//! - [`decode_script`] / [`encode_script_tag_body`]: AMF0 data such as
//!   `onMetaData`, carried as is.
//!
//! Decoding yields `Ok(None)` for packets that carry no media (sequence end,
//! command frames, video metadata, the audio "silence" message); payloads
//! are zero-copy slices of the body. [`FlvReader`] reads a whole stream (a
//! file, an HTTP-FLV pull) incrementally, and [`FlvTag::encode`] writes one.
//!
//! Egress writes legacy headers wherever a legacy player can read them
//! (H.264, AAC, MP3) and Enhanced RTMP headers for the rest, so every frame
//! decoded here re-encodes to the same bytes, with the exceptions listed on
//! each encoder.

mod audio;
mod error;
mod ex_header;
mod fourcc;
mod header;
mod reader;
mod script;
mod tag;
mod video;

pub use audio::{decode_audio, encode_audio_tag_body};
pub use error::FlvError;
pub use fourcc::FourCc;
pub use header::{FlvHeader, MAX_HEADER_SIZE};
pub use reader::{DEFAULT_MAX_TAG_SIZE, FlvReader};
pub use script::{decode_script, encode_script_tag_body};
pub use tag::{FlvTag, MAX_TAG_DATA_SIZE, TagHeader, TagType};
pub use video::{decode_video, encode_video_tag_body};

use arcly_engine::Timestamp;

/// The decode and presentation times of a body whose tag (or RTMP message)
/// timestamp is `dts_ms`, with a sub-millisecond offset and a composition
/// offset.
fn frame_times(dts_ms: i64, nanos: u32, cts_ms: i32) -> (Timestamp, Timestamp) {
    let dts = Timestamp::from_millis(dts_ms).as_micros();
    let dts = Timestamp(dts.saturating_add(i64::from(nanos / 1000)));
    let pts = Timestamp(dts.0.saturating_add(i64::from(cts_ms) * 1000));
    (dts, pts)
}
