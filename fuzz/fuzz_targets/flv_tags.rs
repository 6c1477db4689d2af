//! FLV: the stream reader and the tag body decoders, with re-encoding.
//!
//! Input: `[mode] ...`. An even mode reads the rest as an FLV stream in the
//! [`Splits`] layout with `FlvReader::feed`; the tags must write back
//! (`FlvHeader::encode`, `FlvTag::encode`) to a stream that reads as the
//! same tags. An odd mode reads the rest as `[timestamp: u32 BE] [body]`,
//! a raw RTMP message payload, and decodes it as video, audio or script
//! (`(mode >> 1) % 3`).
//!
//! Every frame decoded either way must re-encode (`FlvTag::from_frame`:
//! FLV can carry every codec the decoders produce) and decode again to the
//! same codec, flags, timestamps in milliseconds (modulo 2^32) and
//! payload. Only the discardable flag and the sub-millisecond part of a
//! ModEx nanosecond offset are documented as lost.
#![no_main]

use arcly_engine::MediaFrame;
use arcly_fuzz::Splits;
use arcly_media::flv::{
    FlvHeader, FlvReader, FlvTag, TagType, decode_audio, decode_script, decode_video,
};
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

/// Re-encodes a decoded frame and checks that it decodes to the same frame.
fn re_encode(tag_type: TagType, frame: &MediaFrame) {
    let tag = FlvTag::from_frame(frame).expect("a decoded frame re-encodes");
    assert_eq!(tag.tag_type, tag_type);
    let again = tag
        .decode_frame()
        .expect("a re-encoded frame decodes")
        .expect("a re-encoded frame carries media");
    assert_eq!(again.codec, frame.codec);
    assert_eq!(again.payload, frame.payload);
    assert_eq!(again.is_keyframe(), frame.is_keyframe());
    assert_eq!(again.is_config(), frame.is_config());
    // FLV timestamps are milliseconds modulo 2^32 (`FlvTag::from_frame`),
    // and a ModEx nanosecond offset may carry a frame past 2^32 - 1 ms.
    assert_eq!(
        again.dts.as_millis(),
        frame.dts.as_millis().rem_euclid(1 << 32)
    );
    assert_eq!(
        again.pts.as_millis() - again.dts.as_millis(),
        frame.pts.as_millis() - frame.dts.as_millis(),
        "composition time"
    );
}

fn read_stream(input: &[u8]) {
    let splits = Splits::new(input);
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::new();
    let mut tags = Vec::new();
    'reads: for read in splits {
        buf.extend_from_slice(read);
        loop {
            match reader.feed(&mut buf) {
                Ok(Some(tag)) => tags.push(tag),
                Ok(None) => break,
                Err(_) => break 'reads,
            }
        }
    }
    for tag in &tags {
        if let Ok(Some(frame)) = tag.decode_frame() {
            re_encode(tag.tag_type, &frame);
        }
    }
    let Some(header) = reader.header() else {
        assert!(tags.is_empty());
        return;
    };
    let mut written = BytesMut::new();
    header.encode(&mut written);
    for tag in &tags {
        tag.encode(&mut written).expect("a read tag writes");
    }
    let mut reader = FlvReader::new();
    assert_eq!(
        FlvHeader::decode(&written).map(|h| h.map(|(h, _)| h)),
        Ok(Some(header))
    );
    for tag in &tags {
        let again = reader.feed(&mut written).expect("a written tag reads");
        assert_eq!(again.as_ref(), Some(tag), "tag round trip");
    }
    assert_eq!(reader.feed(&mut written), Ok(None));
    assert!(written.is_empty(), "every written byte was read");
}

fn decode_body(mode: u8, input: &[u8]) {
    let Some((timestamp, body)) = input.split_first_chunk::<4>() else {
        return;
    };
    let dts_ms = i64::from(u32::from_be_bytes(*timestamp));
    let body = Bytes::copy_from_slice(body);
    let (tag_type, decoded) = match (mode >> 1) % 3 {
        0 => (TagType::Video, decode_video(dts_ms, body)),
        1 => (TagType::Audio, decode_audio(dts_ms, body)),
        _ => (TagType::Script, Ok(decode_script(dts_ms, body))),
    };
    if let Ok(Some(frame)) = decoded {
        re_encode(tag_type, &frame);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        read_stream(rest);
    } else {
        decode_body(mode, rest);
    }
});
