//! Video tag bodies (RTMP video messages) to and from [`MediaFrame`]s.
//!
//! Legacy layout (FLV 10.1 E.4.3.1): `FrameType:4 CodecID:4`, then for AVC
//! and HEVC `AVCPacketType:8 CompositionTime:SI24`. Enhanced RTMP sets the
//! top bit: `IsExHeader:1 FrameType:3 PacketType:4`, optional ModEx and
//! multitrack fields, a FourCC, and for `avc1`/`hvc1` coded frames an SI24
//! composition time.

use arcly_engine::{Codec, FrameFlags, MediaFrame};
use bytes::{BufMut, Bytes, BytesMut};

use super::{FlvError, FourCc, ex_header, frame_times};
use crate::byte_reader::ByteReader;

/// The `IsExHeader` bit of the first byte.
const EX_HEADER: u8 = 0x80;

/// Frame types.
const KEY_FRAME: u8 = 1;
const INTER_FRAME: u8 = 2;
const DISPOSABLE_INTER_FRAME: u8 = 3;
const GENERATED_KEY_FRAME: u8 = 4;
const COMMAND_FRAME: u8 = 5;

/// Legacy codec ids.
const CODEC_AVC: u8 = 7;
const CODEC_HEVC: u8 = 12;

/// Legacy `AVCPacketType` (HEVC id 12 uses the same values).
const AVC_SEQUENCE_HEADER: u8 = 0;
const AVC_NALU: u8 = 1;
const AVC_END_OF_SEQUENCE: u8 = 2;

/// Enhanced `VideoPacketType`.
const SEQUENCE_START: u8 = 0;
const CODED_FRAMES: u8 = 1;
const SEQUENCE_END: u8 = 2;
const CODED_FRAMES_X: u8 = 3;
const METADATA: u8 = 4;
const MPEG2TS_SEQUENCE_START: u8 = 5;
const MULTITRACK: u8 = 6;

/// The SI24 range of a composition time offset.
const CTS_MIN: i64 = -(1 << 23);
const CTS_MAX: i64 = (1 << 23) - 1;

/// Decodes a video tag body (or RTMP video message payload) whose timestamp
/// is `dts_ms`.
///
/// Returns `Ok(None)` for packets that carry no picture: sequence end,
/// command frames (frame type 5), Enhanced RTMP metadata (HDR `colorInfo`;
/// not yet surfaced), `MPEG2TSSequenceStart`, a multitrack packet without
/// track 0, an empty body, and a sequence start or coded frames with no
/// data (an empty config must not replace the stream's real one).
///
/// A sequence start becomes a [`FrameFlags::CONFIG`] frame carrying the
/// decoder configuration record (`avcC`, `hvcC`, `av1C`, `vpcC`). Frame type 1
/// (and 4, the server-generated keyframe) sets [`FrameFlags::KEYFRAME`];
/// frame type 3 sets [`FrameFlags::DISCARDABLE`]. `pts` is `dts` plus the
/// composition time; an Enhanced RTMP nanosecond offset is added to both at
/// microsecond precision. The payload is a zero-copy slice of `body`.
pub fn decode_video(dts_ms: i64, body: Bytes) -> Result<Option<MediaFrame>, FlvError> {
    let mut r = ByteReader::new(&body);
    let Ok(first) = r.u8("video tag header") else {
        return Ok(None);
    };
    if first & EX_HEADER != 0 {
        decode_enhanced(dts_ms, first, &mut r)
    } else {
        decode_legacy(dts_ms, first, &mut r)
    }
}

fn decode_legacy(
    dts_ms: i64,
    first: u8,
    r: &mut ByteReader<'_>,
) -> Result<Option<MediaFrame>, FlvError> {
    let frame_type = first >> 4;
    if frame_type == COMMAND_FRAME {
        return Ok(None);
    }
    let flags = frame_flags(frame_type)?;
    let codec = match first & 0x0f {
        CODEC_AVC => Codec::H264,
        CODEC_HEVC => Codec::H265,
        other => return Err(FlvError::UnsupportedVideoCodec(other)),
    };
    let packet_type = r.u8("avc packet type")?;
    if packet_type == AVC_END_OF_SEQUENCE {
        return Ok(None);
    }
    let cts = r.i24("composition time")?;
    let payload = r.rest();
    match packet_type {
        AVC_SEQUENCE_HEADER | AVC_NALU if payload.is_empty() => Ok(None),
        AVC_SEQUENCE_HEADER => Ok(Some(frame(
            codec,
            dts_ms,
            0,
            0,
            flags | FrameFlags::CONFIG,
            payload,
        ))),
        AVC_NALU => Ok(Some(frame(codec, dts_ms, 0, cts, flags, payload))),
        packet_type => Err(FlvError::UnknownPacketType {
            kind: "avc",
            packet_type,
        }),
    }
}

