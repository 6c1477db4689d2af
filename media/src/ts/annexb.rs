//! Length-prefixed NAL units (the MP4 / FLV layout of [`MediaFrame`]
//! payloads) to an Annex B byte stream, as H.222.0 carries H.264 and HEVC.
//!
//! Each access unit starts with an access unit delimiter, which H.222.0
//! 2.14.1 (H.264) and 2.17.1 (HEVC) require in a transport stream; a
//! keyframe's NAL units follow the parameter sets from the decoder
//! configuration, so that a player can start at any segment.
//!
//! The output is a list of slices of the frame, the track's parameter sets
//! and constants: the NAL units are copied once, into the TS packets.
//!
//! [`MediaFrame`]: arcly_engine::MediaFrame

use bytes::Bytes;

use super::TsError;

/// The 4-byte start code (`zero_byte` and `start_code_prefix_one_3bytes`),
/// before every NAL unit.
const START_CODE: &[u8] = &[0, 0, 0, 1];

/// H.264 AUD (type 9) with `primary_pic_type` 7 (any slice type) and the
/// stop bit.
const H264_AUD: &[u8] = &[0x09, 0xf0];

/// HEVC AUD (type 35, layer 0, temporal id 1) with `pic_type` 2 (I, P or
/// B slices) and the stop bit.
const HEVC_AUD: &[u8] = &[0x46, 0x01, 0x50];

/// The NAL unit syntax of a video track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NalSyntax {
    /// H.264: a 1-byte header with a 5-bit type.
    H264,
    /// HEVC: a 2-byte header with a 6-bit type.
    H265,
}

impl NalSyntax {
    fn nal_type(self, nal: &[u8]) -> u8 {
        match self {
            NalSyntax::H264 => nal[0] & 0x1f,
            NalSyntax::H265 => (nal[0] >> 1) & 0x3f,
        }
    }

    fn is_aud(self, nal: &[u8]) -> bool {
        let aud = match self {
            NalSyntax::H264 => 9,
            NalSyntax::H265 => 35,
        };
        self.nal_type(nal) == aud
    }

    fn is_sps(self, nal: &[u8]) -> bool {
        let sps = match self {
            NalSyntax::H264 => 7,
            NalSyntax::H265 => 33,
        };
        self.nal_type(nal) == sps
    }

    fn aud(self) -> &'static [u8] {
        match self {
            NalSyntax::H264 => H264_AUD,
            NalSyntax::H265 => HEVC_AUD,
        }
    }
}

/// Splits a payload of NAL units, each behind a big-endian length prefix of
/// `length_size` bytes (1, 2 or 4, checked by the caller). Empty NAL units
/// are dropped: they would be bare start codes.
pub(crate) fn split_nal_units(payload: &[u8], length_size: u8) -> Result<Vec<&[u8]>, TsError> {
    let size = usize::from(length_size);
    let mut nals = Vec::new();
    let mut offset = 0;
    while offset < payload.len() {
        let prefix = payload
            .get(offset..offset + size)
            .ok_or(TsError::NalLengthTruncated { offset })?;
        let length = prefix
            .iter()
            .fold(0u64, |len, &byte| (len << 8) | u64::from(byte));
        let start = offset + size;
        let available = payload.len() - start;
        if length > available as u64 {
            return Err(TsError::NalOverrun {
                offset,
                length,
                available,
            });
        }
        // length <= available, a usize.
        let end = start + length as usize;
        if end > start {
            nals.push(&payload[start..end]);
        }
        offset = end;
    }
    Ok(nals)
}

