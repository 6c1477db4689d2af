//! Frames to RTMP chunk bytes, built once per shard and shared by every
//! player of a stream.
//!
//! [`encode_media`] turns a [`MediaFrame`] into the complete chunks of one
//! RTMP message: a type 0 chunk with the frame's absolute timestamp and
//! type 3 continuations. Nothing in the output depends on a player, so a
//! shard encodes each frame once and writes the same `Bytes` to every
//! player's socket. That holds because of these invariants:
//!
//! - **No header compression.** Every message starts with a type 0 header
//!   (absolute timestamp, length, type, stream id), so a player needs no
//!   chunk stream state from earlier messages: it may join at any frame,
//!   skip frames (a slow player jumping to a keyframe) or get session
//!   messages in between, and still read every header correctly.
//! - **Fixed chunk stream ids per track:** audio [`CSID_AUDIO`], video
//!   [`CSID_VIDEO`], data [`CSID_DATA`].
//! - **Same chunk size for all players:** the server session sends Set
//!   Chunk Size with [`ServerConfig::chunk_size`](super::ServerConfig) when
//!   it accepts `connect`, before any media, and never changes it. Encode
//!   with [`ServerSession::out_chunk_size`](super::ServerSession::out_chunk_size).
//! - **Same message stream id:** the server gives each connection the
//!   lowest free stream id, so every player that opened one stream plays on
//!   [`MEDIA_STREAM_ID`]. A player on another id (it holds two streams
//!   open) needs its own encoding; `PlayRequested` says which id.
//! - **Stream time on the wire:** the timestamp is the frame's `dts` in
//!   milliseconds modulo 2^32, the same for every player.
//!
//! Session messages (`onStatus`, pings, acknowledgements) and these bytes
//! may be written to one socket in any order, as long as each `Bytes` is
//! written whole: every one ends on a message boundary.

use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::flv::{
    FlvError, encode_audio_tag_body, encode_script_tag_body, encode_video_tag_body,
};
use bytes::{Bytes, BytesMut};

use super::ChunkError;
use super::chunk::{MessageHeader, encode_message};
use super::message::{AUDIO, DATA_AMF0, VIDEO};
use crate::amf0::{Amf0Error, Amf0Value, Properties, encode_all};

/// The message stream id of every player that opened one stream.
pub const MEDIA_STREAM_ID: u32 = 1;

/// The chunk stream of audio messages.
pub const CSID_AUDIO: u32 = 4;

/// The chunk stream of data messages (metadata) and stream commands.
pub const CSID_DATA: u32 = 5;

/// The chunk stream of video messages.
pub const CSID_VIDEO: u32 = 6;

