//! The H.265 sequence parameter set (ITU-T H.265 7.3.2.2), read as far as
//! the bit depths: profile, level, chroma format and the displayed picture
//! size.
//!
//! What follows the bit depths (reference picture sets, then the VUI with
//! the frame rate) takes a far larger parser; the frame rate comes from the
//! `hvcC` record instead when the muxer wrote one.

use super::bit_reader::BitReader;
use super::hevc::NAL_SPS;
use super::{CodecError, MAX_PICTURE_DIMENSION, rbsp};

/// Largest `sps_max_sub_layers_minus1` (H.265 allows up to 7 sub-layers).
const MAX_SUB_LAYERS_MINUS1: u32 = 6;

/// Bits of the per-sub-layer profile fields: space, tier, idc,
/// compatibility flags and constraint flags.
const SUB_LAYER_PROFILE_BITS: usize = 2 + 1 + 5 + 32 + 48;

/// What arcly reads from an H.265 SPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HevcSps {
    /// `sps_video_parameter_set_id`.
    pub vps_id: u8,
    /// `sps_max_sub_layers_minus1` + 1.
    pub max_sub_layers: u8,
    /// `general_profile_space`.
    pub profile_space: u8,
    /// `general_tier_flag`: false Main, true High.
    pub tier_flag: bool,
    /// `general_profile_idc`: 1 Main, 2 Main 10 ...
    pub profile_idc: u8,
    /// `general_profile_compatibility_flags`, flag 0 in the top bit.
    pub profile_compatibility_flags: u32,
    /// `general_level_idc` (thirty times the level).
    pub level_idc: u8,
    /// `sps_seq_parameter_set_id` (0 to 15).
    pub id: u32,
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u32,
    /// `separate_colour_plane_flag`.
    pub separate_colour_plane: bool,
    /// `pic_width_in_luma_samples`: the coded width.
    pub coded_width: u32,
    /// `pic_height_in_luma_samples`: the coded height.
    pub coded_height: u32,
    /// Displayed width in pixels (after the conformance window).
    pub width: u32,
    /// Displayed height in pixels (after the conformance window).
    pub height: u32,
    /// Luma bit depth (8 to 16).
    pub bit_depth_luma: u8,
    /// Chroma bit depth (8 to 16).
    pub bit_depth_chroma: u8,
}

impl HevcSps {
    /// Parses an SPS NAL unit, two-byte header included, emulation
    /// prevention bytes not yet removed (as it comes in `hvcC` or an Annex B
    /// stream).
    pub fn decode(nal: &[u8]) -> Result<HevcSps, CodecError> {
        let header = nal.get(..2).ok_or(CodecError::Truncated {
            what: "hevc sps nal header",
            offset: 0,
        })?;
        let nal_type = (header[0] >> 1) & 0x3f;
        if nal_type != NAL_SPS {
            return Err(CodecError::NotHevcSps(nal_type));
        }
        let rbsp = rbsp::unescape(&nal[2..]);
        let mut r = BitReader::new(&rbsp);
        // Each field is at most 4 or 3 bits wide.
        let vps_id = r.read_bits(4)? as u8;
        let max_sub_layers_minus1 = r.read_bits(3)?;
        if max_sub_layers_minus1 > MAX_SUB_LAYERS_MINUS1 {
            return Err(CodecError::OutOfRange {
                what: "sps_max_sub_layers_minus1",
                value: u64::from(max_sub_layers_minus1),
                limit: u64::from(MAX_SUB_LAYERS_MINUS1),
            });
        }
        r.skip_bits(1)?; // sps_temporal_id_nesting_flag

        // profile_tier_level(1, sps_max_sub_layers_minus1), 7.3.3.
        let profile = r.read_u8()?;
        let profile_compatibility_flags = r.read_bits(32)?;
        r.skip_bits(48)?; // general constraint flags
        let level_idc = r.read_u8()?;
        skip_sub_layers(&mut r, max_sub_layers_minus1 as usize)?;

        let id = r.read_ue_max("sps_seq_parameter_set_id", 15)?;
        let chroma_format_idc = r.read_ue_max("chroma_format_idc", 3)?;
        let separate_colour_plane = chroma_format_idc == 3 && r.read_flag()?;
        let coded_width = r.read_ue_max("pic_width_in_luma_samples", MAX_PICTURE_DIMENSION)?;
        let coded_height = r.read_ue_max("pic_height_in_luma_samples", MAX_PICTURE_DIMENSION)?;
        if coded_width == 0 || coded_height == 0 {
            return Err(CodecError::BadCropping {
                coded_width,
                coded_height,
            });
        }
        let (mut width, mut height) = (coded_width, coded_height);
        if r.read_flag()? {
            // Offsets count chroma samples: SubWidthC and SubHeightC, Table 6-1.
            let (unit_x, unit_y): (u64, u64) = match (chroma_format_idc, separate_colour_plane) {
                (1, _) => (2, 2),
                (2, _) => (2, 1),
                _ => (1, 1),
            };
            let left = u64::from(r.read_ue()?);
            let right = u64::from(r.read_ue()?);
            let top = u64::from(r.read_ue()?);
            let bottom = u64::from(r.read_ue()?);
            let crop_x = unit_x * (left + right);
            let crop_y = unit_y * (top + bottom);
            if crop_x >= u64::from(coded_width) || crop_y >= u64::from(coded_height) {
                return Err(CodecError::BadCropping {
                    coded_width,
                    coded_height,
                });
            }
            // Both crops are below the coded size, which fits in a u32.
            width = coded_width - crop_x as u32;
            height = coded_height - crop_y as u32;
        }
        // Both minus-8 values are at most 8, so the sums fit in a u8.
        let bit_depth_luma = 8 + r.read_ue_max("bit_depth_luma_minus8", 8)? as u8;
        let bit_depth_chroma = 8 + r.read_ue_max("bit_depth_chroma_minus8", 8)? as u8;

        Ok(HevcSps {
            vps_id,
            // At most 7.
            max_sub_layers: max_sub_layers_minus1 as u8 + 1,
            profile_space: profile >> 6,
            tier_flag: profile & 0x20 != 0,
            profile_idc: profile & 0x1f,
            profile_compatibility_flags,
            level_idc,
            id,
            chroma_format_idc,
            separate_colour_plane,
            coded_width,
            coded_height,
            width,
            height,
            bit_depth_luma,
            bit_depth_chroma,
        })
    }
}

