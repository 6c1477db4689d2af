//! Chunks in, whole messages out.

use bytes::{Buf, Bytes, BytesMut};

use super::header::{
    DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP, FMT_CONTINUATION, FMT_FULL, FMT_SAME_STREAM,
    MAX_CHUNK_SIZE, MessageHeader, be24, message_header_len, read_basic_header,
};
use crate::rtmp::{ChunkError, RtmpLimits};

/// A message as the chunk stream delivered it, payload not yet parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// The chunk stream it came on.
    pub csid: u32,
    /// Timestamp (resolved from deltas), type and message stream.
    pub header: MessageHeader,
    /// The payload: a slice of the input when the message came in one
    /// chunk, else the reassembled bytes.
    pub payload: Bytes,
    /// Where the message's first chunk starts in the input.
    pub offset: u64,
}

/// What the last header on a chunk stream said, as later headers inherit it.
#[derive(Clone, Copy, Debug, Default)]
struct Header {
    /// The timestamp of the current (or last) message.
    timestamp: u32,
    /// The last timestamp field: absolute after type 0, a delta after types
    /// 1 and 2; the extended value when `extended`.
    field: u32,
    /// Whether the last timestamp field was extended, so type 3 chunks
    /// carry an extended timestamp too.
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

/// One chunk stream's state.
#[derive(Debug)]
struct ChunkStream {
    csid: u32,
    header: Header,
    /// Whether a message is being reassembled.
    in_message: bool,
    /// Its bytes so far.
    payload: BytesMut,
    /// Where its first chunk started.
    message_offset: u64,
}

/// A header read from the input but not yet applied.
#[derive(Debug)]
struct NextHeader {
    /// Bytes of basic header, message header and extended timestamp.
    len: usize,
    csid: u32,
    /// The chunk stream's slot, if it has one.
    index: Option<usize>,
    header: Header,
    starts_message: bool,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Before a chunk header.
    Header,
    /// Inside a chunk's payload: this many bytes of it are still to come.
    Payload { index: usize, left: u32 },
}

/// Reads the chunk stream incrementally and hands out whole messages.
///
/// [`feed`](Self::feed) consumes what it can from the front of the buffer
/// and returns `Ok(None)` when it needs more; call it again after each read
/// until it does. Chunk payloads are consumed as they arrive, so the buffer
/// never holds more than a partial chunk header; message bytes are held
/// per chunk stream, within [`RtmpLimits::max_reassembly_bytes`].
///
/// Type 3 chunks after an extended timestamp: the specification (and
/// ffmpeg, OBS, librtmp) repeat the extended timestamp on every type 3
/// chunk; some peers leave it out on continuations. For a continuation the
/// four bytes are taken as the timestamp only when they repeat it, so both
/// kinds of peer are read correctly.
///
/// Set Chunk Size and Abort are messages like any other: the caller applies
/// them with [`set_chunk_size`](Self::set_chunk_size) and
/// [`abort`](Self::abort) before feeding on. After an error the stream is
/// out of sync and the connection must be dropped.
#[derive(Debug)]
pub struct ChunkDecoder {
    chunk_size: u32,
    max_chunk_size: u32,
    max_message_len: u32,
    max_chunk_streams: usize,
    max_reassembly_bytes: usize,
    streams: Vec<ChunkStream>,
    state: State,
    /// Bytes consumed, plus the starting offset.
    offset: u64,
    /// The declared lengths of the partly received messages: what their
    /// buffers take once complete, reserved when each starts.
    held: usize,
}

impl ChunkDecoder {
    /// A decoder at the start of a chunk stream, with the default chunk
    /// size of 128 and the given limits.
    pub fn new(limits: &RtmpLimits) -> Self {
        ChunkDecoder {
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_chunk_size: limits.max_chunk_size.min(MAX_CHUNK_SIZE),
            max_message_len: limits.max_message_len,
            max_chunk_streams: limits.max_chunk_streams,
            max_reassembly_bytes: limits.max_reassembly_bytes,
            streams: Vec::new(),
            state: State::Header,
            offset: 0,
            held: 0,
        }
    }

