//! Whole messages in, chunks out.

use bytes::{BufMut, BytesMut};

use super::header::{
    EXTENDED_TIMESTAMP, FMT_CONTINUATION, FMT_FULL, MAX_CSID, MAX_MESSAGE_LEN, MIN_CSID,
    MessageHeader, write_basic_header,
};
use crate::rtmp::ChunkError;

/// Appends `payload` as one message on chunk stream `csid`: a type 0 chunk
/// with the absolute timestamp, then type 3 chunks of at most `chunk_size`
/// bytes each.
///
/// A timestamp of 0xffffff or more is written as an extended timestamp,
/// repeated on every type 3 chunk as the specification, ffmpeg and Flash
/// expect. Headers are never compressed against earlier messages, so the
/// bytes depend on the arguments alone and a peer may start reading at any
/// message.
///
/// Refused: a payload over 16 MiB - 1 (the 24-bit length field), a chunk
/// stream id outside 2..=65599, and a chunk size of 0.
pub fn encode_message(
    dst: &mut BytesMut,
    csid: u32,
    header: MessageHeader,
    payload: &[u8],
    chunk_size: u32,
) -> Result<(), ChunkError> {
    if !(MIN_CSID..=MAX_CSID).contains(&csid) {
        return Err(ChunkError::BadChunkStreamId { csid });
    }
    let length = u32::try_from(payload.len())
        .ok()
        .filter(|len| *len <= MAX_MESSAGE_LEN)
        .ok_or(ChunkError::MessageTooLong {
            csid,
            len: payload.len() as u64,
            limit: MAX_MESSAGE_LEN,
        })?;
    if chunk_size == 0 {
        return Err(ChunkError::InvalidChunkSize {
            size: 0,
            limit: super::MAX_CHUNK_SIZE,
        });
    }
    let extended = header.timestamp >= EXTENDED_TIMESTAMP;
    let chunk_size = chunk_size as usize;
    let continuations = payload.len().saturating_sub(1) / chunk_size;
    let ext_len = if extended { 4 } else { 0 };
    dst.reserve(payload.len() + 3 + 11 + ext_len + continuations * (3 + ext_len));

    write_basic_header(dst, FMT_FULL, csid);
    let [_, t0, t1, t2] = header.timestamp.min(EXTENDED_TIMESTAMP).to_be_bytes();
    let [_, l0, l1, l2] = length.to_be_bytes();
    dst.put_slice(&[t0, t1, t2, l0, l1, l2, header.type_id]);
    dst.put_u32_le(header.stream_id);
    if extended {
        dst.put_u32(header.timestamp);
    }
    let mut pieces = payload.chunks(chunk_size);
    if let Some(first) = pieces.next() {
        dst.put_slice(first);
    }
    for piece in pieces {
        write_basic_header(dst, FMT_CONTINUATION, csid);
        if extended {
            dst.put_u32(header.timestamp);
        }
        dst.put_slice(piece);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtmp::RtmpLimits;
    use crate::rtmp::chunk::ChunkDecoder;

    #[test]
    fn writes_the_reference_layout() {
        let mut buf = BytesMut::new();
        let header = MessageHeader {
            timestamp: 0x01_0203,
            type_id: 8,
            stream_id: 1,
        };
        encode_message(&mut buf, 4, header, b"abcde", 2).unwrap();
        assert_eq!(
            &buf[..],
            b"\x04\x01\x02\x03\x00\x00\x05\x08\x01\x00\x00\x00ab\xc4cd\xc4e"
        );
    }

    #[test]
    fn round_trips_through_the_decoder() {
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        for chunk_size in [1, 127, 128, 999, 1000, 1001, 60_000] {
            for timestamp in [0, 40, EXTENDED_TIMESTAMP - 1, EXTENDED_TIMESTAMP, u32::MAX] {
                let header = MessageHeader {
                    timestamp,
                    type_id: 9,
                    stream_id: 1,
                };
                let mut buf = BytesMut::new();
                encode_message(&mut buf, 6, header, &payload, chunk_size).unwrap();
                let mut decoder = ChunkDecoder::new(&RtmpLimits::default());
                decoder.set_chunk_size(chunk_size).unwrap();
                let message = decoder.feed(&mut buf).unwrap().unwrap();
                assert_eq!(message.header, header, "chunk size {chunk_size}");
                assert_eq!(message.payload, payload);
                assert!(buf.is_empty());
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_write() {
        let header = MessageHeader::default();
        let mut buf = BytesMut::new();
        assert_eq!(
            encode_message(&mut buf, 1, header, b"", 128),
            Err(ChunkError::BadChunkStreamId { csid: 1 })
        );
        assert_eq!(
            encode_message(&mut buf, 65_600, header, b"", 128),
            Err(ChunkError::BadChunkStreamId { csid: 65_600 })
        );
        assert!(matches!(
            encode_message(&mut buf, 3, header, b"x", 0),
            Err(ChunkError::InvalidChunkSize { size: 0, .. })
        ));
        let big = vec![0; MAX_MESSAGE_LEN as usize + 1];
        assert!(matches!(
            encode_message(&mut buf, 3, header, &big, 128),
            Err(ChunkError::MessageTooLong { .. })
        ));
        assert!(buf.is_empty());
    }
}
