//! The AV1 sequence header OBU (AV1 spec 5.5): profile, level, the largest
//! picture size, timing and colour configuration.

use super::CodecError;
use super::bit_reader::BitReader;

/// Largest `seq_profile` defined (2, Professional); 3 to 7 are reserved.
const MAX_PROFILE: u32 = 2;

/// `color_primaries` BT.709, `transfer_characteristics` sRGB and
/// `matrix_coefficients` identity: the one colour description that implies
/// full-range 4:4:4.
const CP_BT_709: u8 = 1;
const TC_SRGB: u8 = 13;
const MC_IDENTITY: u8 = 0;

/// "Unspecified", the value of each colour field when no description is
/// present.
const UNSPECIFIED: u8 = 2;

/// What arcly reads from an AV1 sequence header OBU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Av1SequenceHeader {
    /// `seq_profile`: 0 Main, 1 High, 2 Professional.
    pub seq_profile: u8,
    /// `still_picture`.
    pub still_picture: bool,
    /// `reduced_still_picture_header`.
    pub reduced_still_picture_header: bool,
    /// `seq_level_idx[0]`: the level of operating point 0 (0 = level 2.0,
    /// 8 = 4.0, 31 = unconstrained).
    pub seq_level_idx_0: u8,
    /// `seq_tier[0]`: false Main, true High.
    pub seq_tier_0: bool,
    /// `max_frame_width_minus_1` + 1.
    pub max_frame_width: u32,
    /// `max_frame_height_minus_1` + 1.
    pub max_frame_height: u32,
    /// Timing information, if the encoder wrote it.
    pub timing: Option<Av1Timing>,
    /// `frame_id_numbers_present_flag`.
    pub frame_id_numbers_present: bool,
    /// The colour configuration.
    pub color: Av1ColorConfig,
    /// `film_grain_params_present`.
    pub film_grain_params_present: bool,
}

/// `timing_info()` of an AV1 sequence header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Av1Timing {
    /// `num_units_in_display_tick`.
    pub num_units_in_display_tick: u32,
    /// `time_scale` (ticks per second).
    pub time_scale: u32,
    /// `num_ticks_per_picture_minus_1` + 1, when `equal_picture_interval`.
    pub num_ticks_per_picture: Option<u64>,
}

/// `color_config()` of an AV1 sequence header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Av1ColorConfig {
    /// Sample bit depth: 8, 10 or 12.
    pub bit_depth: u8,
    /// `mono_chrome`.
    pub mono_chrome: bool,
    /// `color_primaries` (ISO/IEC 23091-4; 2 when not described).
    pub color_primaries: u8,
    /// `transfer_characteristics` (2 when not described).
    pub transfer_characteristics: u8,
    /// `matrix_coefficients` (2 when not described).
    pub matrix_coefficients: u8,
    /// `color_range`: true for full range.
    pub full_range: bool,
    /// `subsampling_x`.
    pub subsampling_x: bool,
    /// `subsampling_y`.
    pub subsampling_y: bool,
    /// `chroma_sample_position`: 0 unknown, 1 vertical, 2 colocated.
    pub chroma_sample_position: u8,
}

