//! The H.265 decoder configuration record (`hvcC`, ISO/IEC 14496-15 8.3.3)
//! and its codec string (Annex E.3).

use std::fmt::Write as _;

use bytes::Bytes;

use super::{CodecError, HevcSps};
use crate::byte_reader::ByteReader;

/// `nal_unit_type` of a video parameter set.
pub(crate) const NAL_VPS: u8 = 32;
/// `nal_unit_type` of a sequence parameter set.
pub(crate) const NAL_SPS: u8 = 33;
/// `nal_unit_type` of a picture parameter set.
pub(crate) const NAL_PPS: u8 = 34;

/// Bytes before the first NAL unit array.
const FIXED_LEN: usize = 23;

/// An `HEVCDecoderConfigurationRecord`: what an H.265 decoder needs before
/// the first frame. It is the payload of an H.265 config [`MediaFrame`].
///
/// The `general_*` fields repeat the `profile_tier_level()` of the SPS, so
/// the codec string can be written without parsing it. NAL units are
/// zero-copy slices of the record they were read from.
///
/// [`MediaFrame`]: arcly_engine::MediaFrame
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HevcDecoderConfig {
    /// `configurationVersion`: 1, or 0 as some pre-standard muxers wrote.
    pub version: u8,
    /// `general_profile_space` (0 in every profile defined so far).
    pub general_profile_space: u8,
    /// `general_tier_flag`: false for the Main tier, true for High.
    pub general_tier_flag: bool,
    /// `general_profile_idc`: 1 Main, 2 Main 10, 3 Main Still Picture,
    /// 4 range extensions ...
    pub general_profile_idc: u8,
    /// `general_profile_compatibility_flags`, flag 0 in the most significant
    /// bit as in the bitstream.
    pub general_profile_compatibility_flags: u32,
    /// The 48 bits of `general_constraint_indicator_flags`, starting with the
    /// byte that holds `general_progressive_source_flag`.
    pub general_constraint_indicator_flags: [u8; 6],
    /// `general_level_idc`: thirty times the level (93 = level 3.1).
    pub general_level_idc: u8,
    /// `min_spatial_segmentation_idc`.
    pub min_spatial_segmentation_idc: u16,
    /// `parallelismType`: 0 unknown or mixed, 1 slices, 2 tiles, 3 wavefront.
    pub parallelism_type: u8,
    /// `chromaFormat`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format: u8,
    /// Luma sample bit depth (8 to 15).
    pub bit_depth_luma: u8,
    /// Chroma sample bit depth (8 to 15).
    pub bit_depth_chroma: u8,
    /// `avgFrameRate` in frames per 256 seconds; 0 means unspecified.
    pub avg_frame_rate: u16,
    /// `constantFrameRate`: 0 unknown, 1 constant, 2 constant per layer.
    pub constant_frame_rate: u8,
    /// `numTemporalLayers`; 0 means unknown.
    pub num_temporal_layers: u8,
    /// `temporalIdNested`.
    pub temporal_id_nested: bool,
    /// Bytes in each NAL unit length prefix of the frames: 1, 2 or 4.
    pub length_size: u8,
    /// The NAL unit arrays, in record order.
    pub arrays: Vec<HevcNalArray>,
}

/// One array of an `hvcC` record: NAL units of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HevcNalArray {
    /// `array_completeness`: every NAL unit of this type is in the record,
    /// none in the samples.
    pub complete: bool,
    /// `NAL_unit_type`: 32 VPS, 33 SPS, 34 PPS, 39/40 SEI.
    pub nal_unit_type: u8,
    /// The NAL units, two-byte header included, emulation prevention bytes
    /// in place.
    pub nal_units: Vec<Bytes>,
}

