//! The chunked transfer coding (RFC 9112 7.1), for live bodies.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

/// The last chunk with no trailers: ends a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Appends `data` as one chunk. Empty `data` writes nothing, since an empty
/// chunk would end the body.
pub fn encode_chunk(data: &[u8], dst: &mut BytesMut) {
    if data.is_empty() {
        return;
    }
    dst.reserve(data.len() + 12);
    encode_chunk_prefix(data.len(), dst);
    dst.put_slice(data);
    dst.put_slice(b"\r\n");
}

/// Appends only the size line of a chunk of `len` bytes (`len` must not be
/// 0), for a driver that writes the payload from its own buffer without
/// copying and then `\r\n`.
pub fn encode_chunk_prefix(len: usize, dst: &mut BytesMut) {
    let mut line = String::with_capacity(18);
    // Writing to a String cannot fail.
    let _ = write!(line, "{len:x}\r\n");
    dst.put_slice(line.as_bytes());
}

/// Appends [`LAST_CHUNK`].
pub fn encode_last_chunk(dst: &mut BytesMut) {
    dst.put_slice(LAST_CHUNK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_chunks() {
        let mut buf = BytesMut::new();
        encode_chunk(b"hello", &mut buf);
        encode_chunk(b"", &mut buf);
        encode_chunk(&[0u8; 300], &mut buf);
        encode_last_chunk(&mut buf);
        let mut expected = b"5\r\nhello\r\n12c\r\n".to_vec();
        expected.extend([0u8; 300]);
        expected.extend(b"\r\n0\r\n\r\n");
        assert_eq!(&buf[..], &expected[..]);
    }
}
