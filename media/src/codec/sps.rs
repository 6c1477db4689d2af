//! The H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1): picture size,
//! profile, bit depth and, when the encoder wrote VUI timing, frame rate.

use super::CodecError;
use super::bit_reader::BitReader;
use super::rbsp;

/// `nal_unit_type` of a sequence parameter set.
const NAL_SPS: u8 = 7;

/// Largest accepted picture width or height, in pixels. H.264 level 6.2
/// allows 8192x4320; a larger value is a corrupt or hostile SPS.
pub const MAX_PICTURE_DIMENSION: u32 = 16_384;

/// Profiles whose SPS carries chroma format, bit depth and scaling lists.
const CHROMA_PROFILES: [u8; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

/// Sample aspect ratios for `aspect_ratio_idc` 1 to 16 (Table E-1).
const SAR_TABLE: [(u16, u16); 16] = [
    (1, 1),
    (12, 11),
    (10, 11),
    (16, 11),
    (40, 33),
    (24, 11),
    (20, 11),
    (32, 11),
    (80, 33),
    (18, 11),
    (15, 11),
    (64, 33),
    (160, 99),
    (4, 3),
    (3, 2),
    (2, 1),
];

/// `aspect_ratio_idc` meaning the ratio follows explicitly.
const EXTENDED_SAR: u8 = 255;

/// What arcly reads from an H.264 SPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`.
    pub profile_idc: u8,
    /// The `constraint_set0..5` flags byte.
    pub constraint_flags: u8,
    /// `level_idc` (31 = level 3.1).
    pub level_idc: u8,
    /// `seq_parameter_set_id`.
    pub id: u32,
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u32,
    /// Luma bit depth.
    pub bit_depth_luma: u8,
    /// Chroma bit depth.
    pub bit_depth_chroma: u8,
    /// Displayed width in pixels (after cropping).
    pub width: u32,
    /// Displayed height in pixels (after cropping).
    pub height: u32,
    /// Whether every picture is a frame (no interlaced fields).
    pub frame_mbs_only: bool,
    /// Sample aspect ratio `(width, height)` if the VUI gives one.
    pub sample_aspect_ratio: Option<(u16, u16)>,
    /// VUI timing, if the encoder wrote it.
    pub timing: Option<SpsTiming>,
}

/// VUI timing information of an SPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpsTiming {
    /// `num_units_in_tick`.
    pub num_units_in_tick: u32,
    /// `time_scale` (ticks per second).
    pub time_scale: u32,
    /// `fixed_frame_rate_flag`.
    pub fixed_frame_rate: bool,
}

