//! The stamp every synthetic frame carries: a sequence number and the wall
//! clock time it was sent, so a player can measure delivery latency and see
//! gaps without decoding anything.
//!
//! Layout (48 bytes): a fixed 16-byte UUID, then the sequence number and
//! the send time in microseconds since the UNIX epoch, each as 16 lower-case
//! hex digits. The bytes are all non-zero, so in a video frame the stamp is
//! the body of an H.264 `user_data_unregistered` SEI message that needs no
//! emulation prevention; in an audio frame it opens the raw AAC payload.

/// Bytes of an encoded stamp.
pub(crate) const STAMP_LEN: usize = 48;

/// Identifies an arcly-bench stamp (the SEI UUID); no zero bytes.
pub(crate) const STAMP_UUID: [u8; 16] = *b"arcly-bench-v1.\x01";

/// One frame's sequence number (per track) and send time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// 0 for the first frame of the track, then +1 per frame.
    pub(crate) seq: u64,
    /// Wall clock at send, µs since the UNIX epoch.
    pub(crate) sent_us: u64,
}

impl Stamp {
    /// The 48 stamp bytes.
    pub(crate) fn encode(&self) -> [u8; STAMP_LEN] {
        let mut out = [0u8; STAMP_LEN];
        out[..16].copy_from_slice(&STAMP_UUID);
        put_hex(&mut out[16..32], self.seq);
        put_hex(&mut out[32..48], self.sent_us);
        out
    }

    /// Reads a stamp from the start of `bytes`; `None` if they do not start
    /// with one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Stamp> {
        let bytes = bytes.get(..STAMP_LEN)?;
        if bytes[..16] != STAMP_UUID {
            return None;
        }
        Some(Stamp {
            seq: read_hex(&bytes[16..32])?,
            sent_us: read_hex(&bytes[32..48])?,
        })
    }
}

fn put_hex(dst: &mut [u8], value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in dst.iter_mut().enumerate() {
        let shift = 4 * (15 - i);
        *byte = DIGITS[((value >> shift) & 0xf) as usize];
    }
}

fn read_hex(src: &[u8]) -> Option<u64> {
    src.iter().try_fold(0u64, |acc, &c| {
        let digit = (c as char).to_digit(16)?;
        Some(acc << 4 | u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_has_no_zero_bytes() {
        for stamp in [
            Stamp { seq: 0, sent_us: 0 },
            Stamp {
                seq: 1234,
                sent_us: 1_795_000_000_123_456,
            },
            Stamp {
                seq: u64::MAX,
                sent_us: u64::MAX,
            },
        ] {
            let bytes = stamp.encode();
            assert!(!bytes.contains(&0), "{bytes:?}");
            assert_eq!(Stamp::decode(&bytes), Some(stamp));
        }
    }

    #[test]
    fn decodes_only_at_the_start_of_a_payload_with_trailing_bytes() {
        let stamp = Stamp {
            seq: 7,
            sent_us: 99,
        };
        let mut payload = stamp.encode().to_vec();
        payload.extend_from_slice(&[0xa5; 40]);
        assert_eq!(Stamp::decode(&payload), Some(stamp));
        assert_eq!(Stamp::decode(&payload[1..]), None);
    }

    #[test]
    fn refuses_short_foreign_and_corrupt_bytes() {
        let bytes = Stamp { seq: 1, sent_us: 2 }.encode();
        assert_eq!(Stamp::decode(&bytes[..STAMP_LEN - 1]), None);
        assert_eq!(Stamp::decode(&[0x21; STAMP_LEN]), None);
        let mut corrupt = bytes;
        corrupt[20] = b'x';
        assert_eq!(Stamp::decode(&corrupt), None);
    }
}
