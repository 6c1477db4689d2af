//! The FLV file header and the `PreviousTagSize0` that follows it.

use bytes::{BufMut, BytesMut};

use super::FlvError;

/// The largest accepted header (its `DataOffset` field). Version 1 headers
/// are 9 bytes; the field exists for growth that never came.
pub const MAX_HEADER_SIZE: u32 = 1024;

/// The size of a version 1 header.
const HEADER_LEN: usize = 9;

/// Flag bits of the header's fifth byte.
const HAS_AUDIO: u8 = 0x04;
const HAS_VIDEO: u8 = 0x01;

/// The FLV file header: which tracks the stream announces.
///
/// On the wire: `FLV`, version 1, flags, a 32-bit header size, then the
/// 32-bit `PreviousTagSize0` (always 0). [`encode`](Self::encode) writes and
/// [`decode`](Self::decode) reads all of it, so a stream continues with its
/// first tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlvHeader {
    /// The stream has audio tags.
    pub has_audio: bool,
    /// The stream has video tags.
    pub has_video: bool,
}

impl FlvHeader {
    /// Bytes [`encode`](Self::encode) writes: the 9-byte header and
    /// `PreviousTagSize0`.
    pub const ENCODED_LEN: usize = HEADER_LEN + 4;

    /// Writes the header and `PreviousTagSize0`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_slice(b"FLV");
        dst.put_u8(1);
        let mut flags = 0;
        if self.has_audio {
            flags |= HAS_AUDIO;
        }
        if self.has_video {
            flags |= HAS_VIDEO;
        }
        dst.put_u8(flags);
        dst.put_u32(HEADER_LEN as u32);
        dst.put_u32(0);
    }

    /// Reads the header and `PreviousTagSize0` from the start of `buf`.
    ///
    /// Returns the header and the bytes it took (`DataOffset` + 4), or
    /// `Ok(None)` if `buf` does not hold all of it yet. A wrong signature is
    /// reported as soon as the first differing byte arrives.
    pub fn decode(buf: &[u8]) -> Result<Option<(FlvHeader, usize)>, FlvError> {
        let seen = buf.len().min(3);
        if buf[..seen] != b"FLV"[..seen] {
            let mut signature = [0u8; 3];
            signature[..seen].copy_from_slice(&buf[..seen]);
            return Err(FlvError::BadSignature(signature));
        }
        let Some(&[_, _, _, version, flags, a, b, c, d]) = buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        if version != 1 {
            return Err(FlvError::UnsupportedVersion(version));
        }
        let size = u32::from_be_bytes([a, b, c, d]);
        if !(HEADER_LEN as u32..=MAX_HEADER_SIZE).contains(&size) {
            return Err(FlvError::HeaderSize(size));
        }
        let len = size as usize + 4;
        let Some(previous) = buf.get(len - 4..len) else {
            return Ok(None);
        };
        let found = u32::from_be_bytes([previous[0], previous[1], previous[2], previous[3]]);
        if found != 0 {
            return Err(FlvError::PreviousTagSize { expected: 0, found });
        }
        let header = FlvHeader {
            has_audio: flags & HAS_AUDIO != 0,
            has_video: flags & HAS_VIDEO != 0,
        };
        Ok(Some((header, len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (has_audio, has_video) in [(true, true), (true, false), (false, true), (false, false)] {
            let header = FlvHeader {
                has_audio,
                has_video,
            };
            let mut buf = BytesMut::new();
            header.encode(&mut buf);
            assert_eq!(buf.len(), FlvHeader::ENCODED_LEN);
            assert_eq!(FlvHeader::decode(&buf), Ok(Some((header, 13))));
            for len in 0..buf.len() {
                assert_eq!(FlvHeader::decode(&buf[..len]), Ok(None));
            }
        }
    }

    #[test]
    fn reads_ffmpeg_header() {
        let bytes = [b'F', b'L', b'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0, 0x12];
        let (header, len) = FlvHeader::decode(&bytes).unwrap().unwrap();
        assert!(header.has_audio && header.has_video);
        assert_eq!(len, 13);
    }

    #[test]
    fn skips_a_longer_header() {
        let mut bytes = vec![b'F', b'L', b'V', 1, 1, 0, 0, 0, 12, 0xaa, 0xbb, 0xcc];
        assert_eq!(FlvHeader::decode(&bytes), Ok(None));
        bytes.extend([0, 0, 0, 0]);
        assert_eq!(
            FlvHeader::decode(&bytes),
            Ok(Some((
                FlvHeader {
                    has_audio: false,
                    has_video: true
                },
                16
            )))
        );
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(
            FlvHeader::decode(b"FX"),
            Err(FlvError::BadSignature([b'F', b'X', 0]))
        );
        assert_eq!(
            FlvHeader::decode(b"GET / HTTP/1.1"),
            Err(FlvError::BadSignature(*b"GET"))
        );
        assert_eq!(
            FlvHeader::decode(&[b'F', b'L', b'V', 2, 5, 0, 0, 0, 9]),
            Err(FlvError::UnsupportedVersion(2))
        );
        assert_eq!(
            FlvHeader::decode(&[b'F', b'L', b'V', 1, 5, 0xff, 0, 0, 0]),
            Err(FlvError::HeaderSize(0xff00_0000))
        );
        assert_eq!(
            FlvHeader::decode(&[b'F', b'L', b'V', 1, 5, 0, 0, 0, 8]),
            Err(FlvError::HeaderSize(8))
        );
        assert_eq!(
            FlvHeader::decode(&[b'F', b'L', b'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 7]),
            Err(FlvError::PreviousTagSize {
                expected: 0,
                found: 7
            })
        );
    }
}
