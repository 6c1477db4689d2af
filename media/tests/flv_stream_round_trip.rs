//! Frames of every codec FLV carries survive encoding to a stream and
//! reading it back in arbitrary pieces.

use arcly_engine::{Codec, FrameFlags, MediaFrame, Timestamp};
use arcly_media::flv::{FlvHeader, FlvReader, FlvTag};
use bytes::{Bytes, BytesMut};

fn frame(
    codec: Codec,
    dts_ms: i64,
    cts_ms: i64,
    flags: FrameFlags,
    payload: &'static [u8],
) -> MediaFrame {
    MediaFrame {
        codec,
        dts: Timestamp::from_millis(dts_ms),
        pts: Timestamp::from_millis(dts_ms + cts_ms),
        flags,
        payload: Bytes::from_static(payload),
    }
}

fn frames() -> Vec<MediaFrame> {
    let key = FrameFlags::KEYFRAME;
    let config = FrameFlags::CONFIG;
    vec![
        frame(
            Codec::Script,
            0,
            0,
            FrameFlags::NONE,
            b"\x02\x00\x0aonMetaData\x05",
        ),
        frame(Codec::H265, 0, 0, config | key, b"\x01hvcC"),
        frame(Codec::Opus, 0, 0, config, b"OpusHead\x01\x02"),
        frame(Codec::H265, 0, 80, key, b"\x00\x00\x00\x02\x26\x01"),
        frame(Codec::Opus, 20, 0, key, b"\xfc\xff\xfe"),
        frame(
            Codec::H265,
            40,
            -40,
            FrameFlags::NONE,
            b"\x00\x00\x00\x02\x02\x01",
        ),
        frame(
            Codec::H265,
            80,
            0,
            FrameFlags::NONE,
            b"\x00\x00\x00\x02\x02\x01",
        ),
        frame(Codec::Av1, 100, 0, config | key, b"\x81\x08\x0c\x00"),
        frame(Codec::Av1, 100, 0, key, b"\x12\x00\x0a\x0b"),
        frame(Codec::Vp9, 120, 0, config | key, b"\x01\x00\x00\x00"),
        frame(Codec::Vp9, 140, 0, FrameFlags::NONE, b"\x86\x00\x40"),
        frame(Codec::Aac, 160, 0, config, b"\x12\x10"),
        frame(Codec::Aac, 160, 0, key, b"\x21\x10\x04"),
        frame(Codec::Mp3, 180, 0, key, b"\xff\xfb\x90\x64\x00"),
        frame(Codec::H264, 200, 0, config | key, b"\x01\x64\x00\x1f\xff"),
        frame(Codec::H264, (1 << 32) + 7, 33, key, b"\x00\x00\x00\x01\x65"),
    ]
}

#[test]
fn frames_survive_a_stream_round_trip() {
    let mut stream = BytesMut::new();
    FlvHeader {
        has_audio: true,
        has_video: true,
    }
    .encode(&mut stream);
    for frame in frames() {
        FlvTag::from_frame(&frame)
            .unwrap()
            .encode(&mut stream)
            .unwrap();
    }
    let stream = stream.freeze();

    for piece in [1, 2, 7, 64, stream.len()] {
        let mut reader = FlvReader::new();
        let mut buf = BytesMut::new();
        let mut read = Vec::new();
        for chunk in stream.chunks(piece) {
            buf.extend_from_slice(chunk);
            while let Some(tag) = reader.feed(&mut buf).unwrap() {
                read.push(tag.decode_frame().unwrap().unwrap());
            }
        }
        let mut expected = frames();
        // FLV timestamps are 32-bit: the last frame comes back modulo 2^32.
        let last = expected.last_mut().unwrap();
        last.dts = Timestamp::from_millis(7);
        last.pts = Timestamp::from_millis(40);
        assert_eq!(read, expected, "piece size {piece}");
    }
}