fn decode_enhanced(
    dts_ms: i64,
    first: u8,
    r: &mut ByteReader<'_>,
) -> Result<Option<MediaFrame>, FlvError> {
    let frame_type = (first >> 4) & 0x07;
    let (packet_type, nanos) = ex_header::read_mod_ex(r, first & 0x0f)?;
    if packet_type == METADATA {
        // The frame type is to be ignored for metadata.
        return Ok(None);
    }
    if frame_type == COMMAND_FRAME {
        // A one-byte video command follows instead of a FourCC.
        return Ok(None);
    }
    let flags = frame_flags(frame_type)?;
    let Some((packet_type, track)) =
        ex_header::read_track(r, packet_type, MULTITRACK, "video fourcc")?
    else {
        return Ok(None);
    };
    match packet_type {
        SEQUENCE_END | MPEG2TS_SEQUENCE_START | METADATA => return Ok(None),
        SEQUENCE_START | CODED_FRAMES | CODED_FRAMES_X => {}
        packet_type => {
            return Err(FlvError::UnknownPacketType {
                kind: "video",
                packet_type,
            });
        }
    }
    let codec = match track.fourcc {
        FourCc::AVC1 => Codec::H264,
        FourCc::HVC1 => Codec::H265,
        FourCc::AV01 => Codec::Av1,
        FourCc::VP09 => Codec::Vp9,
        other => return Err(FlvError::UnsupportedFourCc(other)),
    };
    let mut t = ByteReader::with_base(&track.body, track.offset);
    let cts = if packet_type == CODED_FRAMES && matches!(codec, Codec::H264 | Codec::H265) {
        t.i24("composition time")?
    } else {
        0
    };
    let payload = t.rest();
    if payload.is_empty() {
        return Ok(None);
    }
    if packet_type == SEQUENCE_START {
        let flags = flags | FrameFlags::CONFIG;
        return Ok(Some(frame(codec, dts_ms, nanos, 0, flags, payload)));
    }
    Ok(Some(frame(codec, dts_ms, nanos, cts, flags, payload)))
}

fn frame_flags(frame_type: u8) -> Result<FrameFlags, FlvError> {
    match frame_type {
        KEY_FRAME | GENERATED_KEY_FRAME => Ok(FrameFlags::KEYFRAME),
        INTER_FRAME => Ok(FrameFlags::NONE),
        DISPOSABLE_INTER_FRAME => Ok(FrameFlags::DISCARDABLE),
        other => Err(FlvError::UnknownFrameType(other)),
    }
}

fn frame(
    codec: Codec,
    dts_ms: i64,
    nanos: u32,
    cts: i32,
    flags: FrameFlags,
    payload: Bytes,
) -> MediaFrame {
    let (dts, pts) = frame_times(dts_ms, nanos, cts);
    MediaFrame {
        codec,
        dts,
        pts,
        flags,
        payload,
    }
}

/// Encodes a video frame as a tag body (or RTMP video message payload).
///
/// H.264 is written in the legacy AVC layout every player reads; H.265, AV1
/// and VP9 in the Enhanced RTMP layout (`hvc1` coded frames with a zero
/// composition time use `CodedFramesX`). The frame type is 1 for keyframes
/// and 2 otherwise (3 is H.263-only, so [`FrameFlags::DISCARDABLE`] is not
/// written); the composition time is `pts - dts` in whole milliseconds.
///
/// Refused: codecs FLV has no video header for (VVC, audio, script) and a
/// composition time outside the signed 24-bit range.
pub fn encode_video_tag_body(frame: &MediaFrame) -> Result<Bytes, FlvError> {
    let frame_type = if frame.is_keyframe() {
        KEY_FRAME
    } else {
        INTER_FRAME
    };
    let config = frame.is_config();
    let cts = if config {
        0
    } else {
        let cts = frame.pts.as_millis() - frame.dts.as_millis();
        if !(CTS_MIN..=CTS_MAX).contains(&cts) {
            return Err(FlvError::CompositionTimeOutOfRange(cts));
        }
        cts
    };
    let mut out = BytesMut::with_capacity(frame.payload.len() + 8);
    match frame.codec {
        Codec::H264 => {
            out.put_u8(frame_type << 4 | CODEC_AVC);
            out.put_u8(if config {
                AVC_SEQUENCE_HEADER
            } else {
                AVC_NALU
            });
            put_i24(&mut out, cts);
        }
        Codec::H265 => {
            let packet_type = match (config, cts) {
                (true, _) => SEQUENCE_START,
                (false, 0) => CODED_FRAMES_X,
                (false, _) => CODED_FRAMES,
            };
            out.put_u8(EX_HEADER | frame_type << 4 | packet_type);
            out.put_slice(&FourCc::HVC1.0);
            if packet_type == CODED_FRAMES {
                put_i24(&mut out, cts);
            }
        }
        Codec::Av1 | Codec::Vp9 => {
            let packet_type = if config { SEQUENCE_START } else { CODED_FRAMES };
            let fourcc = if frame.codec == Codec::Av1 {
                FourCc::AV01
            } else {
                FourCc::VP09
            };
            out.put_u8(EX_HEADER | frame_type << 4 | packet_type);
            out.put_slice(&fourcc.0);
        }
        codec => {
            return Err(FlvError::CannotEncode {
                codec,
                tag: "video",
            });
        }
    }
    out.put_slice(&frame.payload);
    Ok(out.freeze())
}