impl HevcDecoderConfig {
    /// Reads a record. NAL units share `record`'s buffer.
    pub fn decode(record: &Bytes) -> Result<HevcDecoderConfig, CodecError> {
        let mut r = ByteReader::new(record);
        let version = r.u8("hvcC version")?;
        // ffmpeg's decoder still accepts 0, written before the 3rd edition
        // of 14496-15 fixed the value at 1.
        if version > 1 {
            return Err(CodecError::UnsupportedVersion {
                what: "hvcC",
                version,
            });
        }
        if r.remaining() < FIXED_LEN - 1 {
            return Err(CodecError::Truncated {
                what: "hvcC header",
                offset: r.position(),
            });
        }
        let profile = r.u8("hvcC profile")?;
        let general_profile_compatibility_flags = u32::from_be_bytes(r.four("hvcC compat")?);
        let mut general_constraint_indicator_flags = [0u8; 6];
        for byte in &mut general_constraint_indicator_flags {
            *byte = r.u8("hvcC constraint flags")?;
        }
        let general_level_idc = r.u8("hvcC level")?;
        let min_spatial_segmentation_idc = r.u16("hvcC min spatial segmentation")? & 0x0fff;
        let parallelism_type = r.u8("hvcC parallelism")? & 0x03;
        let chroma_format = r.u8("hvcC chroma format")? & 0x03;
        let bit_depth_luma = (r.u8("hvcC luma bit depth")? & 0x07) + 8;
        let bit_depth_chroma = (r.u8("hvcC chroma bit depth")? & 0x07) + 8;
        let avg_frame_rate = r.u16("hvcC avg frame rate")?;
        let layers = r.u8("hvcC length size")?;
        let length_size = (layers & 0x03) + 1;
        if length_size == 3 {
            return Err(CodecError::BadLengthSize(length_size));
        }
        let array_count = usize::from(r.u8("hvcC array count")?);
        // Each array takes at least three bytes: bound the allocation by
        // what was received.
        let mut arrays = Vec::with_capacity(array_count.min(r.remaining() / 3));
        for _ in 0..array_count {
            arrays.push(read_array(&mut r)?);
        }
        Ok(HevcDecoderConfig {
            version,
            general_profile_space: profile >> 6,
            general_tier_flag: profile & 0x20 != 0,
            general_profile_idc: profile & 0x1f,
            general_profile_compatibility_flags,
            general_constraint_indicator_flags,
            general_level_idc,
            min_spatial_segmentation_idc,
            parallelism_type,
            chroma_format,
            bit_depth_luma,
            bit_depth_chroma,
            avg_frame_rate,
            constant_frame_rate: layers >> 6,
            num_temporal_layers: (layers >> 3) & 0x07,
            temporal_id_nested: layers & 0x04 != 0,
            length_size,
            arrays,
        })
    }

    /// The NAL units of arrays of type `nal_unit_type`, in record order.
    pub fn nal_units(&self, nal_unit_type: u8) -> impl Iterator<Item = &Bytes> + '_ {
        self.arrays
            .iter()
            .filter(move |array| array.nal_unit_type == nal_unit_type)
            .flat_map(|array| array.nal_units.iter())
    }

    /// The parameter sets a decoder needs in front of the first picture: every
    /// VPS, then every SPS, then every PPS, whatever the record's order (as an
    /// Annex B stream must carry them).
    pub fn parameter_sets(&self) -> impl Iterator<Item = &Bytes> + '_ {
        self.nal_units(NAL_VPS)
            .chain(self.nal_units(NAL_SPS))
            .chain(self.nal_units(NAL_PPS))
    }

    /// The codec string of ISO/IEC 14496-15 Annex E.3 for an `hvc1` sample
    /// entry, e.g. `hvc1.1.6.L93.B0` for Main profile level 3.1.
    ///
    /// Fields: the profile space letter (none, `A`, `B`, `C`) and profile
    /// idc; the compatibility flags with their bit order reversed, in hex;
    /// `L` (Main tier) or `H` (High tier) and the level idc; then each
    /// constraint byte in hex, trailing zero bytes left out.
    pub fn codec_string(&self) -> String {
        let space = ["", "A", "B", "C"][usize::from(self.general_profile_space & 0x03)];
        let mut out = format!(
            "hvc1.{space}{}.{:X}.{}{}",
            self.general_profile_idc,
            self.general_profile_compatibility_flags.reverse_bits(),
            if self.general_tier_flag { 'H' } else { 'L' },
            self.general_level_idc,
        );
        let flags = &self.general_constraint_indicator_flags;
        let used = flags.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        for byte in &flags[..used] {
            // Writing to a String cannot fail.
            let _ = write!(out, ".{byte:X}");
        }
        out
    }

    /// Frames per second from `avgFrameRate`, if the muxer wrote one.
    pub fn frame_rate(&self) -> Option<f64> {
        (self.avg_frame_rate != 0).then(|| f64::from(self.avg_frame_rate) / 256.0)
    }

    /// The first SPS, parsed; `None` if the record carries no SPS.
    pub fn first_sps(&self) -> Result<Option<HevcSps>, CodecError> {
        self.nal_units(NAL_SPS)
            .next()
            .map(|nal| HevcSps::decode(nal))
            .transpose()
    }
}

