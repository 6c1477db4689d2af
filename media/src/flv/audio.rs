//! Audio tag bodies (RTMP audio messages) to and from [`MediaFrame`]s.
//!
//! Legacy layout (FLV 10.1 E.4.2.1): `SoundFormat:4 SoundRate:2 SoundSize:1
//! SoundType:1`, then for AAC an `AACPacketType` byte. Enhanced RTMP uses
//! sound format 9: the low four bits become the `AudioPacketType`, then
//! optional ModEx and multitrack fields and a FourCC.

use arcly_engine::{Codec, FrameFlags, MediaFrame};
use bytes::{BufMut, Bytes, BytesMut};

use super::{FlvError, FourCc, ex_header, frame_times};
use crate::byte_reader::ByteReader;

/// Legacy sound formats.
const FORMAT_MP3: u8 = 2;
const FORMAT_EX_HEADER: u8 = 9;
const FORMAT_AAC: u8 = 10;
const FORMAT_MP3_8K: u8 = 14;

/// `AACPacketType`.
const AAC_SEQUENCE_HEADER: u8 = 0;
const AAC_RAW: u8 = 1;

/// Enhanced `AudioPacketType`.
const SEQUENCE_START: u8 = 0;
const CODED_FRAMES: u8 = 1;
const SEQUENCE_END: u8 = 2;
const MULTICHANNEL_CONFIG: u8 = 4;
const MULTITRACK: u8 = 5;

/// The first byte of every legacy AAC body: the spec fixes the rate, size and
/// type bits to 44 kHz, 16-bit, stereo whatever the real stream is.
const AAC_HEADER: u8 = FORMAT_AAC << 4 | 0x0f;

/// Legacy rate/size/type bits for MP3 whose header cannot be read:
/// 44 kHz, 16-bit, stereo.
const MP3_DEFAULT_BITS: u8 = 0x0f;

/// Decodes an audio tag body (or RTMP audio message payload) whose timestamp
/// is `dts_ms`.
///
/// Returns `Ok(None)` for packets that carry no audio: an empty body (the
/// RTMP "silence" message), sequence end, multichannel config, an MP3
/// sequence start, a multitrack packet without track 0, and a config or
/// frame with no data.
///
/// AAC and Opus sequence starts become [`FrameFlags::CONFIG`] frames carrying
/// the AudioSpecificConfig or `OpusHead`; coded frames carry
/// [`FrameFlags::KEYFRAME`] because every AAC, MP3 and Opus frame can start
/// decoding. `pts` equals `dts` (plus an Enhanced RTMP nanosecond offset, at
/// microsecond precision).
pub fn decode_audio(dts_ms: i64, body: Bytes) -> Result<Option<MediaFrame>, FlvError> {
    let mut r = ByteReader::new(&body);
    let Ok(first) = r.u8("audio tag header") else {
        return Ok(None);
    };
    let (codec, config, nanos, payload) = match first >> 4 {
        FORMAT_AAC => match r.u8("aac packet type")? {
            AAC_SEQUENCE_HEADER => (Codec::Aac, true, 0, r.rest()),
            AAC_RAW => (Codec::Aac, false, 0, r.rest()),
            packet_type => {
                return Err(FlvError::UnknownPacketType {
                    kind: "aac",
                    packet_type,
                });
            }
        },
        FORMAT_MP3 | FORMAT_MP3_8K => (Codec::Mp3, false, 0, r.rest()),
        FORMAT_EX_HEADER => match decode_enhanced(first, &mut r)? {
            Some(packet) => packet,
            None => return Ok(None),
        },
        other => return Err(FlvError::UnsupportedAudioFormat(other)),
    };
    if payload.is_empty() {
        return Ok(None);
    }
    let flags = if config {
        FrameFlags::CONFIG
    } else {
        FrameFlags::KEYFRAME
    };
    let (dts, pts) = frame_times(dts_ms, nanos, 0);
    Ok(Some(MediaFrame {
        codec,
        dts,
        pts,
        flags,
        payload,
    }))
}

/// Codec, config or not, nanosecond offset and payload of an enhanced body.
type Enhanced = (Codec, bool, u32, Bytes);

fn decode_enhanced(first: u8, r: &mut ByteReader<'_>) -> Result<Option<Enhanced>, FlvError> {
    let (packet_type, nanos) = ex_header::read_mod_ex(r, first & 0x0f)?;
    let Some((packet_type, track)) =
        ex_header::read_track(r, packet_type, MULTITRACK, "audio fourcc")?
    else {
        return Ok(None);
    };
    let config = match packet_type {
        SEQUENCE_END | MULTICHANNEL_CONFIG => return Ok(None),
        SEQUENCE_START => true,
        CODED_FRAMES => false,
        packet_type => {
            return Err(FlvError::UnknownPacketType {
                kind: "audio",
                packet_type,
            });
        }
    };
    let codec = match track.fourcc {
        FourCc::MP4A => Codec::Aac,
        FourCc::OPUS => Codec::Opus,
        // MP3 frames carry their own headers; there is no config to keep.
        FourCc::MP3 if config => return Ok(None),
        FourCc::MP3 => Codec::Mp3,
        other => return Err(FlvError::UnsupportedFourCc(other)),
    };
    Ok(Some((codec, config, nanos, track.body)))
}

