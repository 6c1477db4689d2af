//! The PES packet header: start code, stream id, length and the 33-bit
//! presentation and decode timestamps.

use super::TsError;

/// `stream_id` of the first video and the first audio stream.
pub(crate) const VIDEO_STREAM_ID: u8 = 0xe0;
pub(crate) const AUDIO_STREAM_ID: u8 = 0xc0;

/// Timestamps are 33 bits of a 90 kHz clock: they wrap every 26.5 hours.
pub(crate) const TIMESTAMP_MASK: u64 = (1 << 33) - 1;

/// Start code and stream id, `PES_packet_length`, two flag bytes and
/// `PES_header_data_length`, then up to two 5-byte timestamps.
const MAX_HEADER: usize = 9 + 10;

/// `'10'` marker, not scrambled, not priority, `data_alignment_indicator`
/// set (every PES here starts with an access unit), no copyright, copy.
const FLAGS_1: u8 = 0x84;

/// `PTS_DTS_flags` in the second flag byte.
const PTS_ONLY: u8 = 0x80;
const PTS_AND_DTS: u8 = 0xc0;

/// The 4-bit prefixes of the timestamp fields.
const PREFIX_PTS_ONLY: u8 = 0b0010;
const PREFIX_PTS: u8 = 0b0011;
const PREFIX_DTS: u8 = 0b0001;

/// An encoded PES header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PesHeader {
    bytes: [u8; MAX_HEADER],
    len: usize,
}

impl PesHeader {
    /// The header of a PES carrying `payload_len` bytes, presented at `pts`
    /// and decoded at `dts` (90 kHz, 33 bits); `dts` is left out when equal
    /// to `pts`.
    ///
    /// Video PES (stream ids 0xe0 to 0xef) over 65,535 bytes get a
    /// `PES_packet_length` of 0, as ISO/IEC 13818-1 2.4.3.7 allows only for
    /// them; for audio, that size is [`TsError::PesTooLarge`].
    pub(crate) fn new(
        stream_id: u8,
        pts: u64,
        dts: u64,
        payload_len: usize,
    ) -> Result<PesHeader, TsError> {
        let mut bytes = [0u8; MAX_HEADER];
        bytes[..4].copy_from_slice(&[0, 0, 1, stream_id]);
        bytes[6] = FLAGS_1;
        let data_len: u8 = if pts == dts {
            bytes[7] = PTS_ONLY;
            bytes[9..14].copy_from_slice(&encode_timestamp(PREFIX_PTS_ONLY, pts));
            5
        } else {
            bytes[7] = PTS_AND_DTS;
            bytes[9..14].copy_from_slice(&encode_timestamp(PREFIX_PTS, pts));
            bytes[14..19].copy_from_slice(&encode_timestamp(PREFIX_DTS, dts));
            10
        };
        bytes[8] = data_len;
        // Everything after the length field.
        let packet_len = 3 + usize::from(data_len) + payload_len;
        let field = match u16::try_from(packet_len) {
            Ok(len) => len,
            Err(_) if (0xe0..=0xef).contains(&stream_id) => 0,
            Err(_) => return Err(TsError::PesTooLarge(6 + packet_len)),
        };
        bytes[4..6].copy_from_slice(&field.to_be_bytes());
        Ok(PesHeader {
            bytes,
            len: 9 + usize::from(data_len),
        })
    }

    /// The header bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A 33-bit timestamp in its 5-byte field: the prefix and bits 32..30, then
/// bits 29..15 and 14..0, each group followed by a marker bit.
fn encode_timestamp(prefix: u8, ts: u64) -> [u8; 5] {
    let ts = ts & TIMESTAMP_MASK;
    let high = ((ts >> 29) as u8 & 0x0e) | (prefix << 4) | 1;
    let middle = (((ts >> 14) as u16) & 0xfffe) | 1;
    let low = (((ts << 1) as u16) & 0xfffe) | 1;
    let [m0, m1] = middle.to_be_bytes();
    let [l0, l1] = low.to_be_bytes();
    [high, m0, m1, l0, l1]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads a 5-byte timestamp field, checking its marker bits.
    pub(crate) fn decode_timestamp(field: &[u8]) -> (u8, u64) {
        assert_eq!(field[0] & 1, 1);
        assert_eq!(field[2] & 1, 1);
        assert_eq!(field[4] & 1, 1);
        let ts = (u64::from(field[0] >> 1) & 0x07) << 30
            | u64::from(u16::from_be_bytes([field[1], field[2]]) >> 1) << 15
            | u64::from(u16::from_be_bytes([field[3], field[4]]) >> 1);
        (field[0] >> 4, ts)
    }

    #[test]
    fn encodes_ffmpegs_first_pts() {
        // ffmpeg starts MPEG-TS at 1.4 s: 126,000 ticks.
        let header = PesHeader::new(AUDIO_STREAM_ID, 126_000, 126_000, 100).unwrap();
        assert_eq!(
            header.as_bytes(),
            &[
                0, 0, 1, 0xc0, 0, 108, 0x84, 0x80, 5, 0x21, 0x00, 0x07, 0xd8, 0x61
            ]
        );
    }

    #[test]
    fn timestamps_round_trip_at_the_edges() {
        for ts in [
            0,
            1,
            0x7fff,
            0x8000,
            0x3fff_ffff,
            0x4000_0000,
            TIMESTAMP_MASK,
        ] {
            let field = encode_timestamp(PREFIX_PTS, ts);
            assert_eq!(decode_timestamp(&field), (PREFIX_PTS, ts), "{ts:#x}");
        }
        // Bit 33 and up are dropped: the clock wraps.
        let field = encode_timestamp(PREFIX_DTS, (1 << 33) + 5);
        assert_eq!(decode_timestamp(&field), (PREFIX_DTS, 5));
    }

    #[test]
    fn writes_dts_only_when_it_differs() {
        let header = PesHeader::new(VIDEO_STREAM_ID, 3600 + 7200, 3600, 1000).unwrap();
        let bytes = header.as_bytes();
        assert_eq!(bytes.len(), 19);
        assert_eq!((bytes[7], bytes[8]), (PTS_AND_DTS, 10));
        assert_eq!(u16::from_be_bytes([bytes[4], bytes[5]]), 3 + 10 + 1000);
        assert_eq!(decode_timestamp(&bytes[9..14]), (PREFIX_PTS, 10_800));
        assert_eq!(decode_timestamp(&bytes[14..19]), (PREFIX_DTS, 3600));
    }

    #[test]
    fn long_video_pes_is_unbounded_and_long_audio_refused() {
        let fits = PesHeader::new(VIDEO_STREAM_ID, 0, 0, 65_535 - 8).unwrap();
        assert_eq!(&fits.as_bytes()[4..6], &[0xff, 0xff]);
        let long = PesHeader::new(VIDEO_STREAM_ID, 0, 0, 65_535 - 7).unwrap();
        assert_eq!(&long.as_bytes()[4..6], &[0, 0]);
        assert_eq!(
            PesHeader::new(AUDIO_STREAM_ID, 0, 0, 70_000).unwrap_err(),
            TsError::PesTooLarge(70_014)
        );
    }
}