impl Av1SequenceHeader {
    /// Parses the payload of a sequence header OBU (after the OBU header and
    /// size field).
    pub fn decode(payload: &[u8]) -> Result<Av1SequenceHeader, CodecError> {
        let mut r = BitReader::new(payload);
        let seq_profile = r.read_bits(3)?;
        if seq_profile > MAX_PROFILE {
            return Err(CodecError::OutOfRange {
                what: "seq_profile",
                value: u64::from(seq_profile),
                limit: u64::from(MAX_PROFILE),
            });
        }
        let still_picture = r.read_flag()?;
        let reduced_still_picture_header = r.read_flag()?;
        let mut timing = None;
        let seq_level_idx_0;
        let mut seq_tier_0 = false;
        if reduced_still_picture_header {
            seq_level_idx_0 = r.read_bits(5)? as u8;
        } else {
            let mut buffer_delay_bits = None;
            if r.read_flag()? {
                timing = Some(read_timing(&mut r)?);
                if r.read_flag()? {
                    // decoder_model_info()
                    buffer_delay_bits = Some(r.read_bits(5)? as usize + 1);
                    r.skip_bits(32 + 5 + 5)?;
                }
            }
            let initial_display_delay_present = r.read_flag()?;
            let operating_points = r.read_bits(5)? + 1;
            let mut first = None;
            for _ in 0..operating_points {
                r.skip_bits(12)?; // operating_point_idc
                let level = r.read_bits(5)? as u8;
                let tier = level > 7 && r.read_flag()?;
                first.get_or_insert((level, tier));
                if let Some(bits) = buffer_delay_bits
                    && r.read_flag()?
                {
                    // operating_parameters_info(): two delays and a flag.
                    r.skip_bits(2 * bits + 1)?;
                }
                if initial_display_delay_present && r.read_flag()? {
                    r.skip_bits(4)?;
                }
            }
            // There is at least one operating point.
            (seq_level_idx_0, seq_tier_0) = first.unwrap_or_default();
        }
        let width_bits = r.read_bits(4)? + 1;
        let height_bits = r.read_bits(4)? + 1;
        // At most 16 bits each, so the sums fit.
        let max_frame_width = r.read_bits(width_bits)? + 1;
        let max_frame_height = r.read_bits(height_bits)? + 1;
        let frame_id_numbers_present = !reduced_still_picture_header && r.read_flag()?;
        if frame_id_numbers_present {
            r.skip_bits(4 + 3)?;
        }
        // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
        r.skip_bits(3)?;
        if !reduced_still_picture_header {
            // interintra, masked compound, warped motion, dual filter
            r.skip_bits(4)?;
            let enable_order_hint = r.read_flag()?;
            if enable_order_hint {
                r.skip_bits(2)?; // enable_jnt_comp, enable_ref_frame_mvs
            }
            let choose_screen_content_tools = r.read_flag()?;
            let force_screen_content_tools = choose_screen_content_tools || r.read_flag()?;
            if force_screen_content_tools && !r.read_flag()? {
                r.skip_bits(1)?; // seq_force_integer_mv
            }
            if enable_order_hint {
                r.skip_bits(3)?; // order_hint_bits_minus_1
            }
        }
        r.skip_bits(3)?; // enable_superres, enable_cdef, enable_restoration
        let color = read_color_config(&mut r, seq_profile)?;
        let film_grain_params_present = r.read_flag()?;
        Ok(Av1SequenceHeader {
            // At most 2.
            seq_profile: seq_profile as u8,
            still_picture,
            reduced_still_picture_header,
            seq_level_idx_0,
            seq_tier_0,
            max_frame_width,
            max_frame_height,
            timing,
            frame_id_numbers_present,
            color,
            film_grain_params_present,
        })
    }

    /// Frames per second from the timing information, if present with an
    /// equal picture interval.
    pub fn frame_rate(&self) -> Option<f64> {
        let timing = self.timing?;
        let ticks = timing.num_ticks_per_picture?;
        if timing.num_units_in_display_tick == 0 || timing.time_scale == 0 {
            return None;
        }
        Some(
            f64::from(timing.time_scale)
                / (f64::from(timing.num_units_in_display_tick) * ticks as f64),
        )
    }
}

fn read_timing(r: &mut BitReader<'_>) -> Result<Av1Timing, CodecError> {
    let num_units_in_display_tick = r.read_bits(32)?;
    let time_scale = r.read_bits(32)?;
    let num_ticks_per_picture = if r.read_flag()? {
        Some(read_uvlc(r)? + 1)
    } else {
        None
    };
    Ok(Av1Timing {
        num_units_in_display_tick,
        time_scale,
        num_ticks_per_picture,
    })
}

/// `uvlc()` (AV1 spec 4.10.3): at 32 or more leading zeros the value is
/// 2^32 - 1 and no suffix is read.
fn read_uvlc(r: &mut BitReader<'_>) -> Result<u64, CodecError> {
    let mut zeros = 0u32;
    while !r.read_flag()? {
        zeros += 1;
    }
    if zeros >= 32 {
        return Ok(u64::from(u32::MAX));
    }
    Ok(u64::from(r.read_bits(zeros)?) + (1u64 << zeros) - 1)
}