/// Why a frame could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// The frame has no FLV body form (a VVC frame ...).
    #[error(transparent)]
    Flv(#[from] FlvError),
    /// The body is over the 16 MiB an RTMP message can hold, or the chunk
    /// size is 0.
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    /// Metadata that AMF0 cannot carry (a key over 65,535 bytes).
    #[error(transparent)]
    Amf0(#[from] Amf0Error),
}

/// The chunks of one message carrying `frame`, on the chunk stream of its
/// track, on message stream `message_stream_id`.
///
/// The body is the FLV tag body [`arcly_media::flv`] writes (legacy
/// headers for H.264, AAC and MP3, Enhanced RTMP for the rest); a script
/// frame is sent as the AMF0 data it carries (`onMetaData`, object).
pub fn encode_media(
    frame: &MediaFrame,
    chunk_size: u32,
    message_stream_id: u32,
) -> Result<Bytes, EgressError> {
    let (csid, type_id, body) = match frame.track() {
        TrackKind::Audio => (CSID_AUDIO, AUDIO, encode_audio_tag_body(frame)?),
        TrackKind::Video => (CSID_VIDEO, VIDEO, encode_video_tag_body(frame)?),
        TrackKind::Data => (CSID_DATA, DATA_AMF0, encode_script_tag_body(frame)?),
    };
    let header = MessageHeader {
        timestamp: wire_timestamp(frame.dts),
        type_id,
        stream_id: message_stream_id,
    };
    let mut out = BytesMut::new();
    encode_message(&mut out, csid, header, &body, chunk_size)?;
    Ok(out.freeze())
}

/// The chunks of an `onMetaData` data message built from `properties` (an
/// ECMA array, as encoders write it), for streams whose publisher sent
/// none.
pub fn encode_metadata(
    properties: &Properties,
    dts: Timestamp,
    chunk_size: u32,
    message_stream_id: u32,
) -> Result<Bytes, EgressError> {
    let mut body = BytesMut::new();
    encode_all(
        &[
            Amf0Value::String("onMetaData".to_owned()),
            Amf0Value::EcmaArray(properties.clone()),
        ],
        &mut body,
    )?;
    let header = MessageHeader {
        timestamp: wire_timestamp(dts),
        type_id: DATA_AMF0,
        stream_id: message_stream_id,
    };
    let mut out = BytesMut::new();
    encode_message(&mut out, CSID_DATA, header, &body, chunk_size)?;
    Ok(out.freeze())
}

/// A timestamp as RTMP carries it: milliseconds modulo 2^32.
pub(crate) fn wire_timestamp(ts: Timestamp) -> u32 {
    ts.as_millis().rem_euclid(1 << 32) as u32
}

#[cfg(test)]
mod tests {
    use arcly_engine::{Codec, FrameFlags};
    use arcly_media::flv::{decode_script, decode_video};

    use super::*;
    use crate::rtmp::RtmpLimits;
    use crate::rtmp::chunk::ChunkDecoder;

    fn frame(codec: Codec, dts_ms: i64, payload: &'static [u8]) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(dts_ms),
            pts: Timestamp::from_millis(dts_ms + 80),
            flags: FrameFlags::KEYFRAME,
            payload: Bytes::from_static(payload),
        }
    }

    #[test]
    fn encodes_a_frame_as_one_self_contained_message() {
        let frame = frame(Codec::H264, 0x0100_0000, &[0, 0, 0, 2, 0x65, 0x88]);
        let bytes = encode_media(&frame, 4, MEDIA_STREAM_ID).unwrap();
        // Type 0, chunk stream 6, extended timestamp.
        assert_eq!(&bytes[..4], &[0x06, 0xff, 0xff, 0xff]);
        let mut decoder = ChunkDecoder::new(&RtmpLimits::default());
        decoder.set_chunk_size(4).unwrap();
        let mut buf = BytesMut::from(&bytes[..]);
        let message = decoder.feed(&mut buf).unwrap().unwrap();
        assert!(buf.is_empty());
        assert_eq!(message.csid, CSID_VIDEO);
        assert_eq!(message.header.type_id, VIDEO);
        assert_eq!(message.header.stream_id, 1);
        let back = decode_video(i64::from(message.header.timestamp), message.payload);
        assert_eq!(back, Ok(Some(frame)));
    }

    #[test]
    fn encodes_the_same_bytes_every_time() {
        let frame = frame(Codec::Aac, 40, &[0x21, 0x10]);
        let a = encode_media(&frame, 128, 1).unwrap();
        let b = encode_media(&frame, 128, 1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0], CSID_AUDIO as u8);
        assert_ne!(encode_media(&frame, 128, 2).unwrap(), a);
    }

    #[test]
    fn encodes_metadata() {
        let properties = vec![("width".to_owned(), Amf0Value::Number(1280.0))];
        let bytes = encode_metadata(&properties, Timestamp::ZERO, 128, 1).unwrap();
        let mut decoder = ChunkDecoder::new(&RtmpLimits::default());
        let message = decoder
            .feed(&mut BytesMut::from(&bytes[..]))
            .unwrap()
            .unwrap();
        assert_eq!(message.csid, CSID_DATA);
        assert!(message.payload.starts_with(b"\x02\x00\x0aonMetaData\x08"));
        let script = decode_script(0, message.payload.clone()).unwrap();
        let again = encode_media(&script, 128, 1).unwrap();
        assert_eq!(again, bytes);
    }

    #[test]
    fn refuses_what_rtmp_cannot_carry() {
        let vvc = frame(Codec::Vvc, 0, b"x");
        assert!(matches!(
            encode_media(&vvc, 128, 1),
            Err(EgressError::Flv(FlvError::CannotEncode { .. }))
        ));
        let h264 = frame(Codec::H264, 0, b"x");
        assert!(matches!(
            encode_media(&h264, 0, 1),
            Err(EgressError::Chunk(ChunkError::InvalidChunkSize { .. }))
        ));
    }
}
