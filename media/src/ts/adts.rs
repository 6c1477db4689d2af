//! ADTS headers (ISO/IEC 13818-7 6.2): how MPEG-TS carries AAC (stream type
//! 0x0f). Each raw access unit gets a 7-byte header made from the track's
//! `AudioSpecificConfig`.

use crate::codec::AudioSpecificConfig;

use super::TsError;

/// Bytes in a header without CRC.
const HEADER_SIZE: usize = 7;

/// The largest raw frame ADTS can carry: `aac_frame_length` is 13 bits and
/// counts the header.
pub(crate) const MAX_ADTS_PAYLOAD: usize = (1 << 13) - 1 - HEADER_SIZE;

/// Sampling frequencies for `sampling_frequency_index` 0 to 12.
const FREQUENCIES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

/// Object types of SBR (HE-AAC) and PS (HE-AACv2).
const SBR: u8 = 5;
const PS: u8 = 29;

/// The fields of an ADTS header that stay the same for a whole track.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AdtsHeader {
    /// `profile`: the object type minus one.
    profile: u8,
    frequency_index: u8,
    channels: u8,
}

impl AdtsHeader {
    /// The header fields for a track.
    ///
    /// ADTS has two bits of profile, so it carries object types 1 to 4 (Main,
    /// LC, SSR, LTP). HE-AAC (SBR) and HE-AACv2 (PS) are written as AAC-LC
    /// at the core sampling frequency (what the config's frequency field
    /// holds for them), which decoders upgrade by implicit signalling; this
    /// is what ffmpeg does too.
    pub(crate) fn new(config: &AudioSpecificConfig) -> Result<AdtsHeader, TsError> {
        let profile = match config.object_type {
            object_type @ 1..=4 => object_type - 1,
            SBR | PS => 1,
            other => return Err(TsError::AdtsObjectType(other)),
        };
        let frequency_index = FREQUENCIES
            .iter()
            .position(|&f| f == config.sampling_frequency)
            .ok_or(TsError::AdtsFrequency(config.sampling_frequency))?;
        if !(1..=7).contains(&config.channel_configuration) {
            return Err(TsError::AdtsChannels(config.channel_configuration));
        }
        Ok(AdtsHeader {
            profile,
            // One of 13.
            frequency_index: frequency_index as u8,
            channels: config.channel_configuration,
        })
    }

    /// The header for a raw frame of `payload_len` bytes: MPEG-4, no CRC,
    /// buffer fullness 0x7ff (variable rate), one raw data block.
    pub(crate) fn encode(&self, payload_len: usize) -> Result<[u8; HEADER_SIZE], TsError> {
        if payload_len > MAX_ADTS_PAYLOAD {
            return Err(TsError::AdtsFrameTooLarge(payload_len));
        }
        // At most 8191: 13 bits.
        let frame_len = (payload_len + HEADER_SIZE) as u16;
        Ok([
            0xff,
            // Sync, ID 0 (MPEG-4), layer 0, protection_absent.
            0xf1,
            (self.profile << 6) | (self.frequency_index << 2) | (self.channels >> 2),
            ((self.channels & 0x03) << 6) | (frame_len >> 11) as u8,
            (frame_len >> 3) as u8,
            ((frame_len as u8 & 0x07) << 5) | 0x1f,
            0xfc,
        ])
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn config(object_type: u8, sampling_frequency: u32, channels: u8) -> AudioSpecificConfig {
        AudioSpecificConfig {
            object_type,
            sampling_frequency,
            channel_configuration: channels,
            raw: Bytes::new(),
        }
    }

    /// Reads back (profile, frequency index, channels, frame length, buffer
    /// fullness, raw data blocks) and checks the fixed bits.
    fn fields(h: &[u8; 7]) -> (u8, u8, u8, u16, u16, u8) {
        assert_eq!(h[0], 0xff);
        assert_eq!(h[1] & 0xf0, 0xf0, "syncword");
        assert_eq!(h[1] & 0x0f, 0x01, "mpeg-4, layer 0, no crc");
        (
            h[2] >> 6,
            (h[2] >> 2) & 0x0f,
            ((h[2] & 1) << 2) | (h[3] >> 6),
            (u16::from(h[3] & 0x03) << 11) | (u16::from(h[4]) << 3) | u16::from(h[5] >> 5),
            (u16::from(h[5] & 0x1f) << 6) | u16::from(h[6] >> 2),
            h[6] & 0x03,
        )
    }

    #[test]
    fn writes_lc_44100_mono() {
        // The ffmpeg capture's config: AAC-LC, 44.1 kHz, mono.
        let config = AudioSpecificConfig::decode(&Bytes::from_static(&[0x12, 0x08])).unwrap();
        let header = AdtsHeader::new(&config).unwrap().encode(371).unwrap();
        assert_eq!(header, [0xff, 0xf1, 0x50, 0x40, 0x2f, 0x5f, 0xfc]);
        assert_eq!(fields(&header), (1, 4, 1, 378, 0x7ff, 0));
    }

    #[test]
    fn writes_every_field_at_its_edges() {
        let header = AdtsHeader::new(&config(4, 7_350, 7)).unwrap();
        let bytes = header.encode(MAX_ADTS_PAYLOAD).unwrap();
        assert_eq!(fields(&bytes), (3, 12, 7, 8191, 0x7ff, 0));
        let bytes = AdtsHeader::new(&config(1, 96_000, 4))
            .unwrap()
            .encode(0)
            .unwrap();
        assert_eq!(fields(&bytes), (0, 0, 4, 7, 0x7ff, 0));
    }

    #[test]
    fn he_aac_is_written_as_its_lc_core() {
        for object_type in [5, 29] {
            let header = AdtsHeader::new(&config(object_type, 24_000, 2)).unwrap();
            assert_eq!(fields(&header.encode(10).unwrap()).0, 1);
        }
    }

    #[test]
    fn refuses_what_adts_cannot_say() {
        assert_eq!(
            AdtsHeader::new(&config(42, 48_000, 2)),
            Err(TsError::AdtsObjectType(42))
        );
        assert_eq!(
            AdtsHeader::new(&config(2, 50_000, 2)),
            Err(TsError::AdtsFrequency(50_000))
        );
        assert_eq!(
            AdtsHeader::new(&config(2, 48_000, 0)),
            Err(TsError::AdtsChannels(0))
        );
        assert_eq!(
            AdtsHeader::new(&config(2, 48_000, 2))
                .unwrap()
                .encode(MAX_ADTS_PAYLOAD + 1),
            Err(TsError::AdtsFrameTooLarge(MAX_ADTS_PAYLOAD + 1))
        );
    }
}
