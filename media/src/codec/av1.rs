//! The AV1 codec configuration record (`av1C`, AV1 Codec ISO Media File
//! Format Binding 2.3) and its codec string.

use bytes::Bytes;

use super::obu::{OBU_SEQUENCE_HEADER, Obus};
use super::{Av1SequenceHeader, CodecError};
use crate::byte_reader::ByteReader;

/// An `AV1CodecConfigurationRecord`: the profile, level and colour format
/// of an AV1 track, and the OBUs (a sequence header, maybe metadata) a
/// decoder needs first. It is the payload of an AV1 config [`MediaFrame`].
///
/// [`MediaFrame`]: arcly_engine::MediaFrame
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Av1CodecConfig {
    /// `seq_profile`: 0 Main, 1 High, 2 Professional.
    pub seq_profile: u8,
    /// `seq_level_idx_0`: 0 = level 2.0, 8 = 4.0 ... 31 = unconstrained.
    pub seq_level_idx_0: u8,
    /// `seq_tier_0`: false Main, true High.
    pub seq_tier_0: bool,
    /// `high_bitdepth`.
    pub high_bitdepth: bool,
    /// `twelve_bit`.
    pub twelve_bit: bool,
    /// `monochrome`.
    pub monochrome: bool,
    /// `chroma_subsampling_x`.
    pub chroma_subsampling_x: bool,
    /// `chroma_subsampling_y`.
    pub chroma_subsampling_y: bool,
    /// `chroma_sample_position`: 0 unknown, 1 vertical, 2 colocated.
    pub chroma_sample_position: u8,
    /// `initial_presentation_delay_minus_one` + 1, if present.
    pub initial_presentation_delay: Option<u8>,
    /// `configOBUs`, in the low-overhead format; a zero-copy slice of the
    /// record.
    pub config_obus: Bytes,
}

impl Av1CodecConfig {
    /// Reads a record. `configOBUs` shares `record`'s buffer; it is not
    /// parsed until [`sequence_header`](Self::sequence_header) is called.
    pub fn decode(record: &Bytes) -> Result<Av1CodecConfig, CodecError> {
        let mut r = ByteReader::new(record);
        let first = r.u8("av1C marker")?;
        if first & 0x80 == 0 {
            return Err(CodecError::Invalid {
                what: "av1C marker bit",
                offset: 0,
            });
        }
        let version = first & 0x7f;
        if version != 1 {
            return Err(CodecError::UnsupportedVersion {
                what: "av1C",
                version,
            });
        }
        let profile = r.u8("av1C profile")?;
        let flags = r.u8("av1C flags")?;
        let delay = r.u8("av1C presentation delay")?;
        Ok(Av1CodecConfig {
            seq_profile: profile >> 5,
            seq_level_idx_0: profile & 0x1f,
            seq_tier_0: flags & 0x80 != 0,
            high_bitdepth: flags & 0x40 != 0,
            twelve_bit: flags & 0x20 != 0,
            monochrome: flags & 0x10 != 0,
            chroma_subsampling_x: flags & 0x08 != 0,
            chroma_subsampling_y: flags & 0x04 != 0,
            chroma_sample_position: flags & 0x03,
            initial_presentation_delay: (delay & 0x10 != 0).then_some((delay & 0x0f) + 1),
            config_obus: r.rest(),
        })
    }

    /// Bits per sample: 8, 10 or 12.
    pub fn bit_depth(&self) -> u8 {
        match (self.high_bitdepth, self.twelve_bit) {
            (true, true) => 12,
            (true, false) => 10,
            (false, _) => 8,
        }
    }

    /// The codec string of the AV1-ISOBMFF binding, short form
    /// `av01.P.LLT.DD`: profile, two-digit level, tier `M` or `H`, two-digit
    /// bit depth (e.g. `av01.0.08M.08` for Main profile level 4.0, 8-bit).
    pub fn codec_string(&self) -> String {
        format!(
            "av01.{}.{:02}{}.{:02}",
            self.seq_profile,
            self.seq_level_idx_0,
            if self.seq_tier_0 { 'H' } else { 'M' },
            self.bit_depth()
        )
    }

    /// The sequence header OBU of `configOBUs`, parsed; `None` if the record
    /// carries none (the binding allows an empty `configOBUs`).
    pub fn sequence_header(&self) -> Result<Option<Av1SequenceHeader>, CodecError> {
        for obu in Obus::new(&self.config_obus) {
            let obu = obu?;
            if obu.kind == OBU_SEQUENCE_HEADER {
                return Av1SequenceHeader::decode(obu.payload).map(Some);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `av1C` ffmpeg wrote for libaom, 320x240 8-bit 4:2:0.
    const LIBAOM_AV1C: &[u8] = &[
        0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0b, 0x00, 0x00, 0x00, 0x04, 0x3c, 0xff, 0xbc, 0xda, 0xf9,
        0x00, 0x40,
    ];

    #[test]
    fn reads_libaom_record() {
        let config = Av1CodecConfig::decode(&Bytes::from_static(LIBAOM_AV1C)).unwrap();
        assert_eq!((config.seq_profile, config.seq_level_idx_0), (0, 0));
        assert!(!config.seq_tier_0);
        assert_eq!(config.bit_depth(), 8);
        assert!(config.chroma_subsampling_x && config.chroma_subsampling_y);
        assert_eq!(config.initial_presentation_delay, None);
        assert_eq!(config.config_obus.len(), 13);
        assert_eq!(config.codec_string(), "av01.0.00M.08");
        let seq = config.sequence_header().unwrap().unwrap();
        assert_eq!((seq.max_frame_width, seq.max_frame_height), (320, 240));
    }

    #[test]
    fn writes_codec_strings() {
        let cases = [
            ([0x81, 0x08, 0x0c, 0x00], "av01.0.08M.08"),
            ([0x81, 0x0d, 0xcc, 0x00], "av01.0.13H.10"),
            ([0x81, 0x53, 0x60, 0x1f], "av01.2.19M.12"),
        ];
        for (record, expected) in cases {
            let config = Av1CodecConfig::decode(&Bytes::copy_from_slice(&record)).unwrap();
            assert_eq!(config.codec_string(), expected);
            assert_eq!(config.sequence_header(), Ok(None));
        }
        let config =
            Av1CodecConfig::decode(&Bytes::from_static(&[0x81, 0x53, 0x60, 0x1f])).unwrap();
        assert_eq!(config.initial_presentation_delay, Some(16));
    }

    #[test]
    fn refuses_bad_records() {
        assert_eq!(
            Av1CodecConfig::decode(&Bytes::from_static(&[0x01, 0, 0, 0])),
            Err(CodecError::Invalid {
                what: "av1C marker bit",
                offset: 0
            })
        );
        assert!(matches!(
            Av1CodecConfig::decode(&Bytes::from_static(&[0x82, 0, 0, 0])),
            Err(CodecError::UnsupportedVersion { version: 2, .. })
        ));
        for len in 0..4 {
            assert!(Av1CodecConfig::decode(&Bytes::copy_from_slice(&LIBAOM_AV1C[..len])).is_err());
        }
        // A sequence header OBU cut short.
        let cut = Av1CodecConfig::decode(&Bytes::copy_from_slice(&LIBAOM_AV1C[..10])).unwrap();
        assert!(cut.sequence_header().is_err());
    }
}