/// The Annex B pieces of one access unit: an AUD, then on keyframes the
/// `parameter_sets` (unless the access unit carries its own SPS), then the
/// NAL units, each behind a start code. AUDs already in the access unit are
/// dropped, as a second one would start a new access unit.
pub(crate) fn access_unit<'a>(
    syntax: NalSyntax,
    nals: &[&'a [u8]],
    parameter_sets: &'a [Bytes],
    keyframe: bool,
) -> Vec<&'a [u8]> {
    let mut pieces = Vec::with_capacity(2 * (1 + parameter_sets.len() + nals.len()));
    pieces.extend([START_CODE, syntax.aud()]);
    if keyframe && !nals.iter().any(|nal| syntax.is_sps(nal)) {
        for set in parameter_sets {
            pieces.extend([START_CODE, &set[..]]);
        }
    }
    for nal in nals.iter().filter(|nal| !syntax.is_aud(nal)) {
        pieces.extend([START_CODE, *nal]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(pieces: &[&[u8]]) -> Vec<u8> {
        pieces.concat()
    }

    #[test]
    fn splits_every_length_size() {
        let nals: [&[u8]; 3] = [&[0x65, 1, 2, 3], &[0x41], &[0x06, 9, 9]];
        for size in [1u8, 2, 4] {
            let mut payload = Vec::new();
            for nal in nals {
                let len = (nal.len() as u32).to_be_bytes();
                payload.extend_from_slice(&len[4 - usize::from(size)..]);
                payload.extend_from_slice(nal);
            }
            assert_eq!(split_nal_units(&payload, size).unwrap(), nals);
        }
    }

    #[test]
    fn refuses_lying_lengths() {
        assert_eq!(
            split_nal_units(&[0, 0, 0, 2, 0x65, 1, 0, 0], 4),
            Err(TsError::NalLengthTruncated { offset: 6 })
        );
        assert_eq!(
            split_nal_units(&[0, 0, 0, 1, 0x65, 0xff, 0xff, 0xff, 0xff, 1], 4),
            Err(TsError::NalOverrun {
                offset: 5,
                length: 0xffff_ffff,
                available: 1
            })
        );
        // Empty NAL units are skipped, not written as bare start codes.
        assert_eq!(
            split_nal_units(&[0, 0, 0, 1, 0x41], 2).unwrap(),
            [&[0x41][..]]
        );
    }

    #[test]
    fn keyframes_get_aud_and_parameter_sets() {
        let sets = [
            Bytes::from_static(&[0x67, 0x64]),
            Bytes::from_static(&[0x68, 0xeb]),
        ];
        let idr: &[u8] = &[0x65, 0x88];
        let key = access_unit(NalSyntax::H264, &[idr], &sets, true);
        assert_eq!(
            joined(&key),
            [
                0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0, 0, 0, 1, 0x68, 0xeb, 0, 0, 0, 1,
                0x65, 0x88
            ]
        );
        let delta = access_unit(NalSyntax::H264, &[&[0x41, 0x9a]], &sets, false);
        assert_eq!(
            joined(&delta),
            [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a]
        );
    }

    #[test]
    fn in_band_aud_and_sps_are_not_doubled() {
        let sets = [Bytes::from_static(&[0x67, 0x64])];
        let nals: [&[u8]; 3] = [&[0x09, 0x10], &[0x67, 0x4d], &[0x65, 0x88]];
        let key = access_unit(NalSyntax::H264, &nals, &sets, true);
        assert_eq!(
            joined(&key),
            [
                0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x4d, 0, 0, 0, 1, 0x65, 0x88
            ]
        );
    }

    #[test]
    fn hevc_uses_its_own_nal_types() {
        let sets = [
            Bytes::from_static(&[0x40, 0x01]),
            Bytes::from_static(&[0x42, 0x01]),
            Bytes::from_static(&[0x44, 0x01]),
        ];
        // An AUD (35) to drop and an IDR_W_RADL (19).
        let nals: [&[u8]; 2] = [&[0x46, 0x01, 0x10], &[0x26, 0x01, 0xaf]];
        let key = access_unit(NalSyntax::H265, &nals, &sets, true);
        assert_eq!(
            joined(&key),
            [
                0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x40, 0x01, 0, 0, 0, 1, 0x42, 0x01, 0, 0,
                0, 1, 0x44, 0x01, 0, 0, 0, 1, 0x26, 0x01, 0xaf
            ]
        );
    }
}
