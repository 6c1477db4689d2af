//! The H.264 decoder configuration record (`avcC`, ISO/IEC 14496-15 5.3.3.1)
//! and its RFC 6381 codec string.

use bytes::{BufMut, Bytes, BytesMut};

use super::{CodecError, Sps};
use crate::byte_reader::ByteReader;

/// Profiles whose record may end with the chroma and bit-depth extension.
const HIGH_PROFILES: [u8; 4] = [100, 110, 122, 144];

/// Largest parameter-set count the record's fields can express.
const MAX_SPS: usize = 31;
const MAX_PPS: usize = 255;

/// An `AVCDecoderConfigurationRecord`: what an H.264 decoder needs before the
/// first frame. It is the payload of an H.264 config [`MediaFrame`] (the FLV
/// sequence header).
///
/// Parameter sets are zero-copy slices of the record they were read from.
///
/// [`MediaFrame`]: arcly_engine::MediaFrame
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcDecoderConfig {
    /// `profile_idc` of the SPS (66 baseline, 77 main, 100 high ...).
    pub profile_indication: u8,
    /// The constraint-set flags byte of the SPS.
    pub profile_compatibility: u8,
    /// `level_idc` of the SPS (31 = level 3.1).
    pub level_indication: u8,
    /// Bytes in each NAL unit length prefix of the frames: 1, 2 or 4.
    pub length_size: u8,
    /// Sequence parameter sets, NAL header byte included.
    pub sps: Vec<Bytes>,
    /// Picture parameter sets, NAL header byte included.
    pub pps: Vec<Bytes>,
    /// The chroma and bit-depth extension that high profiles may carry.
    pub high_profile_ext: Option<AvcHighProfileExt>,
}

/// The tail of an `avcC` record for profiles 100, 110, 122 and 144.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcHighProfileExt {
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format: u8,
    /// Luma sample bit depth (8 to 14).
    pub bit_depth_luma: u8,
    /// Chroma sample bit depth (8 to 14).
    pub bit_depth_chroma: u8,
    /// Sequence parameter set extensions.
    pub sps_ext: Vec<Bytes>,
}

impl AvcDecoderConfig {
    /// Reads a record. Parameter sets share `record`'s buffer.
    ///
    /// A high-profile record that stops before its extension (older muxers
    /// write none) is accepted with `high_profile_ext: None`.
    pub fn decode(record: &Bytes) -> Result<AvcDecoderConfig, CodecError> {
        let mut r = ByteReader::new(record);
        let version = r.u8("avcC version")?;
        if version != 1 {
            return Err(CodecError::UnsupportedVersion {
                what: "avcC",
                version,
            });
        }
        let profile_indication = r.u8("avcC profile")?;
        let profile_compatibility = r.u8("avcC profile compatibility")?;
        let level_indication = r.u8("avcC level")?;
        let length_size = (r.u8("avcC length size")? & 0x03) + 1;
        if length_size == 3 {
            return Err(CodecError::BadLengthSize(length_size));
        }
        let sps_count = usize::from(r.u8("avcC sps count")? & 0x1f);
        let sps = read_parameter_sets(&mut r, sps_count, "avcC sps")?;
        let pps_count = usize::from(r.u8("avcC pps count")?);
        let pps = read_parameter_sets(&mut r, pps_count, "avcC pps")?;
        let high_profile_ext = if HIGH_PROFILES.contains(&profile_indication) && r.remaining() >= 4
        {
            let chroma_format = r.u8("avcC chroma format")? & 0x03;
            let bit_depth_luma = (r.u8("avcC luma bit depth")? & 0x07) + 8;
            let bit_depth_chroma = (r.u8("avcC chroma bit depth")? & 0x07) + 8;
            let ext_count = usize::from(r.u8("avcC sps ext count")?);
            let sps_ext = read_parameter_sets(&mut r, ext_count, "avcC sps ext")?;
            Some(AvcHighProfileExt {
                chroma_format,
                bit_depth_luma,
                bit_depth_chroma,
                sps_ext,
            })
        } else {
            None
        };
        Ok(AvcDecoderConfig {
            profile_indication,
            profile_compatibility,
            level_indication,
            length_size,
            sps,
            pps,
            high_profile_ext,
        })
    }

    /// Writes the record, with every reserved bit set as the standard asks.
    ///
    /// Refused: a length size other than 1, 2 or 4, more than 31 SPS or 255
    /// PPS (or SPS extensions), and a parameter set over 65,535 bytes.
    pub fn encode(&self) -> Result<Bytes, CodecError> {
        if !matches!(self.length_size, 1 | 2 | 4) {
            return Err(CodecError::BadLengthSize(self.length_size));
        }
        let mut out = BytesMut::new();
        out.put_u8(1);
        out.put_u8(self.profile_indication);
        out.put_u8(self.profile_compatibility);
        out.put_u8(self.level_indication);
        out.put_u8(0xfc | (self.length_size - 1));
        out.put_u8(0xe0 | count(self.sps.len(), MAX_SPS, "avcC sps count")?);
        write_parameter_sets(&mut out, &self.sps, "avcC sps length")?;
        out.put_u8(count(self.pps.len(), MAX_PPS, "avcC pps count")?);
        write_parameter_sets(&mut out, &self.pps, "avcC pps length")?;
        if let Some(ext) = &self.high_profile_ext {
            out.put_u8(0xfc | (ext.chroma_format & 0x03));
            out.put_u8(0xf8 | (ext.bit_depth_luma.saturating_sub(8) & 0x07));
            out.put_u8(0xf8 | (ext.bit_depth_chroma.saturating_sub(8) & 0x07));
            out.put_u8(count(ext.sps_ext.len(), MAX_PPS, "avcC sps ext count")?);
            write_parameter_sets(&mut out, &ext.sps_ext, "avcC sps ext length")?;
        }
        Ok(out.freeze())
    }

