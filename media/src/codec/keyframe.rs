//! Whether a coded frame is a random access point, read from the payload
//! itself rather than trusted from the container's keyframe flag.

use arcly_engine::Codec;

use super::bit_reader::BitReader;
use super::obu::{OBU_FRAME, OBU_FRAME_HEADER, OBU_SEQUENCE_HEADER, Obus};
use super::vp9_frame::{read_header, split_superframe};

/// Bytes in each NAL unit length prefix of the H.264, H.265 and VVC payload
/// convention.
const LENGTH_SIZE: usize = 4;

/// H.264 `nal_unit_type` of an IDR slice.
const H264_IDR: u8 = 5;

/// AV1 `frame_type` of a key frame.
const AV1_KEY_FRAME: u32 = 0;

/// Whether decoding can start at this frame: `Some(true)` for a random
/// access point, `Some(false)` for a frame that needs earlier ones, `None`
/// when the payload cannot be read (a NAL length or OBU size that runs past
/// the end, a VP9 frame without its marker).
///
/// `payload` follows the [`Codec`] conventions of [`MediaFrame`]:
/// - H.264: an IDR slice (NAL type 5) anywhere in the access unit.
/// - H.265: an IRAP slice (NAL types 16 to 23: BLA, IDR, CRA).
/// - VVC: an IRAP slice (NAL types 7 to 9: IDR, CRA).
/// - AV1: a sequence header OBU, or a frame (header) OBU that shows a new
///   key frame.
/// - VP9: a key frame (`frame_type` 0, not `show_existing_frame`), in any
///   frame of a superframe.
/// - Audio and script data: always, as every frame decodes on its own.
///
/// [`MediaFrame`]: arcly_engine::MediaFrame
pub fn is_random_access(codec: Codec, payload: &[u8]) -> Option<bool> {
    match codec {
        Codec::H264 => any_nal(payload, |header| header[0] & 0x1f == H264_IDR),
        Codec::H265 => any_nal(payload, |header| {
            header.len() >= 2 && (16..=23).contains(&((header[0] >> 1) & 0x3f))
        }),
        Codec::Vvc => any_nal(payload, |header| {
            header.len() >= 2 && (7..=9).contains(&(header[1] >> 3))
        }),
        Codec::Av1 => av1_random_access(payload),
        Codec::Vp9 => vp9_random_access(payload),
        Codec::Aac | Codec::Opus | Codec::Mp3 | Codec::Script => Some(true),
    }
}

/// Walks 4-byte length-prefixed NAL units; whether any satisfies `test`
/// (given the NAL unit, never empty). `None` if a length runs past the end.
fn any_nal(payload: &[u8], test: impl Fn(&[u8]) -> bool) -> Option<bool> {
    let mut rest = payload;
    let mut found = false;
    while !rest.is_empty() {
        let (prefix, tail) = rest.split_at_checked(LENGTH_SIZE)?;
        let len = usize::try_from(u32::from_be_bytes(prefix.try_into().ok()?)).ok()?;
        let (nal, tail) = tail.split_at_checked(len)?;
        found |= !nal.is_empty() && test(nal);
        rest = tail;
    }
    Some(found)
}

fn av1_random_access(payload: &[u8]) -> Option<bool> {
    let mut found = false;
    for obu in Obus::new(payload) {
        let obu = obu.ok()?;
        found |= match obu.kind {
            OBU_SEQUENCE_HEADER => true,
            OBU_FRAME_HEADER | OBU_FRAME => shows_new_key_frame(obu.payload)?,
            _ => false,
        };
    }
    Some(found)
}

/// The first bits of `uncompressed_header()` (AV1 spec 5.9.2), for a
/// sequence without `reduced_still_picture_header` (a stream that has one
/// sends its sequence header with every frame, which is caught first).
fn shows_new_key_frame(header: &[u8]) -> Option<bool> {
    let mut r = BitReader::new(header);
    let show_existing_frame = r.read_flag().ok()?;
    if show_existing_frame {
        return Some(false);
    }
    let frame_type = r.read_bits(2).ok()?;
    let show_frame = r.read_flag().ok()?;
    Some(frame_type == AV1_KEY_FRAME && show_frame)
}