/// Encodes an audio frame as a tag body (or RTMP audio message payload).
///
/// AAC and MP3 use the legacy layout every player reads; Opus uses Enhanced
/// RTMP (`Opus`, `SequenceStart` for the config, `CodedFrames` otherwise).
/// For MP3 the legacy rate, size and type bits come from the frame's own
/// MP3 header (8 kHz streams use sound format 14), so a body whose first byte
/// disagrees with its MP3 header does not re-encode byte for byte.
///
/// Refused: codecs FLV has no audio header for (video, script).
pub fn encode_audio_tag_body(frame: &MediaFrame) -> Result<Bytes, FlvError> {
    let config = frame.is_config();
    let mut out = BytesMut::with_capacity(frame.payload.len() + 5);
    match frame.codec {
        Codec::Aac => {
            out.put_u8(AAC_HEADER);
            out.put_u8(if config { AAC_SEQUENCE_HEADER } else { AAC_RAW });
        }
        Codec::Mp3 => out.put_u8(mp3_header_byte(&frame.payload)),
        Codec::Opus => {
            let packet_type = if config { SEQUENCE_START } else { CODED_FRAMES };
            out.put_u8(FORMAT_EX_HEADER << 4 | packet_type);
            out.put_slice(&FourCc::OPUS.0);
        }
        codec => {
            return Err(FlvError::CannotEncode {
                codec,
                tag: "audio",
            });
        }
    }
    out.put_slice(&frame.payload);
    Ok(out.freeze())
}

/// The legacy first byte for an MP3 frame, from its MPEG audio header.
fn mp3_header_byte(frame: &[u8]) -> u8 {
    let Some(&[sync, b1, b2, b3]) = frame.first_chunk::<4>() else {
        return FORMAT_MP3 << 4 | MP3_DEFAULT_BITS;
    };
    let version = (b1 >> 3) & 0x03;
    let rate_index = (b2 >> 2) & 0x03;
    if sync != 0xff || b1 & 0xe0 != 0xe0 || version == 1 || rate_index == 3 {
        return FORMAT_MP3 << 4 | MP3_DEFAULT_BITS;
    }
    let rates: [u32; 3] = match version {
        3 => [44_100, 48_000, 32_000],
        2 => [22_050, 24_000, 16_000],
        _ => [11_025, 12_000, 8_000],
    };
    let rate = rates[usize::from(rate_index)];
    let stereo = u8::from(b3 >> 6 != 3);
    // SoundSize is always 16-bit for compressed formats.
    let size_and_type = 0x02 | stereo;
    if rate == 8_000 {
        return FORMAT_MP3_8K << 4 | size_and_type;
    }
    let rate_bits = match rate {
        32_000.. => 3,
        16_000.. => 2,
        _ => 1,
    };
    FORMAT_MP3 << 4 | rate_bits << 2 | size_and_type
}

#[cfg(test)]
mod tests {
    use arcly_engine::Timestamp;

    use super::*;

    fn decode(body: &[u8]) -> Result<Option<MediaFrame>, FlvError> {
        decode_audio(500, Bytes::copy_from_slice(body))
    }

    #[test]
    fn decodes_legacy_audio() {
        let config = decode(&[0xaf, 0x00, 0x12, 0x10]).unwrap().unwrap();
        assert_eq!(config.codec, Codec::Aac);
        assert!(config.is_config() && !config.is_keyframe());
        assert_eq!(config.payload, &[0x12, 0x10][..]);

        let raw = decode(&[0xaf, 0x01, 0x21, 0x00]).unwrap().unwrap();
        assert!(raw.is_keyframe() && !raw.is_config());
        assert_eq!(raw.dts, Timestamp::from_millis(500));
        assert_eq!(raw.pts, raw.dts);

        let mp3 = decode(&[0x2f, 0xff, 0xfb, 0x90, 0x64]).unwrap().unwrap();
        assert_eq!(mp3.codec, Codec::Mp3);
        assert_eq!(mp3.payload, &[0xff, 0xfb, 0x90, 0x64][..]);
        assert_eq!(decode(&[0xe2, 0xff]).unwrap().unwrap().codec, Codec::Mp3);
    }