    /// Counts offsets from `offset` instead of 0 (the length of the
    /// handshake, so offsets point into the whole connection).
    pub fn starting_at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The incoming chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Bytes consumed (plus the starting offset). After an error: where the
    /// offending chunk header starts, or for a payload over the reassembly
    /// limit, where that payload byte is.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes held for partly received messages: the declared length of
    /// each, whose buffer is reserved whole when its first chunk arrives
    /// (one allocation of the exact size, no regrowing).
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Applies a Set Chunk Size from the peer to the chunks that follow.
    ///
    /// Refused: 0, and sizes over the limit.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        if size == 0 || size > self.max_chunk_size {
            return Err(ChunkError::InvalidChunkSize {
                size,
                limit: self.max_chunk_size,
            });
        }
        self.chunk_size = size;
        Ok(())
    }

    /// Applies an Abort from the peer: drops the partly received message on
    /// chunk stream `csid`, if there is one.
    pub fn abort(&mut self, csid: u32) {
        if let Some(stream) = self
            .streams
            .iter_mut()
            .find(|s| s.csid == csid && s.in_message)
        {
            self.held -= stream.header.length as usize;
            stream.payload = BytesMut::new();
            stream.in_message = false;
        }
    }

    /// Reads chunks from the front of `buf` until a message is complete or
    /// the buffer runs out.
    pub fn feed(&mut self, buf: &mut BytesMut) -> Result<Option<RawMessage>, ChunkError> {
        loop {
            match self.state {
                State::Header => {
                    let Some(next) = self.read_header(buf)? else {
                        return Ok(None);
                    };
                    let chunk_offset = self.offset;
                    buf.advance(next.len);
                    self.offset += next.len as u64;
                    let index = self.apply(next, chunk_offset);
                    let stream = &self.streams[index];
                    let length = stream.header.length;
                    if length == 0 {
                        return Ok(Some(self.finish(index, Bytes::new())));
                    }
                    let left = (length - stream.payload.len() as u32).min(self.chunk_size);
                    self.state = State::Payload { index, left };
                }
                State::Payload { index, left } => {
                    let want = left as usize;
                    let stream = &mut self.streams[index];
                    let length = stream.header.length as usize;
                    if stream.payload.is_empty() && want == length && buf.len() >= want {
                        // The whole message is one chunk and all here. It
                        // is copied out, not sliced: a slice would pin the
                        // whole input buffer for as long as the frame lives
                        // (a stream's ring keeps frames for seconds), and
                        // the input would need a new buffer on every read.
                        let payload = Bytes::copy_from_slice(&buf[..want]);
                        buf.advance(want);
                        self.offset += want as u64;
                        self.state = State::Header;
                        return Ok(Some(self.finish(index, payload)));
                    }
                    let n = want.min(buf.len());
                    if n == 0 {
                        return Ok(None);
                    }
                    if stream.payload.is_empty() {
                        if self.held + length > self.max_reassembly_bytes {
                            return Err(ChunkError::ReassemblyLimit {
                                limit: self.max_reassembly_bytes,
                            });
                        }
                        self.held += length;
                        stream.payload = BytesMut::with_capacity(length);
                    }
                    stream.payload.extend_from_slice(&buf[..n]);
                    buf.advance(n);
                    self.offset += n as u64;
                    if n < want {
                        self.state = State::Payload {
                            index,
                            left: (want - n) as u32,
                        };
                        return Ok(None);
                    }
                    self.state = State::Header;
                    if stream.payload.len() == length {
                        self.held -= length;
                        let payload = std::mem::take(&mut stream.payload).freeze();
                        return Ok(Some(self.finish(index, payload)));
                    }
                }
            }
        }
    }

    /// Reads the next chunk header without consuming it; `None` until all
    /// of it (and its extended timestamp) is there.
    fn read_header(&self, buf: &[u8]) -> Result<Option<NextHeader>, ChunkError> {
        let Some((fmt, csid, mut pos)) = read_basic_header(buf) else {
            return Ok(None);
        };
        let index = self.streams.iter().position(|s| s.csid == csid);
        let previous = index.map(|i| &self.streams[i]);
        if previous.is_none() {
            if fmt != FMT_FULL {
                return Err(ChunkError::MissingHeader { csid, fmt });
            }
            if self.streams.len() >= self.max_chunk_streams {
                return Err(ChunkError::TooManyChunkStreams {
                    csid,
                    limit: self.max_chunk_streams,
                });
            }
        }
        let Some(fields) = buf.get(pos..pos + message_header_len(fmt)) else {
            return Ok(None);
        };
        pos += fields.len();
        let before = previous.map(|s| s.header).unwrap_or_default();
        let in_message = previous.is_some_and(|s| s.in_message);
        let mut header = before;
        if let [t0, t1, t2, rest @ ..] = fields {
            header.field = be24(&[*t0, *t1, *t2]);
            header.extended = header.field == EXTENDED_TIMESTAMP;
            if let [l0, l1, l2, type_id, rest @ ..] = rest {
                header.length = be24(&[*l0, *l1, *l2]);
                header.type_id = *type_id;
                if let [s0, s1, s2, s3] = rest {
                    header.stream_id = u32::from_le_bytes([*s0, *s1, *s2, *s3]);
                }
            }
        }
        if header.extended {
            let Some(bytes) = buf.get(pos..).and_then(|rest| rest.first_chunk::<4>()) else {
                return Ok(None);
            };
            let extended = u32::from_be_bytes(*bytes);
            if fmt != FMT_CONTINUATION || !in_message {
                header.field = extended;
                pos += 4;
            } else if extended == before.field {
                pos += 4;
            }
        }
        if in_message {
            let changed = header.length != before.length || header.type_id != before.type_id;
            if fmt == FMT_FULL || (fmt == FMT_SAME_STREAM && changed) {
                return Err(ChunkError::HeaderInsideMessage { csid, fmt });
            }
            header.timestamp = before.timestamp;
        } else {
            header.timestamp = if fmt == FMT_FULL {
                header.field
            } else {
                before.timestamp.wrapping_add(header.field)
            };
            if header.length > self.max_message_len {
                return Err(ChunkError::MessageTooLong {
                    csid,
                    len: u64::from(header.length),
                    limit: self.max_message_len,
                });
            }
        }
        Ok(Some(NextHeader {
            len: pos,
            csid,
            index,
            header,
            starts_message: !in_message,
        }))
    }

    /// Records a header on its chunk stream; returns the stream's slot.
    fn apply(&mut self, next: NextHeader, chunk_offset: u64) -> usize {
        let index = match next.index {
            Some(index) => index,
            None => {
                self.streams.push(ChunkStream {
                    csid: next.csid,
                    header: next.header,
                    in_message: false,
                    payload: BytesMut::new(),
                    message_offset: chunk_offset,
                });
                self.streams.len() - 1
            }
        };
        let stream = &mut self.streams[index];
        stream.header = next.header;
        if next.starts_message {
            stream.in_message = true;
            stream.message_offset = chunk_offset;
        }
        index
    }

    fn finish(&mut self, index: usize, payload: Bytes) -> RawMessage {
        let stream = &mut self.streams[index];
        stream.in_message = false;
        RawMessage {
            csid: stream.csid,
            header: MessageHeader {
                timestamp: stream.header.timestamp,
                type_id: stream.header.type_id,
                stream_id: stream.header.stream_id,
            },
            payload,
            offset: stream.message_offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BufMut;

    use super::*;
    use crate::rtmp::chunk::encode_message;

    fn decoder() -> ChunkDecoder {
        ChunkDecoder::new(&RtmpLimits::default())
    }

    /// Feeds everything and collects the messages.
    fn decode_all(decoder: &mut ChunkDecoder, bytes: &[u8]) -> Vec<RawMessage> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(message) = decoder.feed(&mut buf).unwrap() {
            out.push(message);
        }
        assert!(buf.is_empty(), "{} bytes left", buf.len());
        out
    }

    fn header(timestamp: u32, type_id: u8, stream_id: u32) -> MessageHeader {
        MessageHeader {
            timestamp,
            type_id,
            stream_id,
        }
    }

    #[test]
    fn reads_every_header_format() {
        let bytes: &[u8] = &[
            // fmt 0, csid 4: ts 1000, length 3, type 8, stream 1.
            0x04, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x03, 0x08, 0x01, 0x00, 0x00, 0x00, b'a', b'b',
            b'c', // fmt 1: delta 20, length 2, type 9.
            0x44, 0x00, 0x00, 0x14, 0x00, 0x00, 0x02, 0x09, b'd', b'e',
            // fmt 2: delta 30.
            0x84, 0x00, 0x00, 0x1e, b'f', b'g', // fmt 3: a new message, delta 30 again.
            0xc4, b'h', b'i',
        ];
        let messages = decode_all(&mut decoder(), bytes);
        let got: Vec<_> = messages
            .iter()
            .map(|m| (m.header, &m.payload[..], m.offset))
            .collect();
        assert_eq!(
            got,
            [
                (header(1000, 8, 1), &b"abc"[..], 0),
                (header(1020, 9, 1), &b"de"[..], 15),
                (header(1050, 9, 1), &b"fg"[..], 25),
                (header(1080, 9, 1), &b"hi"[..], 31),
            ]
        );
    }

    #[test]
    fn reads_two_and_three_byte_chunk_stream_ids() {
        let mut bytes = BytesMut::new();
        for csid in [64, 320, 65_599] {
            encode_message(&mut bytes, csid, header(5, 18, 0), b"xy", 128).unwrap();
        }
        let messages = decode_all(&mut decoder(), &bytes);
        let ids: Vec<_> = messages.iter().map(|m| m.csid).collect();
        assert_eq!(ids, [64, 320, 65_599]);
    }

    #[test]
    fn type_3_after_type_0_adds_the_type_0_timestamp() {
        // As ffmpeg and SRS read it: the "delta" after a type 0 header is
        // its absolute timestamp.
        let bytes: &[u8] = &[
            0x05, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x12, 0x00, 0x00, 0x00, 0x00, b'a', 0xc5,
            b'b',
        ];
        let messages = decode_all(&mut decoder(), bytes);
        assert_eq!(messages[1].header.timestamp, 20);
    }

    #[test]
    fn reads_extended_timestamps_repeated_on_continuations() {
        let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let mut bytes = BytesMut::new();
        encode_message(&mut bytes, 6, header(0x0123_4567, 9, 1), &payload, 128).unwrap();
        // 128 + 128 + 44 bytes: every type 3 chunk repeats the timestamp.
        assert_eq!(bytes.len(), 12 + 4 + 300 + 2 * (1 + 4));
        assert_eq!(&bytes[1..4], &[0xff, 0xff, 0xff]);
        assert_eq!(&bytes[12..16], &0x0123_4567u32.to_be_bytes());
        assert_eq!(&bytes[144..149], &[0xc6, 0x01, 0x23, 0x45, 0x67]);
        let messages = decode_all(&mut decoder(), &bytes);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].header.timestamp, 0x0123_4567);
        assert_eq!(messages[0].payload, payload);
    }

    #[test]
    fn reads_extended_timestamps_left_off_continuations() {
        let mut bytes = BytesMut::new();
        bytes.put_slice(&[0x06, 0xff, 0xff, 0xff, 0x00, 0x00, 0x82, 0x09, 1, 0, 0, 0]);
        bytes.put_u32(0x0100_0000);
        bytes.put_slice(&[0xaa; 128]);
        // The continuation has no extended timestamp: its first payload
        // bytes differ from it and stay payload.
        bytes.put_u8(0xc6);
        bytes.put_slice(&[1, 2]);
        // The next message is a type 3 with the extended delta: always read.
        bytes.put_u8(0xc6);
        bytes.put_u32(0x0100_0000);
        bytes.put_slice(&[0xbb; 128]);
        bytes.put_u8(0xc6);
        bytes.put_u32(0x0100_0000);
        bytes.put_slice(&[3, 4]);
        let messages = decode_all(&mut decoder(), &bytes);
        assert_eq!(messages.len(), 2);
        assert_eq!(&messages[0].payload[128..], &[1, 2]);
        assert_eq!(messages[1].header.timestamp, 0x0200_0000);
        assert_eq!(&messages[1].payload[128..], &[3, 4]);
    }

    #[test]
    fn follows_a_chunk_size_change_in_the_middle_of_a_message() {
        let payload = [0x5a; 300];
        let mut bytes = BytesMut::new();
        // The first 128 bytes of a 300-byte video message ...
        bytes.put_slice(&[0x06, 0, 0, 0, 0x00, 0x01, 0x2c, 0x09, 1, 0, 0, 0]);
        bytes.put_slice(&payload[..128]);
        // ... Set Chunk Size 4096 on chunk stream 2 ...
        encode_message(&mut bytes, 2, header(0, 1, 0), &4096u32.to_be_bytes(), 128).unwrap();
        // ... and the other 172 bytes in one chunk of the new size.
        bytes.put_u8(0xc6);
        bytes.put_slice(&payload[128..]);

        let mut decoder = decoder();
        let mut buf = BytesMut::from(&bytes[..]);
        let set = decoder.feed(&mut buf).unwrap().unwrap();
        assert_eq!(set.header.type_id, 1);
        assert_eq!(
            decoder.held_bytes(),
            300,
            "the video message's whole length"
        );
        decoder.set_chunk_size(4096).unwrap();
        let video = decoder.feed(&mut buf).unwrap().unwrap();
        assert_eq!(video.payload, &payload[..]);
        assert_eq!(decoder.held_bytes(), 0);
        assert!(buf.is_empty());
    }

    #[test]
    fn reassembles_interleaved_messages_byte_by_byte() {
        let mut bytes = BytesMut::new();
        bytes.put_slice(&[0x06, 0, 0, 40, 0x00, 0x00, 200, 0x09, 1, 0, 0, 0]);
        bytes.put_slice(&[9; 128]);
        encode_message(&mut bytes, 4, header(41, 8, 1), &[8; 10], 128).unwrap();
        bytes.put_u8(0xc6);
        bytes.put_slice(&[9; 72]);
        let mut decoder = decoder();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for byte in bytes.iter() {
            buf.put_u8(*byte);
            while let Some(message) = decoder.feed(&mut buf).unwrap() {
                out.push(message);
            }
            assert!(buf.len() < 12, "payload bytes are consumed as they come");
        }
        let kinds: Vec<_> = out
            .iter()
            .map(|m| (m.header.type_id, m.payload.len(), m.header.timestamp))
            .collect();
        assert_eq!(kinds, [(8, 10, 41), (9, 200, 40)]);
    }

    #[test]
    fn aborts_a_partial_message() {
        let mut bytes = BytesMut::new();
        bytes.put_slice(&[0x06, 0, 0, 0, 0x00, 0x01, 0x00, 0x09, 1, 0, 0, 0]);
        bytes.put_slice(&[1; 128]);
        let mut decoder = decoder();
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(decoder.feed(&mut buf).unwrap(), None);
        assert_eq!(decoder.held_bytes(), 256);
        decoder.abort(6);
        assert_eq!(decoder.held_bytes(), 0);
        // A new message may start on the chunk stream with a type 0 header.
        encode_message(&mut buf, 6, header(1, 9, 1), b"z", 128).unwrap();
        let message = decoder.feed(&mut buf).unwrap().unwrap();
        assert_eq!(message.payload, &b"z"[..]);
    }

    #[test]
    fn delivers_empty_messages() {
        let bytes = [0x04, 0, 0, 7, 0, 0, 0, 0x08, 1, 0, 0, 0];
        let messages = decode_all(&mut decoder(), &bytes);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].payload.is_empty());
    }

    #[test]
    fn refuses_a_message_over_the_limit_at_its_header() {
        // 0xffffff bytes announced; the limit is 8 MiB.
        let mut buf = BytesMut::from(&[0x06, 0, 0, 0, 0xff, 0xff, 0xff, 0x09, 1, 0, 0, 0][..]);
        let mut decoder = decoder().starting_at(3073);
        assert_eq!(
            decoder.feed(&mut buf),
            Err(ChunkError::MessageTooLong {
                csid: 6,
                len: 0xff_ffff,
                limit: 8 << 20
            })
        );
        assert_eq!(decoder.offset(), 3073);
    }

    #[test]
    fn refuses_headers_it_cannot_follow() {
        let mut buf = BytesMut::from(&[0x46, 0, 0, 0, 0, 0, 1, 9][..]);
        assert_eq!(
            decoder().feed(&mut buf),
            Err(ChunkError::MissingHeader { csid: 6, fmt: 1 })
        );
        // A 256-byte message, its first chunk, then a type 0 header.
        let mut buf = BytesMut::from(&[0x06, 0, 0, 0, 0, 1, 0, 9, 1, 0, 0, 0][..]);
        buf.put_slice(&[0xaa; 128]);
        buf.put_slice(&[0x06, 0, 0, 0, 0, 0, 1, 9, 1, 0, 0, 0]);
        assert_eq!(
            decoder().feed(&mut buf),
            Err(ChunkError::HeaderInsideMessage { csid: 6, fmt: 0 })
        );
    }

    #[test]
    fn messages_never_share_the_input_buffer() {
        let mut bytes = BytesMut::new();
        encode_message(&mut bytes, 4, header(0, 8, 1), &[8; 100], 128).unwrap();
        encode_message(&mut bytes, 6, header(0, 9, 1), &[9; 300], 128).unwrap();
        let mut buf = BytesMut::from(&bytes[..]);
        let input = buf.as_ptr_range();
        let mut decoder = decoder();
        let one_chunk = decoder.feed(&mut buf).unwrap().unwrap();
        let reassembled = decoder.feed(&mut buf).unwrap().unwrap();
        for message in [one_chunk, reassembled] {
            assert!(
                !input.contains(&message.payload.as_ptr()),
                "a frame kept for seconds would keep the whole read with it"
            );
        }
    }

    #[test]
    fn limits_chunk_streams_and_held_bytes() {
        let limits = RtmpLimits {
            max_chunk_streams: 2,
            max_reassembly_bytes: 300,
            ..RtmpLimits::default()
        };
        let mut bytes = BytesMut::new();
        for csid in 3..6 {
            encode_message(&mut bytes, csid, header(0, 8, 1), b"a", 128).unwrap();
        }
        let mut decoder = ChunkDecoder::new(&limits);
        assert!(decoder.feed(&mut bytes).unwrap().is_some());
        assert!(decoder.feed(&mut bytes).unwrap().is_some());
        assert_eq!(
            decoder.feed(&mut bytes),
            Err(ChunkError::TooManyChunkStreams { csid: 5, limit: 2 })
        );

        let mut decoder = ChunkDecoder::new(&limits);
        let mut bytes = BytesMut::new();
        for csid in 3..5 {
            bytes.put_slice(&[csid, 0, 0, 0, 0, 1, 0, 9, 1, 0, 0, 0]);
            bytes.put_slice(&[0; 128]);
        }
        // Two 256-byte messages started: the second's reservation would
        // pass the bound, before any of its bytes are kept.
        assert_eq!(
            decoder.feed(&mut bytes),
            Err(ChunkError::ReassemblyLimit { limit: 300 })
        );
    }

    #[test]
    fn refuses_bad_chunk_sizes() {
        let mut decoder = decoder();
        for size in [0, (1 << 24) + 1, 1 << 31] {
            assert_eq!(
                decoder.set_chunk_size(size),
                Err(ChunkError::InvalidChunkSize {
                    size,
                    limit: 1 << 24
                })
            );
        }
        assert_eq!(decoder.set_chunk_size(1), Ok(()));
        assert_eq!(decoder.chunk_size(), 1);
    }
}
