//! An incremental reader of whole FLV streams: files, HTTP-FLV pulls.

use bytes::{Buf, BytesMut};

use super::{FlvError, FlvHeader, FlvTag, MAX_TAG_DATA_SIZE, TagHeader};

/// The default largest tag body [`FlvReader`] accepts: everything FLV's
/// 24-bit size field can say (16 MiB).
pub const DEFAULT_MAX_TAG_SIZE: u32 = MAX_TAG_DATA_SIZE;

/// Where the reader is in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the file header.
    Header,
    /// Before the `PreviousTagSize` that closes a tag of this many bytes.
    PreviousTagSize(u32),
    /// Before a tag header.
    Tag,
}

/// Reads an FLV stream tag by tag from a buffer the driver fills.
///
/// [`feed`](Self::feed) consumes exactly what it parsed from the front of the
/// buffer and returns `Ok(None)` when it needs more bytes; call it again
/// after every read until it does. Each tag's `PreviousTagSize` is checked
/// when the next tag arrives, so a tag is handed out as soon as its body is
/// complete. Tag bodies are zero-copy splits of the buffer.
///
/// A tag announcing a body over the size limit is refused before its body is
/// buffered, so the driver never grows the buffer for it. After an error the
/// stream is out of sync and must be dropped.
#[derive(Clone, Debug)]
pub struct FlvReader {
    state: State,
    max_tag_size: u32,
    /// Bytes consumed so far, for error offsets.
    offset: u64,
    header: Option<FlvHeader>,
}

impl Default for FlvReader {
    fn default() -> Self {
        FlvReader::new()
    }
}

impl FlvReader {
    /// A reader at the start of a stream, with [`DEFAULT_MAX_TAG_SIZE`].
    pub fn new() -> Self {
        FlvReader {
            state: State::Header,
            max_tag_size: DEFAULT_MAX_TAG_SIZE,
            offset: 0,
            header: None,
        }
    }

    /// Refuses tags whose body is larger than `limit` bytes.
    pub fn with_max_tag_size(mut self, limit: u32) -> Self {
        self.max_tag_size = limit;
        self
    }

    /// The file header, once read.
    pub fn header(&self) -> Option<FlvHeader> {
        self.header
    }

    /// Bytes consumed from the stream so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next tag from the front of `buf`.
    pub fn feed(&mut self, buf: &mut BytesMut) -> Result<Option<FlvTag>, FlvError> {
        loop {
            match self.state {
                State::Header => {
                    let Some((header, len)) = FlvHeader::decode(buf).map_err(|e| self.at(e))?
                    else {
                        return Ok(None);
                    };
                    self.header = Some(header);
                    self.consume(buf, len);
                    self.state = State::Tag;
                }
                State::PreviousTagSize(expected) => {
                    let Some(bytes) = buf.first_chunk::<4>() else {
                        return Ok(None);
                    };
                    let found = u32::from_be_bytes(*bytes);
                    if found != expected {
                        return Err(self.at(FlvError::PreviousTagSize { expected, found }));
                    }
                    self.consume(buf, 4);
                    self.state = State::Tag;
                }
                State::Tag => {
                    let Some(bytes) = buf.first_chunk::<{ TagHeader::LEN }>() else {
                        return Ok(None);
                    };
                    let header = TagHeader::decode(bytes).map_err(|e| self.at(e))?;
                    if header.data_size > self.max_tag_size {
                        return Err(self.at(FlvError::TagTooLarge {
                            size: u64::from(header.data_size),
                            limit: self.max_tag_size,
                        }));
                    }
                    let len = TagHeader::LEN + header.data_size as usize;
                    if buf.len() < len {
                        return Ok(None);
                    }
                    let mut tag = buf.split_to(len);
                    tag.advance(TagHeader::LEN);
                    self.offset += len as u64;
                    self.state = State::PreviousTagSize(len as u32);
                    return Ok(Some(FlvTag {
                        tag_type: header.tag_type,
                        timestamp_ms: header.timestamp_ms,
                        body: tag.freeze(),
                    }));
                }
            }
        }
    }

    fn consume(&mut self, buf: &mut BytesMut, len: usize) {
        buf.advance(len);
        self.offset += len as u64;
    }

    fn at(&self, error: FlvError) -> FlvError {
        FlvError::InStream {
            offset: self.offset,
            source: Box::new(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, Bytes};

    use super::*;
    use crate::flv::TagType;

    fn stream(tags: &[FlvTag]) -> BytesMut {
        let mut buf = BytesMut::new();
        FlvHeader {
            has_audio: true,
            has_video: true,
        }
        .encode(&mut buf);
        for tag in tags {
            tag.encode(&mut buf).unwrap();
        }
        buf
    }

    fn tags() -> Vec<FlvTag> {
        vec![
            FlvTag {
                tag_type: TagType::Script,
                timestamp_ms: 0,
                body: Bytes::from_static(b"\x02\x00\x0aonMetaData\x05"),
            },
            FlvTag {
                tag_type: TagType::Video,
                timestamp_ms: 0,
                body: Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 0x64]),
            },
            FlvTag {
                tag_type: TagType::Audio,
                timestamp_ms: 0x0100_0000,
                body: Bytes::from_static(&[0xaf, 1, 0x21]),
            },
        ]
    }

    #[test]
    fn reads_a_stream_byte_by_byte() {
        let whole = stream(&tags());
        let mut reader = FlvReader::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for byte in whole.iter() {
            buf.put_u8(*byte);
            while let Some(tag) = reader.feed(&mut buf).unwrap() {
                out.push(tag);
            }
        }
        assert_eq!(out, tags());
        assert!(reader.header().unwrap().has_video);
        // The last PreviousTagSize was checked as soon as it arrived.
        assert!(buf.is_empty());
        assert_eq!(reader.offset(), whole.len() as u64);
    }

    #[test]
    fn refuses_oversized_tags_before_buffering_them() {
        let mut buf = stream(&tags()[..1]);
        buf.truncate(FlvHeader::ENCODED_LEN + TagHeader::LEN);
        let mut reader = FlvReader::new().with_max_tag_size(8);
        assert_eq!(
            reader.feed(&mut buf),
            Err(FlvError::InStream {
                offset: 13,
                source: Box::new(FlvError::TagTooLarge { size: 14, limit: 8 })
            })
        );
    }

    #[test]
    fn refuses_a_wrong_previous_tag_size() {
        let mut buf = stream(&tags()[..2]);
        let first_end = FlvHeader::ENCODED_LEN + tags()[0].encoded_len();
        buf[first_end - 1] ^= 1;
        let mut reader = FlvReader::new();
        assert!(reader.feed(&mut buf).unwrap().is_some());
        assert_eq!(
            reader.feed(&mut buf),
            Err(FlvError::InStream {
                offset: first_end as u64 - 4,
                source: Box::new(FlvError::PreviousTagSize {
                    expected: 25,
                    found: 24
                })
            })
        );
    }
}