/// Skips the sub-layer part of `profile_tier_level()`: the present flags,
/// the alignment bits, then each present profile (88 bits) and level (8).
fn skip_sub_layers(r: &mut BitReader<'_>, count: usize) -> Result<(), CodecError> {
    let mut present = [(false, false); MAX_SUB_LAYERS_MINUS1 as usize];
    for layer in present.iter_mut().take(count) {
        *layer = (r.read_flag()?, r.read_flag()?);
    }
    if count > 0 {
        r.skip_bits(2 * (8 - count))?; // reserved_zero_2bits
    }
    for &(profile, level) in present.iter().take(count) {
        if profile {
            r.skip_bits(SUB_LAYER_PROFILE_BITS)?;
        }
        if level {
            r.skip_bits(8)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SPS from its fields after the NAL header, written bit by bit.
    fn sps(fields: &str) -> Vec<u8> {
        let bits: Vec<u8> = fields
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let mut out = vec![0x42, 0x01];
        for chunk in bits.chunks(8) {
            let mut byte = 0u8;
            for (i, bit) in chunk.iter().enumerate() {
                if *bit == b'1' {
                    byte |= 0x80 >> i;
                }
            }
            out.push(byte);
        }
        out
    }

    /// profile_tier_level for Main, level 4 (120), no sub-layers.
    const PTL_MAIN: &str = "00 0 00001 01100000000000000000000000000000
        100100000000000000000000000000000000000000000000 01111000";

    #[test]
    fn reads_1080p_with_conformance_window() {
        // vps 0, one sub-layer, nesting 1; PTL; sps id 0 (1); chroma 1 (010);
        // width 1920 (0 x10, 1, 1110000001 - 1920+1 = 1921 = 11110000001);
        // height 1088 (1089 = 10001000001); window: 0, 0, 0, 4 (00101) with
        // SubHeightC 2; bit depths 0, 0; trailing bit.
        let fields = format!(
            "0000 000 1 {PTL_MAIN} 1 010 0000000000 11110000001 0000000000 10001000001
             1 1 1 1 00101 1 1 1"
        );
        let sps = HevcSps::decode(&sps(&fields)).unwrap();
        assert_eq!((sps.profile_idc, sps.level_idc), (1, 120));
        assert_eq!(sps.profile_compatibility_flags, 0x6000_0000);
        assert_eq!(sps.chroma_format_idc, 1);
        assert_eq!((sps.coded_width, sps.coded_height), (1920, 1088));
        assert_eq!((sps.width, sps.height), (1920, 1080));
        assert_eq!((sps.bit_depth_luma, sps.bit_depth_chroma), (8, 8));
    }

    #[test]
    fn skips_sub_layer_profiles_and_levels() {
        // Three sub-layers (minus1 = 2): layer 0 has a profile and a level,
        // layer 1 a level only; then 6 x 2 alignment bits.
        let sub_profile = "0".repeat(SUB_LAYER_PROFILE_BITS);
        let fields = format!(
            "0001 010 1 {PTL_MAIN} 11 01 000000000000 {sub_profile} 10101010 01010101
             1 010 00000000101000001 000000011110001 0 011 011 1"
        );
        let sps = HevcSps::decode(&sps(&fields)).unwrap();
        assert_eq!(sps.vps_id, 1);
        assert_eq!(sps.max_sub_layers, 3);
        assert_eq!((sps.width, sps.height), (320, 240));
        assert_eq!((sps.bit_depth_luma, sps.bit_depth_chroma), (10, 10));
    }

    #[test]
    fn refuses_bad_sps() {
        assert_eq!(
            HevcSps::decode(&[0x40, 0x01, 0]),
            Err(CodecError::NotHevcSps(32))
        );
        assert!(matches!(
            HevcSps::decode(&[0x42]),
            Err(CodecError::Truncated { .. })
        ));
        let seven = format!("0000 111 1 {PTL_MAIN}");
        assert!(matches!(
            HevcSps::decode(&sps(&seven)),
            Err(CodecError::OutOfRange {
                what: "sps_max_sub_layers_minus1",
                ..
            })
        ));
        // A window as wide as the picture.
        let fields = format!(
            "0000 000 1 {PTL_MAIN} 1 010 00000000101000001 000000011110001 1 000000010100001 1 1 1 1 1 1"
        );
        assert_eq!(
            HevcSps::decode(&sps(&fields)),
            Err(CodecError::BadCropping {
                coded_width: 320,
                coded_height: 240
            })
        );
        let zero = format!("0000 000 1 {PTL_MAIN} 1 010 1 1 0 1 1");
        assert!(matches!(
            HevcSps::decode(&sps(&zero)),
            Err(CodecError::BadCropping { .. })
        ));
        let good = sps(&format!(
            "0000 000 1 {PTL_MAIN} 1 010 00000000101000001 000000011110001 0 1 1 1"
        ));
        assert!(HevcSps::decode(&good).is_ok());
        for len in 0..good.len() - 1 {
            assert!(HevcSps::decode(&good[..len]).is_err());
        }
    }
}