    #[test]
    fn decodes_enhanced_audio() {
        let head = decode(b"\x90OpusOpusHead").unwrap().unwrap();
        assert_eq!(head.codec, Codec::Opus);
        assert!(head.is_config());
        let packet = decode(b"\x91Opus\xfc\xff").unwrap().unwrap();
        assert_eq!(
            (packet.codec, &packet.payload[..]),
            (Codec::Opus, &b"\xfc\xff"[..])
        );
        let aac = decode(b"\x90mp4a\x12\x10").unwrap().unwrap();
        assert_eq!(aac.codec, Codec::Aac);
        assert!(aac.is_config());
        let mp3 = decode(b"\x91.mp3\xff\xfb").unwrap().unwrap();
        assert_eq!(mp3.codec, Codec::Mp3);

        // ModEx with a 999_999 ns offset, then CodedFrames.
        let nano = decode(b"\x97\x02\x0f\x42\x3f\x01Opus\x01")
            .unwrap()
            .unwrap();
        assert_eq!(nano.dts, Timestamp(500_999));
        // Multitrack, many tracks: track 1 then track 0.
        let multi = decode(b"\x95\x11Opus\x01\x00\x00\x01a\x00\x00\x00\x01b")
            .unwrap()
            .unwrap();
        assert_eq!(multi.payload, &b"b"[..]);
    }

    #[test]
    fn ignores_packets_without_audio() {
        assert_eq!(decode(&[]), Ok(None));
        assert_eq!(decode(&[0xaf, 0x01]), Ok(None));
        assert_eq!(decode(&[0xaf, 0x00]), Ok(None));
        assert_eq!(decode(b"\x92Opus"), Ok(None));
        assert_eq!(decode(b"\x94Opus\x01\x02\x00\x01"), Ok(None));
        assert_eq!(decode(b"\x90.mp3"), Ok(None));
        assert_eq!(decode(b"\x95\x01Opus\x02x"), Ok(None));
    }

    #[test]
    fn refuses_bad_audio() {
        assert_eq!(decode(&[0x6e, 0]), Err(FlvError::UnsupportedAudioFormat(6)));
        assert_eq!(
            decode(&[0xaf, 0x02, 0]),
            Err(FlvError::UnknownPacketType {
                kind: "aac",
                packet_type: 2
            })
        );
        assert_eq!(
            decode(&[0xaf]),
            Err(FlvError::Truncated {
                what: "aac packet type",
                offset: 1
            })
        );
        assert_eq!(
            decode(b"\x91fLaC\x00"),
            Err(FlvError::UnsupportedFourCc(FourCc(*b"fLaC")))
        );
        assert_eq!(
            decode(b"\x93Opus\x00"),
            Err(FlvError::UnknownPacketType {
                kind: "audio",
                packet_type: 3
            })
        );
        assert_eq!(decode(b"\x95\x05Opus"), Err(FlvError::NestedMultitrack));
    }

    #[test]
    fn round_trips_every_codec() {
        let bodies: [&[u8]; 6] = [
            &[0xaf, 0x00, 0x12, 0x10],
            &[0xaf, 0x01, 0x21, 0x00],
            // MPEG-1 layer III, 44.1 kHz, joint stereo.
            &[0x2f, 0xff, 0xfb, 0x90, 0x64],
            // MPEG-2.5 layer III, 8 kHz, mono.
            &[0xe2, 0xff, 0xe3, 0x08, 0xc4],
            b"\x90OpusOpusHead",
            b"\x91Opus\xfc",
        ];
        for body in bodies {
            let frame = decode(body).unwrap().unwrap();
            assert_eq!(encode_audio_tag_body(&frame).unwrap(), body, "{body:02x?}");
        }
    }

    #[test]
    fn picks_mp3_header_bits() {
        // MPEG-1, 48 kHz, mono.
        assert_eq!(mp3_header_byte(&[0xff, 0xfb, 0x94, 0xc4]), 0x2e);
        // MPEG-2, 22.05 kHz, stereo.
        assert_eq!(mp3_header_byte(&[0xff, 0xf3, 0x80, 0x00]), 0x2b);
        // MPEG-2.5, 11.025 kHz, stereo.
        assert_eq!(mp3_header_byte(&[0xff, 0xe3, 0x00, 0x00]), 0x27);
        // Not an MP3 header.
        assert_eq!(mp3_header_byte(&[0x00, 0x01]), 0x2f);
        assert_eq!(mp3_header_byte(&[0xff, 0xfb, 0x9c, 0x00]), 0x2f);
    }

    #[test]
    fn refuses_unencodable_frames() {
        let mut frame = decode(&[0xaf, 0x01, 0x21]).unwrap().unwrap();
        frame.codec = Codec::H264;
        assert_eq!(
            encode_audio_tag_body(&frame),
            Err(FlvError::CannotEncode {
                codec: Codec::H264,
                tag: "audio"
            })
        );
    }
}