/// Writes the low 24 bits of a value already checked to fit SI24.
fn put_i24(out: &mut BytesMut, value: i64) {
    out.put_slice(&(value as i32).to_be_bytes()[1..]);
}

#[cfg(test)]
mod tests {
    use arcly_engine::Timestamp;

    use super::*;

    fn decode(body: &[u8]) -> Result<Option<MediaFrame>, FlvError> {
        decode_video(1000, Bytes::copy_from_slice(body))
    }

    #[test]
    fn decodes_legacy_avc() {
        let config = decode(&[0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64])
            .unwrap()
            .unwrap();
        assert_eq!(config.codec, Codec::H264);
        assert!(config.is_config() && config.is_keyframe());
        assert_eq!(config.payload, &[0x01, 0x64][..]);

        let key = decode(&[0x17, 0x01, 0x00, 0x00, 0x50, 0xaa])
            .unwrap()
            .unwrap();
        assert!(key.starts_gop());
        assert_eq!(key.dts, Timestamp::from_millis(1000));
        assert_eq!(key.pts, Timestamp::from_millis(1080));

        let inter = decode(&[0x27, 0x01, 0xff, 0xff, 0xd8, 0xbb])
            .unwrap()
            .unwrap();
        assert!(!inter.is_keyframe());
        assert_eq!(inter.pts, Timestamp::from_millis(960));

        let disposable = decode(&[0x37, 0x01, 0, 0, 0, 0xcc]).unwrap().unwrap();
        assert!(disposable.flags.contains(FrameFlags::DISCARDABLE));

        let hevc = decode(&[0x1c, 0x01, 0, 0, 0, 0xdd]).unwrap().unwrap();
        assert_eq!(hevc.codec, Codec::H265);
    }

    #[test]
    fn ignores_packets_without_pictures() {
        assert_eq!(decode(&[]), Ok(None));
        assert_eq!(decode(&[0x17, 0x02, 0, 0, 0]), Ok(None));
        assert_eq!(decode(&[0x17, 0x02]), Ok(None));
        assert_eq!(decode(&[0x57, 0x00]), Ok(None));
        assert_eq!(decode(&[0x27, 0x01, 0, 0, 0]), Ok(None));
        assert_eq!(decode(&[0x17, 0x00, 0, 0, 0]), Ok(None));
        assert_eq!(decode(b"\x90hvc1"), Ok(None));
        // Enhanced: command frame, metadata, sequence end, MPEG-2 TS start.
        assert_eq!(decode(&[0xd1, 0x00]), Ok(None));
        assert_eq!(decode(b"\x84hvc1\x02\x00\x09colorInfo\x06"), Ok(None));
        assert_eq!(decode(b"\x92hvc1"), Ok(None));
        assert_eq!(decode(b"\x95av01\x80\x04"), Ok(None));
    }

    #[test]
    fn decodes_enhanced_video() {
        let config = decode(b"\x90hvc1\x01\x02").unwrap().unwrap();
        assert_eq!(config.codec, Codec::H265);
        assert!(config.is_config());
        assert_eq!(config.payload, &b"\x01\x02"[..]);

        let coded = decode(b"\x91hvc1\x00\x00\x28data").unwrap().unwrap();
        assert_eq!(coded.pts, Timestamp::from_millis(1040));
        assert_eq!(coded.payload, &b"data"[..]);
        assert!(coded.is_keyframe());

        let coded_x = decode(b"\xa3hvc1data").unwrap().unwrap();
        assert_eq!(coded_x.pts, coded_x.dts);
        assert!(!coded_x.is_keyframe());

        // AV1 and VP9 coded frames carry no composition time.
        let av1 = decode(b"\x91av01\x12\x00").unwrap().unwrap();
        assert_eq!(
            (av1.codec, &av1.payload[..]),
            (Codec::Av1, &b"\x12\x00"[..])
        );
        let vp9 = decode(b"\xa1vp09\x82\x49").unwrap().unwrap();
        assert_eq!(
            (vp9.codec, &vp9.payload[..]),
            (Codec::Vp9, &b"\x82\x49"[..])
        );
        let avc = decode(b"\x91avc1\x00\x00\x00\x00\x00\x00\x01\x65")
            .unwrap()
            .unwrap();
        assert_eq!(avc.codec, Codec::H264);
    }

