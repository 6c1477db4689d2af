//! FLV tags: the 11-byte tag header, a body, and the `PreviousTagSize` that
//! follows every tag.

use arcly_engine::{MediaFrame, TrackKind};
use bytes::{BufMut, Bytes, BytesMut};

use super::{
    FlvError, decode_audio, decode_script, decode_video, encode_audio_tag_body,
    encode_script_tag_body, encode_video_tag_body,
};

/// The largest body a tag header can announce (24 bits).
pub const MAX_TAG_DATA_SIZE: u32 = 0x00ff_ffff;

/// The filter (encryption) bit of the tag header's first byte.
const FILTER: u8 = 0x20;

/// What a tag carries. The codes are RTMP's message type ids as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TagType {
    /// Audio, code 8.
    Audio,
    /// Video, code 9.
    Video,
    /// AMF0 script data, code 18.
    Script,
}

impl TagType {
    /// The code on the wire.
    pub fn code(self) -> u8 {
        match self {
            TagType::Audio => 8,
            TagType::Video => 9,
            TagType::Script => 18,
        }
    }

    /// The tag type for a wire code, if it is one of the three.
    pub fn from_code(code: u8) -> Option<TagType> {
        match code {
            8 => Some(TagType::Audio),
            9 => Some(TagType::Video),
            18 => Some(TagType::Script),
            _ => None,
        }
    }

    /// The tag type that carries frames of a track.
    pub fn for_track(track: TrackKind) -> TagType {
        match track {
            TrackKind::Audio => TagType::Audio,
            TrackKind::Video => TagType::Video,
            TrackKind::Data => TagType::Script,
        }
    }
}

/// The 11-byte header before every tag body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TagHeader {
    /// Audio, video or script.
    pub tag_type: TagType,
    /// Body length in bytes (at most [`MAX_TAG_DATA_SIZE`]).
    pub data_size: u32,
    /// Milliseconds: 24 bits plus an 8-bit extension holding the top byte.
    pub timestamp_ms: u32,
    /// 24 bits, always 0 in files.
    pub stream_id: u32,
}

impl TagHeader {
    /// Bytes on the wire.
    pub const LEN: usize = 11;

    /// Reads a tag header.
    ///
    /// Refused: a tag type other than 8, 9 or 18, and the filter bit
    /// (encrypted bodies).
    pub fn decode(bytes: &[u8; TagHeader::LEN]) -> Result<TagHeader, FlvError> {
        let [kind, s0, s1, s2, t0, t1, t2, t3, i0, i1, i2] = *bytes;
        if kind & FILTER != 0 {
            return Err(FlvError::EncryptedTag);
        }
        let code = kind & 0x1f;
        let tag_type = TagType::from_code(code).ok_or(FlvError::UnknownTagType(code))?;
        Ok(TagHeader {
            tag_type,
            data_size: u32::from_be_bytes([0, s0, s1, s2]),
            timestamp_ms: u32::from_be_bytes([t3, t0, t1, t2]),
            stream_id: u32::from_be_bytes([0, i0, i1, i2]),
        })
    }

    /// Writes the header.
    ///
    /// Refused: a `data_size` over [`MAX_TAG_DATA_SIZE`]. The stream id is
    /// written modulo 2^24.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), FlvError> {
        if self.data_size > MAX_TAG_DATA_SIZE {
            return Err(FlvError::TagTooLarge {
                size: u64::from(self.data_size),
                limit: MAX_TAG_DATA_SIZE,
            });
        }
        let [_, s0, s1, s2] = self.data_size.to_be_bytes();
        let [t3, t0, t1, t2] = self.timestamp_ms.to_be_bytes();
        let [_, i0, i1, i2] = self.stream_id.to_be_bytes();
        dst.put_slice(&[self.tag_type.code(), s0, s1, s2, t0, t1, t2, t3, i0, i1, i2]);
        Ok(())
    }
}

/// One tag: its type, timestamp and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlvTag {
    /// Audio, video or script.
    pub tag_type: TagType,
    /// Milliseconds, as in the tag header.
    pub timestamp_ms: u32,
    /// The body, as the body decoders take it.
    pub body: Bytes,
}

impl FlvTag {
    /// Builds the tag for a frame: the body from the encoder of the frame's
    /// track, the timestamp from its `dts` in milliseconds modulo 2^32 (FLV
    /// timestamps are unsigned 32-bit, so the caller starts the timeline at
    /// or after zero).
    pub fn from_frame(frame: &MediaFrame) -> Result<FlvTag, FlvError> {
        let tag_type = TagType::for_track(frame.track());
        let body = match tag_type {
            TagType::Audio => encode_audio_tag_body(frame)?,
            TagType::Video => encode_video_tag_body(frame)?,
            TagType::Script => encode_script_tag_body(frame)?,
        };
        Ok(FlvTag {
            tag_type,
            timestamp_ms: frame.dts.as_millis().rem_euclid(1 << 32) as u32,
            body,
        })
    }