impl Sps {
    /// Parses an SPS NAL unit, header byte included, emulation prevention
    /// bytes not yet removed (as it comes in `avcC` or an Annex B stream).
    pub fn decode(nal: &[u8]) -> Result<Sps, CodecError> {
        let header = *nal.first().ok_or(CodecError::Truncated {
            what: "sps nal header",
            offset: 0,
        })?;
        if header & 0x1f != NAL_SPS {
            return Err(CodecError::NotSps(header & 0x1f));
        }
        let rbsp = rbsp::unescape(&nal[1..]);
        let mut r = BitReader::new(&rbsp);
        let profile_idc = r.read_u8()?;
        let constraint_flags = r.read_u8()?;
        let level_idc = r.read_u8()?;
        let id = r.read_ue_max("seq_parameter_set_id", 31)?;

        let mut chroma_format_idc = 1;
        let mut separate_colour_plane = false;
        let mut bit_depth_luma = 8;
        let mut bit_depth_chroma = 8;
        if CHROMA_PROFILES.contains(&profile_idc) {
            chroma_format_idc = r.read_ue_max("chroma_format_idc", 3)?;
            if chroma_format_idc == 3 {
                separate_colour_plane = r.read_flag()?;
            }
            // Both minus-8 values are at most 6, so the sums fit in a u8.
            bit_depth_luma = 8 + r.read_ue_max("bit_depth_luma_minus8", 6)? as u8;
            bit_depth_chroma = 8 + r.read_ue_max("bit_depth_chroma_minus8", 6)? as u8;
            r.skip_bits(1)?; // qpprime_y_zero_transform_bypass_flag
            if r.read_flag()? {
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if r.read_flag()? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }

        r.read_ue_max("log2_max_frame_num_minus4", 12)?;
        match r.read_ue_max("pic_order_cnt_type", 2)? {
            0 => {
                r.read_ue_max("log2_max_pic_order_cnt_lsb_minus4", 12)?;
            }
            1 => {
                r.skip_bits(1)?; // delta_pic_order_always_zero_flag
                r.read_se()?; // offset_for_non_ref_pic
                r.read_se()?; // offset_for_top_to_bottom_field
                let cycle = r.read_ue_max("num_ref_frames_in_pic_order_cnt_cycle", 255)?;
                for _ in 0..cycle {
                    r.read_se()?; // offset_for_ref_frame
                }
            }
            _ => {}
        }
        r.read_ue()?; // max_num_ref_frames
        r.skip_bits(1)?; // gaps_in_frame_num_value_allowed_flag
        let max_mbs = MAX_PICTURE_DIMENSION / 16;
        let width_mbs = r.read_ue_max("pic_width_in_mbs_minus1", max_mbs - 1)? + 1;
        let height_map_units = r.read_ue_max("pic_height_in_map_units_minus1", max_mbs - 1)? + 1;
        let frame_mbs_only = r.read_flag()?;
        if !frame_mbs_only {
            r.skip_bits(1)?; // mb_adaptive_frame_field_flag
        }
        r.skip_bits(1)?; // direct_8x8_inference_flag

        let coded_width = width_mbs * 16;
        let coded_height = height_map_units * 16 * if frame_mbs_only { 1 } else { 2 };
        if coded_height > MAX_PICTURE_DIMENSION {
            // Field coding doubles the map units: bound the frame height.
            return Err(CodecError::OutOfRange {
                what: "coded frame height",
                value: u64::from(coded_height),
                limit: u64::from(MAX_PICTURE_DIMENSION),
            });
        }
        let (mut width, mut height) = (coded_width, coded_height);
        if r.read_flag()? {
            let chroma_array_type = if separate_colour_plane {
                0
            } else {
                chroma_format_idc
            };
            let (unit_x, sub_height): (u64, u64) = match chroma_array_type {
                1 => (2, 2),
                2 => (2, 1),
                _ => (1, 1),
            };
            let unit_y = sub_height * if frame_mbs_only { 1 } else { 2 };
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

        let (sample_aspect_ratio, timing) = if r.read_flag()? {
            read_vui(&mut r)?
        } else {
            (None, None)
        };

        Ok(Sps {
            profile_idc,
            constraint_flags,
            level_idc,
            id,
            chroma_format_idc,
            bit_depth_luma,
            bit_depth_chroma,
            width,
            height,
            frame_mbs_only,
            sample_aspect_ratio,
            timing,
        })
    }

    /// Frames per second from the VUI timing, if present and non-zero.
    ///
    /// H.264 counts ticks per field, so a frame lasts two ticks.
    pub fn frame_rate(&self) -> Option<f64> {
        let timing = self.timing?;
        if timing.num_units_in_tick == 0 || timing.time_scale == 0 {
            return None;
        }
        Some(f64::from(timing.time_scale) / (2.0 * f64::from(timing.num_units_in_tick)))
    }
}

/// Skips a `scaling_list()` of `size` coefficients (7.3.2.1.1.1).
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), CodecError> {
    let mut last = 8i32;
    let mut next = 8i32;
    for _ in 0..size {
        if next != 0 {
            let delta = r.read_se()?;
            // delta_scale is -128..=127 in a valid stream; widen so a
            // hostile one cannot overflow.
            next = (i64::from(last) + i64::from(delta)).rem_euclid(256) as i32;
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

type Vui = (Option<(u16, u16)>, Option<SpsTiming>);

/// Reads the VUI up to the timing information (Annex E.1.1); what follows
/// (HRD, bitstream restriction) is not needed.
fn read_vui(r: &mut BitReader<'_>) -> Result<Vui, CodecError> {
    let mut sar = None;
    if r.read_flag()? {
        let idc = r.read_u8()?;
        if idc == EXTENDED_SAR {
            // 16-bit fields.
            let w = r.read_bits(16)? as u16;
            let h = r.read_bits(16)? as u16;
            sar = Some((w, h));
        } else if (1..=16).contains(&idc) {
            sar = Some(SAR_TABLE[usize::from(idc) - 1]);
        }
    }
    if r.read_flag()? {
        r.skip_bits(1)?; // overscan_appropriate_flag
    }
    if r.read_flag()? {
        r.skip_bits(4)?; // video_format, video_full_range_flag
        if r.read_flag()? {
            r.skip_bits(24)?; // colour_primaries, transfer, matrix
        }
    }
    if r.read_flag()? {
        r.read_ue()?; // chroma_sample_loc_type_top_field
        r.read_ue()?; // chroma_sample_loc_type_bottom_field
    }
    let mut timing = None;
    if r.read_flag()? {
        timing = Some(SpsTiming {
            num_units_in_tick: r.read_bits(32)?,
            time_scale: r.read_bits(32)?,
            fixed_frame_rate: r.read_flag()?,
        });
    }
    Ok((sar, timing))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fuzz_found_inputs_are_refused_without_panic() {
        // From fuzz/artifacts-found/codec_records (cargo fuzz, 2026-11-22).
        let interlaced_too_tall = [0x27, 0x67, 0x00, 0x00, 0xfe, 0x00, 0xfe, 0x00];
        let err = super::Sps::decode(&interlaced_too_tall).unwrap_err();
        assert!(err.to_string().contains("coded frame height"), "{err}");
        let scaling_delta_overflow = [
            0x67, 0x64, 0x00, 0x00, 0xad, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xfe, 0x80,
        ];
        // Overflowed (and panicked in debug builds) before; now it parses on.
        let _ = super::Sps::decode(&scaling_delta_overflow);
    }

    use super::*;

    /// x264, High profile, 320x240, 25 fps, yuv420p.
    const X264_SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
        0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
    ];

    #[test]
    fn reads_x264_sps() {
        let sps = Sps::decode(X264_SPS).unwrap();
        assert_eq!(sps.profile_idc, 100);
        assert_eq!(sps.level_idc, 13);
        assert_eq!(sps.chroma_format_idc, 1);
        assert_eq!((sps.bit_depth_luma, sps.bit_depth_chroma), (8, 8));
        assert_eq!((sps.width, sps.height), (320, 240));
        assert!(sps.frame_mbs_only);
        assert_eq!(sps.sample_aspect_ratio, Some((1, 1)));
        assert_eq!(sps.frame_rate(), Some(25.0));
    }

    /// Baseline 1280x720: 80x45 macroblocks, no cropping, no VUI.
    #[test]
    fn reads_baseline_720p() {
        // profile 66, constraints 0xc0, level 31, id 0 (1), log2_max_frame_num_minus4 0 (1),
        // poc type 2 (011), max_num_ref_frames 1 (010), gaps 0,
        // width_mbs_minus1 79 (0000001010000), height_map_units_minus1 44 (00000101101),
        // frame_mbs_only 1, direct_8x8 1, cropping 0, vui 0, stop bit.
        let bits = "1 1 011 010 0 0000001010000 00000101101 1 1 0 0 1";
        let nal = nal_from_bits(&[0x67, 66, 0xc0, 31], bits);
        let sps = Sps::decode(&nal).unwrap();
        assert_eq!((sps.width, sps.height), (1280, 720));
        assert_eq!(sps.timing, None);
        assert_eq!(sps.frame_rate(), None);
    }

    /// Main profile 1920x1080: 68 rows of macroblocks cropped by 8 lines.
    #[test]
    fn applies_cropping() {
        // width_mbs_minus1 119 (0000001111000), height_map_units_minus1 67
        // (0000001000100), cropping 1 with bottom 4 (00101) in 2-line units.
        let bits = "1 1 011 010 0 0000001111000 0000001000100 1 1 1 1 1 1 00101 0 1";
        let nal = nal_from_bits(&[0x67, 77, 0x40, 40], bits);
        let sps = Sps::decode(&nal).unwrap();
        assert_eq!((sps.width, sps.height), (1920, 1080));
    }

    #[test]
    fn refuses_bad_sps() {
        assert_eq!(Sps::decode(&[0x68, 1, 2]), Err(CodecError::NotSps(8)));
        assert!(matches!(
            Sps::decode(&X264_SPS[..6]),
            Err(CodecError::BitstreamEnd { .. })
        ));
        // width_mbs_minus1 of 1024 is beyond MAX_PICTURE_DIMENSION.
        let bits = "1 1 011 010 0 000000000010000000001";
        let nal = nal_from_bits(&[0x67, 66, 0, 31], bits);
        assert!(matches!(
            Sps::decode(&nal),
            Err(CodecError::OutOfRange {
                what: "pic_width_in_mbs_minus1",
                ..
            })
        ));
        for len in 0..X264_SPS.len() {
            let _ = Sps::decode(&X264_SPS[..len]);
        }
    }

    fn nal_from_bits(prefix: &[u8], bits: &str) -> Vec<u8> {
        let mut out = prefix.to_vec();
        let bits: Vec<u8> = bits.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
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
}