    #[test]
    fn applies_mod_ex_and_multitrack() {
        // ModEx: 250_000 ns offset, then CodedFramesX.
        let frame = decode(b"\x97\x02\x03\xd0\x90\x03hvc1pic").unwrap().unwrap();
        assert_eq!(frame.dts, Timestamp(1_000_250));
        assert_eq!(frame.payload, &b"pic"[..]);

        // Multitrack, one track, id 0, CodedFrames with cts 0x10.
        let frame = decode(b"\x96\x01hvc1\x00\x00\x00\x10pic").unwrap().unwrap();
        assert_eq!(frame.pts, Timestamp::from_millis(1016));
        // Track 3 only: nothing for the engine.
        assert_eq!(decode(b"\x96\x03av01\x03pic"), Ok(None));
        assert_eq!(
            decode(b"\x96\x06av01\x00pic"),
            Err(FlvError::NestedMultitrack)
        );
    }

    #[test]
    fn refuses_bad_video() {
        assert_eq!(decode(&[0x12, 0]), Err(FlvError::UnsupportedVideoCodec(2)));
        assert_eq!(
            decode(&[0x07, 1, 0, 0, 0]),
            Err(FlvError::UnknownFrameType(0))
        );
        assert_eq!(
            decode(&[0x17, 0x05, 0, 0, 0]),
            Err(FlvError::UnknownPacketType {
                kind: "avc",
                packet_type: 5
            })
        );
        assert_eq!(
            decode(b"\x91vp08\x00"),
            Err(FlvError::UnsupportedFourCc(FourCc(*b"vp08")))
        );
        assert_eq!(
            decode(b"\x9ahvc1"),
            Err(FlvError::UnknownPacketType {
                kind: "video",
                packet_type: 10
            })
        );
        assert_eq!(
            decode(b"\x91hv"),
            Err(FlvError::Truncated {
                what: "video fourcc",
                offset: 1
            })
        );
        assert_eq!(
            decode(b"\x91hvc1\x00"),
            Err(FlvError::Truncated {
                what: "composition time",
                offset: 5
            })
        );
        assert_eq!(
            decode(b"\x96\x11hvc1\x00\x00\x00\x01\x00"),
            Err(FlvError::Truncated {
                what: "composition time",
                offset: 10
            })
        );
        assert_eq!(
            decode(&[0x17, 0x01, 0x00]),
            Err(FlvError::Truncated {
                what: "composition time",
                offset: 2
            })
        );
        assert_eq!(decode(b"\xe1hvc1"), Err(FlvError::UnknownFrameType(6)));
    }

    #[test]
    fn round_trips_every_codec() {
        let bodies: [&[u8]; 10] = [
            &[0x17, 0x00, 0, 0, 0, 1, 2, 3],
            &[0x17, 0x01, 0, 0, 0x50, 9],
            &[0x27, 0x01, 0xff, 0xff, 0xd8, 9],
            b"\x90hvc1cfg",
            b"\x91hvc1\x00\x00\x28pic",
            b"\xa3hvc1pic",
            b"\x90av01cfg",
            b"\xa1av01obu",
            b"\x90vp09cfg",
            b"\x91vp09frame",
        ];
        for body in bodies {
            let frame = decode(body).unwrap().unwrap();
            assert_eq!(encode_video_tag_body(&frame).unwrap(), body, "{body:02x?}");
        }
    }

    #[test]
    fn refuses_unencodable_frames() {
        let mut frame = decode(&[0x17, 0x01, 0, 0, 0, 9]).unwrap().unwrap();
        frame.pts = Timestamp::from_millis(1000 + (1 << 23));
        assert_eq!(
            encode_video_tag_body(&frame),
            Err(FlvError::CompositionTimeOutOfRange(1 << 23))
        );
        frame.pts = frame.dts;
        frame.codec = Codec::Vvc;
        assert_eq!(
            encode_video_tag_body(&frame),
            Err(FlvError::CannotEncode {
                codec: Codec::Vvc,
                tag: "video"
            })
        );
    }
}
