//! How a viewer's writes are wrapped: RTMP chunks and close-delimited
//! HTTP bodies go as they are; a chunked HTTP body puts each write in one
//! HTTP chunk.

use arcly_protocols::http::{BodyFraming, LAST_CHUNK, encode_chunk_prefix};
use bytes::{Bytes, BytesMut};

/// The wrapping of a viewer's writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// The bytes as they are.
    Plain,
    /// Each write one HTTP/1.1 chunk; the body's end is the last chunk.
    HttpChunked,
}

impl From<BodyFraming> for Framing {
    fn from(body: BodyFraming) -> Framing {
        match body {
            BodyFraming::Chunked => Framing::HttpChunked,
            _ => Framing::Plain,
        }
    }
}

impl Framing {
    /// The parts of one write carrying `payload`; `last` ends the body.
    pub(crate) fn frame(self, payload: Vec<Bytes>, last: bool) -> Vec<Bytes> {
        if self == Framing::Plain {
            return payload;
        }
        let len: usize = payload.iter().map(Bytes::len).sum();
        let mut parts = Vec::with_capacity(payload.len() + 3);
        if len > 0 {
            let mut size_line = BytesMut::new();
            encode_chunk_prefix(len, &mut size_line);
            parts.push(size_line.freeze());
            parts.extend(payload);
            parts.push(Bytes::from_static(b"\r\n"));
        }
        if last {
            parts.push(Bytes::from_static(LAST_CHUNK));
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(parts: Vec<Bytes>) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn plain_writes_are_the_payload() {
        let payload = vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")];
        assert_eq!(Framing::Plain.frame(payload.clone(), true), payload);
    }

    #[test]
    fn a_chunked_write_is_one_chunk() {
        let payload = vec![Bytes::from_static(b"0123456789"), Bytes::from_static(b"ab")];
        assert_eq!(
            joined(Framing::HttpChunked.frame(payload, false)),
            b"c\r\n0123456789ab\r\n"
        );
    }

    #[test]
    fn the_last_write_ends_the_body() {
        let payload = vec![Bytes::from_static(b"x")];
        assert_eq!(
            joined(Framing::HttpChunked.frame(payload, true)),
            b"1\r\nx\r\n0\r\n\r\n"
        );
        assert_eq!(
            joined(Framing::HttpChunked.frame(Vec::new(), true)),
            b"0\r\n\r\n"
        );
        assert!(Framing::HttpChunked.frame(Vec::new(), false).is_empty());
    }
}
