//! Script tag bodies (RTMP AMF0 data messages) to and from [`MediaFrame`]s.
//!
//! The body is kept as the AMF0 bytes it arrived as (`onMetaData` and its
//! object, in an FLV file). RTMP publishers wrap it as `@setDataFrame`,
//! `onMetaData`, object; removing that wrapper is the RTMP session's job
//! (`arcly_protocols::amf0::strip_set_data_frame`) before it calls
//! [`decode_script`], so that every ingest hands the engine the FLV-file
//! form and every egress writes it unchanged.

use arcly_engine::{Codec, FrameFlags, MediaFrame};
use bytes::Bytes;

use super::{FlvError, frame_times};

/// A [`Codec::Script`] frame carrying `body` as is; `None` for an empty body.
pub fn decode_script(dts_ms: i64, body: Bytes) -> Option<MediaFrame> {
    if body.is_empty() {
        return None;
    }
    let (dts, pts) = frame_times(dts_ms, 0, 0);
    Some(MediaFrame {
        codec: Codec::Script,
        dts,
        pts,
        flags: FrameFlags::NONE,
        payload: body,
    })
}

/// The body of a script frame: its payload, shared, not copied.
///
/// Refused: frames of any other codec.
pub fn encode_script_tag_body(frame: &MediaFrame) -> Result<Bytes, FlvError> {
    match frame.codec {
        Codec::Script => Ok(frame.payload.clone()),
        codec => Err(FlvError::CannotEncode {
            codec,
            tag: "script",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_amf0_unchanged() {
        let body = Bytes::from_static(b"\x02\x00\x0aonMetaData\x05");
        let frame = decode_script(40, body.clone()).unwrap();
        assert_eq!(frame.codec, Codec::Script);
        assert_eq!(frame.dts.as_millis(), 40);
        assert_eq!(encode_script_tag_body(&frame).unwrap(), body);
        assert_eq!(decode_script(0, Bytes::new()), None);
    }

    #[test]
    fn refuses_media_frames() {
        let mut frame = decode_script(0, Bytes::from_static(b"\x05")).unwrap();
        frame.codec = Codec::Aac;
        assert!(encode_script_tag_body(&frame).is_err());
    }
}