    /// Decodes the body into a frame (see [`decode_video`],
    /// [`decode_audio`] and [`decode_script`]); `Ok(None)` for tags that
    /// carry no media.
    pub fn decode_frame(&self) -> Result<Option<MediaFrame>, FlvError> {
        let dts_ms = i64::from(self.timestamp_ms);
        let body = self.body.clone();
        match self.tag_type {
            TagType::Audio => decode_audio(dts_ms, body),
            TagType::Video => decode_video(dts_ms, body),
            TagType::Script => Ok(decode_script(dts_ms, body)),
        }
    }

    /// Bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        TagHeader::LEN + self.body.len() + 4
    }

    /// Writes the tag header (stream id 0), the body and the
    /// `PreviousTagSize` that closes the tag.
    ///
    /// Refused: a body over [`MAX_TAG_DATA_SIZE`].
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), FlvError> {
        let data_size = u32::try_from(self.body.len())
            .ok()
            .filter(|size| *size <= MAX_TAG_DATA_SIZE)
            .ok_or(FlvError::TagTooLarge {
                size: self.body.len() as u64,
                limit: MAX_TAG_DATA_SIZE,
            })?;
        dst.reserve(self.encoded_len());
        TagHeader {
            tag_type: self.tag_type,
            data_size,
            timestamp_ms: self.timestamp_ms,
            stream_id: 0,
        }
        .encode(dst)?;
        dst.put_slice(&self.body);
        dst.put_u32(TagHeader::LEN as u32 + data_size);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use arcly_engine::{Codec, FrameFlags, Timestamp};

    use super::*;

    #[test]
    fn header_round_trips_with_extended_timestamp() {
        let header = TagHeader {
            tag_type: TagType::Video,
            data_size: 0x01_0203,
            timestamp_ms: 0x8a0b_0c0d,
            stream_id: 0,
        };
        let mut buf = BytesMut::new();
        header.encode(&mut buf).unwrap();
        assert_eq!(
            &buf[..],
            &[9, 0x01, 0x02, 0x03, 0x0b, 0x0c, 0x0d, 0x8a, 0, 0, 0]
        );
        let bytes: [u8; 11] = buf[..].try_into().unwrap();
        assert_eq!(TagHeader::decode(&bytes), Ok(header));
    }

    #[test]
    fn refuses_bad_headers() {
        let mut bytes = [8u8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        bytes[0] = 0x28;
        assert_eq!(TagHeader::decode(&bytes), Err(FlvError::EncryptedTag));
        bytes[0] = 15;
        assert_eq!(TagHeader::decode(&bytes), Err(FlvError::UnknownTagType(15)));
        let header = TagHeader {
            tag_type: TagType::Audio,
            data_size: MAX_TAG_DATA_SIZE + 1,
            timestamp_ms: 0,
            stream_id: 0,
        };
        assert!(header.encode(&mut BytesMut::new()).is_err());
    }

    #[test]
    fn tag_round_trips_through_a_frame() {
        let frame = MediaFrame {
            codec: Codec::H264,
            dts: Timestamp::from_millis(40),
            pts: Timestamp::from_millis(120),
            flags: FrameFlags::NONE,
            payload: Bytes::from_static(&[0, 0, 0, 1, 0x41]),
        };
        let tag = FlvTag::from_frame(&frame).unwrap();
        assert_eq!(tag.tag_type, TagType::Video);
        assert_eq!(tag.timestamp_ms, 40);
        assert_eq!(tag.decode_frame().unwrap(), Some(frame));

        let mut buf = BytesMut::new();
        tag.encode(&mut buf).unwrap();
        assert_eq!(buf.len(), tag.encoded_len());
        assert_eq!(&buf[buf.len() - 4..], &(11 + 10u32).to_be_bytes());
    }

    #[test]
    fn wraps_timestamps_modulo_32_bits() {
        let frame = MediaFrame {
            codec: Codec::Script,
            dts: Timestamp::from_millis((1 << 32) + 5),
            pts: Timestamp::from_millis((1 << 32) + 5),
            flags: FrameFlags::NONE,
            payload: Bytes::from_static(b"\x05"),
        };
        assert_eq!(FlvTag::from_frame(&frame).unwrap().timestamp_ms, 5);
    }
}
