//! The AAC `AudioSpecificConfig` (ISO/IEC 14496-3 1.6.2.1) and its RFC 6381
//! codec string.

use bytes::Bytes;

use super::CodecError;
use super::bit_reader::BitReader;

/// Sampling frequencies for `samplingFrequencyIndex` 0 to 12.
const FREQUENCIES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// `samplingFrequencyIndex` meaning a 24-bit frequency follows.
const EXPLICIT_FREQUENCY: u32 = 15;

/// `audioObjectType` meaning a 6-bit extension follows.
const ESCAPE_OBJECT_TYPE: u32 = 31;

/// The start of an AAC `AudioSpecificConfig`: what a player or muxer needs to
/// describe the track. The payload of an AAC config [`MediaFrame`].
///
/// [`MediaFrame`]: arcly_engine::MediaFrame
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// `audioObjectType`: 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS (HE-AACv2).
    pub object_type: u8,
    /// Samples per second of the core decoder.
    pub sampling_frequency: u32,
    /// `channelConfiguration`: 1 mono, 2 stereo ... 0 means "in the
    /// program config element".
    pub channel_configuration: u8,
    /// The whole record, to hand to decoders and muxers unchanged.
    pub raw: Bytes,
}

impl AudioSpecificConfig {
    /// Reads the object type, frequency and channels; the rest of the record
    /// is kept in [`raw`](Self::raw) unparsed.
    pub fn decode(record: &Bytes) -> Result<AudioSpecificConfig, CodecError> {
        let mut r = BitReader::new(record);
        let mut object_type = r.read_bits(5)?;
        if object_type == ESCAPE_OBJECT_TYPE {
            object_type = 32 + r.read_bits(6)?;
        }
        let index = r.read_bits(4)?;
        let sampling_frequency = if index == EXPLICIT_FREQUENCY {
            r.read_bits(24)?
        } else {
            *FREQUENCIES
                .get(index as usize)
                .ok_or(CodecError::ReservedFrequencyIndex(index as u8))?
        };
        let channel_configuration = r.read_bits(4)? as u8;
        Ok(AudioSpecificConfig {
            // At most 32 + 63.
            object_type: object_type as u8,
            sampling_frequency,
            channel_configuration,
            raw: record.clone(),
        })
    }

    /// The RFC 6381 codec string, e.g. `mp4a.40.2` for AAC-LC.
    pub fn codec_string(&self) -> String {
        format!("mp4a.40.{}", self.object_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ffmpeg_config() {
        // What ffmpeg's AAC encoder wrote for 44.1 kHz mono, with its
        // backward-compatible SBR signalling tail.
        let record = Bytes::from_static(&[0x12, 0x08, 0x56, 0xe5, 0x00]);
        let asc = AudioSpecificConfig::decode(&record).unwrap();
        assert_eq!(asc.object_type, 2);
        assert_eq!(asc.sampling_frequency, 44_100);
        assert_eq!(asc.channel_configuration, 1);
        assert_eq!(asc.codec_string(), "mp4a.40.2");
        assert_eq!(asc.raw, record);
    }

    #[test]
    fn reads_escaped_and_explicit_fields() {
        // object type 31 + 6 bits (= 32 + 10), index 15 + 24-bit 50_000 Hz, stereo.
        // 11111 001010 1111 000000001100001101010000 0010
        let record = Bytes::from_static(&[0xf9, 0x5e, 0x01, 0x86, 0xa0, 0x40]);
        let asc = AudioSpecificConfig::decode(&record).unwrap();
        assert_eq!(asc.object_type, 42);
        assert_eq!(asc.sampling_frequency, 50_000);
        assert_eq!(asc.channel_configuration, 2);
    }

    #[test]
    fn refuses_bad_configs() {
        assert_eq!(
            AudioSpecificConfig::decode(&Bytes::from_static(&[0x16, 0x80])),
            Err(CodecError::ReservedFrequencyIndex(13))
        );
        assert!(AudioSpecificConfig::decode(&Bytes::from_static(&[0x12])).is_err());
        assert!(AudioSpecificConfig::decode(&Bytes::new()).is_err());
    }
}