fn read_color_config(r: &mut BitReader<'_>, profile: u32) -> Result<Av1ColorConfig, CodecError> {
    let high_bitdepth = r.read_flag()?;
    let bit_depth = match (profile, high_bitdepth) {
        (2, true) if r.read_flag()? => 12,
        (_, true) => 10,
        (_, false) => 8,
    };
    let mono_chrome = profile != 1 && r.read_flag()?;
    let (color_primaries, transfer_characteristics, matrix_coefficients) = if r.read_flag()? {
        (r.read_u8()?, r.read_u8()?, r.read_u8()?)
    } else {
        (UNSPECIFIED, UNSPECIFIED, UNSPECIFIED)
    };
    let mut color = Av1ColorConfig {
        bit_depth,
        mono_chrome,
        color_primaries,
        transfer_characteristics,
        matrix_coefficients,
        full_range: true,
        subsampling_x: true,
        subsampling_y: true,
        chroma_sample_position: 0,
    };
    if mono_chrome {
        color.full_range = r.read_flag()?;
        return Ok(color);
    }
    if (
        color_primaries,
        transfer_characteristics,
        matrix_coefficients,
    ) == (CP_BT_709, TC_SRGB, MC_IDENTITY)
    {
        (color.subsampling_x, color.subsampling_y) = (false, false);
    } else {
        color.full_range = r.read_flag()?;
        (color.subsampling_x, color.subsampling_y) = match profile {
            0 => (true, true),
            1 => (false, false),
            _ if bit_depth == 12 => {
                let x = r.read_flag()?;
                (x, x && r.read_flag()?)
            }
            _ => (true, false),
        };
        if color.subsampling_x && color.subsampling_y {
            color.chroma_sample_position = r.read_bits(2)? as u8;
        }
    }
    r.skip_bits(1)?; // separate_uv_delta_q
    Ok(color)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequence header libaom wrote for 320x240 8-bit 4:2:0 (from the
    /// `av1C` ffmpeg muxed).
    const LIBAOM_320X240: &[u8] = &[
        0x00, 0x00, 0x00, 0x04, 0x3c, 0xff, 0xbc, 0xda, 0xf9, 0x00, 0x40,
    ];

    #[test]
    fn reads_libaom_sequence_header() {
        let seq = Av1SequenceHeader::decode(LIBAOM_320X240).unwrap();
        assert_eq!(seq.seq_profile, 0);
        assert_eq!((seq.seq_level_idx_0, seq.seq_tier_0), (0, false));
        assert_eq!((seq.max_frame_width, seq.max_frame_height), (320, 240));
        assert_eq!(seq.timing, None);
        assert_eq!(seq.frame_rate(), None);
        assert_eq!(seq.color.bit_depth, 8);
        assert!(!seq.color.mono_chrome);
        assert!(seq.color.subsampling_x && seq.color.subsampling_y);
        assert_eq!(seq.color.color_primaries, UNSPECIFIED);
    }

    #[test]
    fn reads_timing_and_operating_points() {
        // Profile 0, timing with 1/30 s and equal intervals of 1 tick,
        // decoder model (buffer delay 10 bits), initial display delay, two
        // operating points: level 9 high tier with a decoder model, then
        // level 0. 1920x1080 in 11-bit fields, 10-bit BT.709.
        let bits = [
            "000 0 0",
            "1",
            "00000000000000000000000000000001",
            "00000000000000000000000000011110",
            "1 1",
            "1 01001 00000000000000000000000000000001 11111 11111",
            "1 00001",
            "000000000000 01001 1 1 0000000001 0000000010 1 0",
            "000000000000 00000 0 1 0011",
            "1010 1010 11101111111 10000110111",
            "0 000 0000 0 1 1 000",
            "1 0 1 00000001 00000001 00000001 0 10 0 0",
        ]
        .concat();
        let seq = Av1SequenceHeader::decode(&pack(&bits)).unwrap();
        assert_eq!((seq.seq_level_idx_0, seq.seq_tier_0), (9, true));
        assert_eq!((seq.max_frame_width, seq.max_frame_height), (1920, 1080));
        assert_eq!(seq.frame_rate(), Some(30.0));
        assert_eq!(seq.color.bit_depth, 10);
        assert_eq!(seq.color.color_primaries, 1);
        assert!(!seq.color.full_range);
        assert_eq!(seq.color.chroma_sample_position, 2);
    }

    #[test]
    fn reads_reduced_still_picture_header() {
        // Profile 1, still, reduced, level 4; 64x64 in 6-bit fields; 4:4:4
        // with no colour description.
        let bits = "001 1 1 00100 0101 0101 111111 111111 000 000 0 0 1 0 0";
        let seq = Av1SequenceHeader::decode(&pack(bits)).unwrap();
        assert!(seq.still_picture && seq.reduced_still_picture_header);
        assert_eq!(seq.seq_level_idx_0, 4);
        assert_eq!((seq.max_frame_width, seq.max_frame_height), (64, 64));
        assert!(!seq.color.subsampling_x && !seq.color.subsampling_y);
    }

    #[test]
    fn refuses_bad_headers() {
        assert!(matches!(
            Av1SequenceHeader::decode(&[0xe0]),
            Err(CodecError::OutOfRange {
                what: "seq_profile",
                ..
            })
        ));
        for len in 0..LIBAOM_320X240.len() - 1 {
            assert!(Av1SequenceHeader::decode(&LIBAOM_320X240[..len]).is_err());
        }
        // uvlc with 40 leading zeros ends without a suffix.
        let mut r = BitReader::new(&[0, 0, 0, 0, 0, 0x80]);
        assert_eq!(read_uvlc(&mut r), Ok(u64::from(u32::MAX)));
        assert!(read_uvlc(&mut BitReader::new(&[0; 4])).is_err());
    }

    fn pack(bits: &str) -> Vec<u8> {
        let bits: Vec<u8> = bits.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        bits.chunks(8)
            .map(|chunk| {
                chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, bit)| **bit == b'1')
                    .fold(0u8, |byte, (i, _)| byte | 0x80 >> i)
            })
            .collect()
    }
}
