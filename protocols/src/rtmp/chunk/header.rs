//! Chunk header fields: the basic header (format and chunk stream id) and
//! the constants of the message header.

use bytes::{BufMut, BytesMut};

/// The chunk size both sides start with.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;

/// The largest chunk size the protocol allows: Set Chunk Size's top bit
/// must be 0.
pub const MAX_CHUNK_SIZE: u32 = 0x7fff_ffff;

/// The largest message a chunk header can announce (a 24-bit length).
pub const MAX_MESSAGE_LEN: u32 = 0x00ff_ffff;

/// The lowest chunk stream id a message may use (0 and 1 are escape codes
/// of the basic header).
pub const MIN_CSID: u32 = 2;

/// The highest chunk stream id the 3-byte basic header can carry.
pub const MAX_CSID: u32 = 65_599;

/// A timestamp field of this value means the real value follows the message
/// header as a 32-bit extended timestamp.
pub const EXTENDED_TIMESTAMP: u32 = 0x00ff_ffff;

/// Header format 0: timestamp, length, type id and stream id; starts a
/// chunk stream or a message with an absolute timestamp.
pub(super) const FMT_FULL: u8 = 0;
/// Header format 1: timestamp delta, length and type id.
pub(super) const FMT_SAME_STREAM: u8 = 1;
/// Header format 2: timestamp delta only.
pub(super) const FMT_DELTA: u8 = 2;
/// Header format 3: nothing; a continuation, or a message like the last.
pub(super) const FMT_CONTINUATION: u8 = 3;

/// The fields a message carries besides its payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MessageHeader {
    /// Milliseconds, modulo 2^32.
    pub timestamp: u32,
    /// The message type (8 audio, 9 video, 20 command ...).
    pub type_id: u8,
    /// The message stream (0 for the connection, else a `createStream` id).
    pub stream_id: u32,
}

/// The bytes of a message header after the basic header, by format.
pub(super) fn message_header_len(fmt: u8) -> usize {
    match fmt {
        FMT_FULL => 11,
        FMT_SAME_STREAM => 7,
        FMT_DELTA => 3,
        _ => 0,
    }
}

/// Reads a basic header: `(fmt, csid, bytes used)`, or `None` until enough
/// bytes are there.
pub(super) fn read_basic_header(buf: &[u8]) -> Option<(u8, u32, usize)> {
    let first = *buf.first()?;
    let fmt = first >> 6;
    match first & 0x3f {
        0 => Some((fmt, 64 + u32::from(*buf.get(1)?), 2)),
        1 => {
            let low = u32::from(*buf.get(1)?);
            let high = u32::from(*buf.get(2)?);
            Some((fmt, 64 + low + (high << 8), 3))
        }
        csid => Some((fmt, u32::from(csid), 1)),
    }
}

/// Writes a basic header; `csid` must be within [`MIN_CSID`]..=[`MAX_CSID`].
pub(super) fn write_basic_header(dst: &mut BytesMut, fmt: u8, csid: u32) {
    let fmt = fmt << 6;
    match csid {
        ..64 => dst.put_u8(fmt | csid as u8),
        64..320 => dst.put_slice(&[fmt, (csid - 64) as u8]),
        _ => {
            let rest = csid - 64;
            dst.put_slice(&[fmt | 1, rest as u8, (rest >> 8) as u8]);
        }
    }
}

/// A big-endian 24-bit field.
pub(super) fn be24(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(3)
        .fold(0, |value, byte| value << 8 | u32::from(*byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_headers_round_trip_in_all_three_sizes() {
        for (csid, len) in [(2, 1), (63, 1), (64, 2), (319, 2), (320, 3), (MAX_CSID, 3)] {
            let mut buf = BytesMut::new();
            write_basic_header(&mut buf, FMT_DELTA, csid);
            assert_eq!(buf.len(), len, "csid {csid}");
            assert_eq!(read_basic_header(&buf), Some((FMT_DELTA, csid, len)));
            assert_eq!(read_basic_header(&buf[..len - 1]), None);
        }
        assert_eq!(read_basic_header(&[0xc1, 0x00, 0x01]), Some((3, 320, 3)));
    }

    #[test]
    fn reads_24_bit_fields() {
        assert_eq!(be24(&[0x01, 0x02, 0x03]), 0x01_0203);
        assert_eq!(be24(&[0xff, 0xff, 0xff, 0x00]), EXTENDED_TIMESTAMP);
    }
}