fn vp9_random_access(payload: &[u8]) -> Option<bool> {
    let (frames, count) = split_superframe(payload)?;
    if count == 0 {
        return None;
    }
    let mut found = false;
    for frame in &frames[..count] {
        found |= read_header(frame).ok()?.key_frame;
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nals(units: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for unit in units {
            out.extend((unit.len() as u32).to_be_bytes());
            out.extend(*unit);
        }
        out
    }

    #[test]
    fn classifies_h264_and_h265() {
        let idr = nals(&[&[0x09, 0xf0], &[0x06, 0x05], &[0x65, 0x88]]);
        assert_eq!(is_random_access(Codec::H264, &idr), Some(true));
        let non_idr = nals(&[&[0x09, 0xf0], &[], &[0x41, 0x9a]]);
        assert_eq!(is_random_access(Codec::H264, &non_idr), Some(false));
        assert_eq!(is_random_access(Codec::H264, &[]), Some(false));
        assert_eq!(is_random_access(Codec::H264, &idr[..idr.len() - 1]), None);
        assert_eq!(is_random_access(Codec::H264, &[0, 0, 1]), None);

        // IDR_W_RADL (19), CRA (21), TRAIL_R (1), a one-byte unit.
        let idr = nals(&[&[0x4e, 0x01], &[0x26, 0x01, 0xaf]]);
        assert_eq!(is_random_access(Codec::H265, &idr), Some(true));
        let cra = nals(&[&[0x2a, 0x01, 0xaf]]);
        assert_eq!(is_random_access(Codec::H265, &cra), Some(true));
        let trail = nals(&[&[0x02, 0x01, 0xd0], &[0x26]]);
        assert_eq!(is_random_access(Codec::H265, &trail), Some(false));

        // VVC IDR_N_LP (8) and TRAIL (0).
        let vvc_idr = nals(&[&[0x00, 0x41, 0x80]]);
        assert_eq!(is_random_access(Codec::Vvc, &vvc_idr), Some(true));
        let vvc_trail = nals(&[&[0x00, 0x01, 0x80]]);
        assert_eq!(is_random_access(Codec::Vvc, &vvc_trail), Some(false));
    }

    #[test]
    fn classifies_av1() {
        // Temporal delimiter, then a sequence header.
        assert_eq!(
            is_random_access(Codec::Av1, &[0x12, 0x00, 0x0a, 0x01, 0x00]),
            Some(true)
        );
        // Frame OBUs: shown key frame (0 00 1), hidden key frame (0 00 0),
        // inter frame (0 01 1), show existing (1).
        assert_eq!(
            is_random_access(Codec::Av1, &[0x32, 0x01, 0x10]),
            Some(true)
        );
        assert_eq!(
            is_random_access(Codec::Av1, &[0x32, 0x01, 0x00]),
            Some(false)
        );
        assert_eq!(
            is_random_access(Codec::Av1, &[0x1a, 0x01, 0x30]),
            Some(false)
        );
        assert_eq!(
            is_random_access(Codec::Av1, &[0x1a, 0x01, 0x80]),
            Some(false)
        );
        // A hidden frame then a shown key frame header in one unit.
        assert_eq!(
            is_random_access(Codec::Av1, &[0x32, 0x01, 0x29, 0x1a, 0x01, 0x10]),
            Some(true)
        );
        // An empty frame OBU, an OBU running past the end.
        assert_eq!(is_random_access(Codec::Av1, &[0x32, 0x00]), None);
        assert_eq!(is_random_access(Codec::Av1, &[0x32, 0x05, 0x10]), None);
    }

    #[test]
    fn classifies_vp9_and_audio() {
        let key = [0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0e, 0xf6, 0x00];
        assert_eq!(is_random_access(Codec::Vp9, &key), Some(true));
        assert_eq!(is_random_access(Codec::Vp9, &[0x86, 0x00]), Some(false));
        assert_eq!(
            is_random_access(Codec::Vp9, &[0x82, 0x00, 0x00, 0x00]),
            None
        );
        assert_eq!(is_random_access(Codec::Vp9, &[]), None);
        assert_eq!(is_random_access(Codec::Vp9, &[0x00]), None);
        for codec in [Codec::Aac, Codec::Opus, Codec::Mp3, Codec::Script] {
            assert_eq!(is_random_access(codec, &[]), Some(true));
        }
    }
}
