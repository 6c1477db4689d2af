//! The VP9 codec configuration box body (`vpcC`, VP Codec ISO Media File
//! Format Binding v1.0) and its codec string.

use bytes::Bytes;

use super::CodecError;
use crate::byte_reader::ByteReader;

/// A `vpcC` box body: the FullBox version and flags, then the
/// `VPCodecConfigurationRecord`. It is the payload of a VP9 config
/// [`MediaFrame`].
///
/// The record carries no picture size; read it from the first keyframe with
/// [`vp9_frame_size`](super::vp9_frame_size).
///
/// [`MediaFrame`]: arcly_engine::MediaFrame
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpCodecConfig {
    /// The FullBox flags (0).
    pub flags: u32,
    /// `profile`: 0 to 3.
    pub profile: u8,
    /// `level`: ten times the level (10 = level 1, 21 = level 2.1).
    pub level: u8,
    /// `bitDepth`: 8, 10 or 12.
    pub bit_depth: u8,
    /// `chromaSubsampling`: 0 4:2:0 vertical, 1 4:2:0 colocated, 2 4:2:2,
    /// 3 4:4:4.
    pub chroma_subsampling: u8,
    /// `videoFullRangeFlag`.
    pub full_range: bool,
    /// `colourPrimaries` (ISO/IEC 23091-4).
    pub colour_primaries: u8,
    /// `transferCharacteristics`.
    pub transfer_characteristics: u8,
    /// `matrixCoefficients`.
    pub matrix_coefficients: u8,
    /// `codecIntializationData` (empty for VP9), a zero-copy slice of the
    /// record.
    pub codec_initialization_data: Bytes,
}

impl VpCodecConfig {
    /// Reads a `vpcC` box body, FullBox header included. Only version 1 is
    /// accepted: version 0 was a draft with another field layout.
    pub fn decode(body: &Bytes) -> Result<VpCodecConfig, CodecError> {
        let mut r = ByteReader::new(body);
        let version = r.u8("vpcC version")?;
        if version != 1 {
            return Err(CodecError::UnsupportedVersion {
                what: "vpcC",
                version,
            });
        }
        let flags = r.u24("vpcC flags")?;
        let profile = r.u8("vpcC profile")?;
        let level = r.u8("vpcC level")?;
        let packed = r.u8("vpcC bit depth")?;
        let colour_primaries = r.u8("vpcC colour primaries")?;
        let transfer_characteristics = r.u8("vpcC transfer characteristics")?;
        let matrix_coefficients = r.u8("vpcC matrix coefficients")?;
        let init_len = usize::from(r.u16("vpcC init data size")?);
        let codec_initialization_data = r.take(init_len, "vpcC init data")?;
        Ok(VpCodecConfig {
            flags,
            profile,
            level,
            bit_depth: packed >> 4,
            chroma_subsampling: (packed >> 1) & 0x07,
            full_range: packed & 0x01 != 0,
            colour_primaries,
            transfer_characteristics,
            matrix_coefficients,
            codec_initialization_data,
        })
    }

    /// The codec string of the binding, short form `vp09.PP.LL.DD`:
    /// two-digit profile, level and bit depth (e.g. `vp09.00.10.08`).
    pub fn codec_string(&self) -> String {
        format!(
            "vp09.{:02}.{:02}.{:02}",
            self.profile, self.level, self.bit_depth
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `vpcC` ffmpeg wrote for libvpx-vp9, 320x240 10-bit 4:2:0.
    const LIBVPX_10BIT: &[u8] = &[
        0x01, 0x00, 0x00, 0x00, 0x02, 0x14, 0xa2, 0x02, 0x02, 0x02, 0x00, 0x00,
    ];

    #[test]
    fn reads_libvpx_record() {
        let config = VpCodecConfig::decode(&Bytes::from_static(LIBVPX_10BIT)).unwrap();
        assert_eq!(
            (config.profile, config.level, config.bit_depth),
            (2, 20, 10)
        );
        assert_eq!(config.chroma_subsampling, 1);
        assert!(!config.full_range);
        assert_eq!(config.colour_primaries, 2);
        assert!(config.codec_initialization_data.is_empty());
        assert_eq!(config.codec_string(), "vp09.02.20.10");
    }

    #[test]
    fn refuses_bad_records() {
        let mut old = LIBVPX_10BIT.to_vec();
        old[0] = 0;
        assert_eq!(
            VpCodecConfig::decode(&Bytes::from(old)),
            Err(CodecError::UnsupportedVersion {
                what: "vpcC",
                version: 0
            })
        );
        for len in 0..LIBVPX_10BIT.len() {
            assert!(VpCodecConfig::decode(&Bytes::copy_from_slice(&LIBVPX_10BIT[..len])).is_err());
        }
        let mut long_init = LIBVPX_10BIT.to_vec();
        long_init[11] = 4;
        long_init.extend([1, 2, 3]);
        assert_eq!(
            VpCodecConfig::decode(&Bytes::from(long_init)),
            Err(CodecError::Truncated {
                what: "vpcC init data",
                offset: 12
            })
        );
    }
}