    /// The RFC 6381 codec string, e.g. `avc1.64001f` for High profile level
    /// 3.1, as HLS playlists and MSE players want it.
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02x}{:02x}{:02x}",
            self.profile_indication, self.profile_compatibility, self.level_indication
        )
    }

    /// The first SPS, parsed; `None` if the record carries no SPS.
    pub fn first_sps(&self) -> Result<Option<Sps>, CodecError> {
        self.sps.first().map(|nal| Sps::decode(nal)).transpose()
    }
}

fn read_parameter_sets(
    r: &mut ByteReader<'_>,
    count: usize,
    what: &'static str,
) -> Result<Vec<Bytes>, CodecError> {
    // `count` is at most 255 (one byte), so this allocation is bounded.
    let mut sets = Vec::with_capacity(count);
    for _ in 0..count {
        let len = usize::from(r.u16(what)?);
        sets.push(r.take(len, what)?);
    }
    Ok(sets)
}

fn write_parameter_sets(
    out: &mut BytesMut,
    sets: &[Bytes],
    what: &'static str,
) -> Result<(), CodecError> {
    for set in sets {
        let len = u16::try_from(set.len()).map_err(|_| CodecError::OutOfRange {
            what,
            value: set.len() as u64,
            limit: u64::from(u16::MAX),
        })?;
        out.put_u16(len);
        out.put_slice(set);
    }
    Ok(())
}

fn count(len: usize, limit: usize, what: &'static str) -> Result<u8, CodecError> {
    if len > limit {
        return Err(CodecError::OutOfRange {
            what,
            value: len as u64,
            limit: limit as u64,
        });
    }
    // len <= 255.
    Ok(len as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `avcC` x264 wrote for a 320x240 High profile level 1.3 stream.
    const X264_AVCC: &[u8] = &[
        0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41,
        0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1,
        0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8,
        0x00,
    ];

    #[test]
    fn reads_x264_record() {
        let record = Bytes::from_static(X264_AVCC);
        let config = AvcDecoderConfig::decode(&record).unwrap();
        assert_eq!(config.profile_indication, 100);
        assert_eq!(config.level_indication, 13);
        assert_eq!(config.length_size, 4);
        assert_eq!(config.sps.len(), 1);
        assert_eq!(config.sps[0].len(), 25);
        assert_eq!(config.pps.len(), 1);
        assert_eq!(config.codec_string(), "avc1.64000d");
        let ext = config.high_profile_ext.as_ref().unwrap();
        assert_eq!(
            (ext.chroma_format, ext.bit_depth_luma, ext.bit_depth_chroma),
            (1, 8, 8)
        );
        assert!(ext.sps_ext.is_empty());
        assert_eq!(config.encode().unwrap(), record);
        let sps = config.first_sps().unwrap().unwrap();
        assert_eq!((sps.width, sps.height), (320, 240));
    }

    #[test]
    fn accepts_high_profile_without_extension() {
        let record = Bytes::copy_from_slice(&X264_AVCC[..X264_AVCC.len() - 4]);
        let config = AvcDecoderConfig::decode(&record).unwrap();
        assert_eq!(config.high_profile_ext, None);
        assert_eq!(config.encode().unwrap(), record);
    }

    #[test]
    fn refuses_bad_records() {
        let mut bad_version = X264_AVCC.to_vec();
        bad_version[0] = 0;
        assert_eq!(
            AvcDecoderConfig::decode(&Bytes::from(bad_version)),
            Err(CodecError::UnsupportedVersion {
                what: "avcC",
                version: 0
            })
        );
        let mut bad_length = X264_AVCC.to_vec();
        bad_length[4] = 0xfe;
        assert_eq!(
            AvcDecoderConfig::decode(&Bytes::from(bad_length)),
            Err(CodecError::BadLengthSize(3))
        );
        // The SPS length says 25 bytes but only 10 follow.
        let short = Bytes::copy_from_slice(&X264_AVCC[..18]);
        assert_eq!(
            AvcDecoderConfig::decode(&short),
            Err(CodecError::Truncated {
                what: "avcC sps",
                offset: 8
            })
        );
        for len in 0..X264_AVCC.len() - 4 {
            assert!(AvcDecoderConfig::decode(&Bytes::copy_from_slice(&X264_AVCC[..len])).is_err());
        }
    }

    #[test]
    fn refuses_unencodable_records() {
        let mut config = AvcDecoderConfig::decode(&Bytes::from_static(X264_AVCC)).unwrap();
        config.sps = vec![Bytes::from_static(&[0x67]); 32];
        assert!(matches!(
            config.encode(),
            Err(CodecError::OutOfRange { limit: 31, .. })
        ));
        config.sps = vec![Bytes::from(vec![0u8; 70_000])];
        assert!(matches!(
            config.encode(),
            Err(CodecError::OutOfRange { limit: 65535, .. })
        ));
    }
}