fn read_array(r: &mut ByteReader<'_>) -> Result<HevcNalArray, CodecError> {
    let kind = r.u8("hvcC array type")?;
    let count = usize::from(r.u16("hvcC nal count")?);
    // Each NAL unit takes at least its two length bytes.
    let mut nal_units = Vec::with_capacity(count.min(r.remaining() / 2));
    for _ in 0..count {
        let len = usize::from(r.u16("hvcC nal length")?);
        nal_units.push(r.take(len, "hvcC nal unit")?);
    }
    Ok(HevcNalArray {
        complete: kind & 0x80 != 0,
        nal_unit_type: kind & 0x3f,
        nal_units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with one VPS, SPS and PPS each (arrays in PPS, VPS, SPS
    /// order) and the fields x265 writes for Main profile level 3.1.
    fn record(profile: u8, compat: u32, constraints: [u8; 6], level: u8) -> Vec<u8> {
        let mut out = vec![1, profile];
        out.extend(compat.to_be_bytes());
        out.extend(constraints);
        out.extend([
            level, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 3,
        ]);
        for (kind, nal) in [
            (34u8, &[0x44u8, 0x01, 0xc1][..]),
            (32, &[0x40, 0x01, 0x0c]),
            (33, &[0x42, 0x01, 0x01]),
        ] {
            out.extend([0x80 | kind, 0, 1, 0, nal.len() as u8]);
            out.extend(nal);
        }
        out
    }

    #[test]
    fn reads_fields_and_orders_parameter_sets() {
        let bytes = Bytes::from(record(0x01, 0x6000_0000, [0x90, 0, 0, 0, 0, 0], 93));
        let config = HevcDecoderConfig::decode(&bytes).unwrap();
        assert_eq!(config.general_profile_idc, 1);
        assert!(!config.general_tier_flag);
        assert_eq!(config.general_level_idc, 93);
        assert_eq!(config.chroma_format, 1);
        assert_eq!((config.bit_depth_luma, config.bit_depth_chroma), (8, 8));
        assert_eq!(config.length_size, 4);
        assert_eq!(config.num_temporal_layers, 1);
        assert!(config.temporal_id_nested);
        assert_eq!(config.frame_rate(), None);
        assert_eq!(config.arrays.len(), 3);
        assert!(config.arrays.iter().all(|a| a.complete));
        let types: Vec<u8> = config
            .parameter_sets()
            .map(|nal| (nal[0] >> 1) & 0x3f)
            .collect();
        assert_eq!(types, [32, 33, 34]);
        assert_eq!(config.codec_string(), "hvc1.1.6.L93.90");
    }

    #[test]
    fn writes_annex_e_codec_strings() {
        let cases = [
            // Main 10, Main tier level 5.1, progressive + frame only.
            (
                (0x02, 0x2000_0000, [0xb0, 0, 0, 0, 0, 0], 153),
                "hvc1.2.4.L153.B0",
            ),
            // High tier, profile space 1, two constraint bytes.
            (
                (0x61, 0x6000_0000, [0x90, 0x08, 0, 0, 0, 0], 120),
                "hvc1.A1.6.H120.90.8",
            ),
            // Range extensions, no constraint byte set.
            ((0x04, 0x0800_0000, [0; 6], 90), "hvc1.4.10.L90"),
        ];
        for ((profile, compat, constraints, level), expected) in cases {
            let bytes = Bytes::from(record(profile, compat, constraints, level));
            let config = HevcDecoderConfig::decode(&bytes).unwrap();
            assert_eq!(config.codec_string(), expected);
        }
    }

    #[test]
    fn refuses_bad_records() {
        let good = record(0x01, 0x6000_0000, [0x90, 0, 0, 0, 0, 0], 93);
        let mut bad = good.clone();
        bad[0] = 2;
        assert_eq!(
            HevcDecoderConfig::decode(&Bytes::from(bad)),
            Err(CodecError::UnsupportedVersion {
                what: "hvcC",
                version: 2
            })
        );
        let mut bad = good.clone();
        bad[21] = 0xfe;
        assert_eq!(
            HevcDecoderConfig::decode(&Bytes::from(bad)),
            Err(CodecError::BadLengthSize(3))
        );
        assert_eq!(
            HevcDecoderConfig::decode(&Bytes::copy_from_slice(&good[..10])),
            Err(CodecError::Truncated {
                what: "hvcC header",
                offset: 1
            })
        );
        for len in 0..good.len() {
            assert!(HevcDecoderConfig::decode(&Bytes::copy_from_slice(&good[..len])).is_err());
        }
        // 65,535 NAL units announced, none present: refused, not allocated.
        let mut huge = good[..FIXED_LEN - 1].to_vec();
        huge.extend([1, 0x20, 0xff, 0xff]);
        assert!(matches!(
            HevcDecoderConfig::decode(&Bytes::from(huge)),
            Err(CodecError::Truncated {
                what: "hvcC nal length",
                ..
            })
        ));
    }
}
