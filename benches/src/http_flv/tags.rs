//! The FLV tags of a stream, scanned as they go past: of each tag the
//! scanner keeps its header and the first [`BODY_HEAD`] bytes of its body —
//! the codec header and the stamp, all a player measures — and skips the
//! rest, so a player never gathers a frame. `PreviousTagSize` is checked,
//! which catches a framing slip (a chunk boundary misread) at the next tag.

/// Body bytes kept per tag: enough for every FLV video or audio header
/// (legacy or enhanced) and the synthetic source's stamp after it.
pub(crate) const BODY_HEAD: usize = 96;

/// FLV header bytes before its `DataOffset`-long tail.
const FILE_HEADER_LEN: usize = 9;

/// The largest `DataOffset` accepted.
const MAX_HEADER_LEN: u32 = 1024;

/// Bytes of a tag header.
const TAG_HEADER_LEN: usize = 11;

/// A tag, seen whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TagSeen {
    /// 8 audio, 9 video, 18 script.
    pub(crate) tag_type: u8,
    pub(crate) timestamp_ms: u32,
    /// The body's full length.
    pub(crate) body_len: u32,
    head: [u8; BODY_HEAD],
    head_len: usize,
}

impl TagSeen {
    /// The body's first bytes (all of it if it is at most [`BODY_HEAD`]
    /// long).
    pub(crate) fn head(&self) -> &[u8] {
        &self.head[..self.head_len]
    }
}

/// What the scanner waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// The file header's first nine bytes.
    FileHeader,
    /// Header bytes beyond nine (a `DataOffset` above 9), then
    /// `PreviousTagSize0`.
    HeaderTail(u32),
    /// A `PreviousTagSize` that must say this.
    PreviousTagSize(u32),
    TagHeader,
    /// Body bytes still to come.
    Body(u32),
}

/// Reads an FLV stream tag by tag, keeping only the heads of bodies.
#[derive(Clone, Debug)]
pub(crate) struct TagScanner {
    state: State,
    /// The fixed-size field being gathered, and how much of it came.
    field: [u8; TAG_HEADER_LEN],
    have: usize,
    /// The tag whose body is being read.
    tag: TagSeen,
    /// Stream bytes consumed, for error messages.
    offset: u64,
}

impl Default for TagScanner {
    fn default() -> Self {
        TagScanner {
            state: State::FileHeader,
            field: [0; TAG_HEADER_LEN],
            have: 0,
            tag: TagSeen {
                tag_type: 0,
                timestamp_ms: 0,
                body_len: 0,
                head: [0; BODY_HEAD],
                head_len: 0,
            },
            offset: 0,
        }
    }
}

impl TagScanner {
    /// Takes bytes from the front of `input` until a tag is complete, and
    /// returns it; `Ok(None)` when `input` ran out first. Call again while
    /// `input` has bytes. After an error the stream is out of step.
    pub(crate) fn feed(&mut self, input: &mut &[u8]) -> anyhow::Result<Option<TagSeen>> {
        loop {
            match self.state {
                State::FileHeader => {
                    let Some(header) = self.gather(input, FILE_HEADER_LEN) else {
                        return Ok(None);
                    };
                    anyhow::ensure!(
                        header[..4] == *b"FLV\x01",
                        "not an FLV version 1 stream: it starts {:02x?}",
                        &header[..4]
                    );
                    let size = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
                    anyhow::ensure!(
                        (FILE_HEADER_LEN as u32..=MAX_HEADER_LEN).contains(&size),
                        "an FLV header size of {size}"
                    );
                    self.state = State::HeaderTail(size - FILE_HEADER_LEN as u32);
                }
                State::HeaderTail(0) => self.state = State::PreviousTagSize(0),
                State::HeaderTail(left) => {
                    let n = input.len().min(left as usize);
                    self.advance(input, n);
                    if n == 0 {
                        return Ok(None);
                    }
                    self.state = State::HeaderTail(left - n as u32);
                }
                State::PreviousTagSize(expected) => {
                    let Some(bytes) = self.gather(input, 4) else {
                        return Ok(None);
                    };
                    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                    anyhow::ensure!(
                        found == expected,
                        "PreviousTagSize {found} where {expected} was due, at stream byte {}",
                        self.offset - 4
                    );
                    self.state = State::TagHeader;
                }
                State::TagHeader => {
                    let Some(h) = self.gather(input, TAG_HEADER_LEN) else {
                        return Ok(None);
                    };
                    let body_len = u32::from_be_bytes([0, h[1], h[2], h[3]]);
                    let timestamp_ms = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
                    // The low five bits: the filter bit and reserved bits
                    // above them say nothing a player measures.
                    self.tag.tag_type = h[0] & 0x1f;
                    self.tag.timestamp_ms = timestamp_ms;
                    self.tag.body_len = body_len;
                    self.tag.head_len = 0;
                    self.state = State::Body(body_len);
                }
                State::Body(left) => {
                    let n = input.len().min(left as usize);
                    let tag = &mut self.tag;
                    let keep = n.min(BODY_HEAD - tag.head_len);
                    tag.head[tag.head_len..tag.head_len + keep].copy_from_slice(&input[..keep]);
                    tag.head_len += keep;
                    self.advance(input, n);
                    let left = left - n as u32;
                    if left > 0 {
                        self.state = State::Body(left);
                        return Ok(None);
                    }
                    self.state = State::PreviousTagSize(TAG_HEADER_LEN as u32 + self.tag.body_len);
                    return Ok(Some(self.tag));
                }
            }
        }
    }

    /// Bytes of the stream consumed so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Gathers a field of `len` bytes across calls; the field once whole.
    fn gather(&mut self, input: &mut &[u8], len: usize) -> Option<[u8; TAG_HEADER_LEN]> {
        let n = input.len().min(len - self.have);
        self.field[self.have..self.have + n].copy_from_slice(&input[..n]);
        self.have += n;
        self.advance(input, n);
        if self.have < len {
            return None;
        }
        self.have = 0;
        Some(self.field)
    }

    fn advance(&mut self, input: &mut &[u8], n: usize) {
        *input = &input[n..];
        self.offset += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use arcly_media::flv::{FlvHeader, FlvTag, TagType};
    use bytes::{Bytes, BytesMut};

    use super::*;

    /// A header, then tags with bodies of these lengths (filled with their
    /// index) at timestamps 40 ms apart, the last one past 2^24 ms.
    fn stream(lengths: &[usize]) -> Vec<u8> {
        let mut out = BytesMut::new();
        FlvHeader {
            has_audio: true,
            has_video: true,
        }
        .encode(&mut out);
        for (i, &len) in lengths.iter().enumerate() {
            let last = i + 1 == lengths.len();
            FlvTag {
                tag_type: if i % 2 == 0 {
                    TagType::Video
                } else {
                    TagType::Audio
                },
                timestamp_ms: if last { 0x0123_4567 } else { 40 * i as u32 },
                body: Bytes::from(vec![i as u8; len]),
            }
            .encode(&mut out)
            .unwrap();
        }
        out.to_vec()
    }

    /// A tag as the tests compare it: type, timestamp, body length, head.
    type Seen = (u8, u32, u32, Vec<u8>);

    /// Every tag, feeding `wire` in the pieces `cuts` gives.
    fn scan(wire: &[u8], cuts: &[usize]) -> anyhow::Result<Vec<Seen>> {
        let mut scanner = TagScanner::default();
        let mut tags = Vec::new();
        let mut from = 0;
        for &to in cuts.iter().chain([&wire.len()]) {
            let mut input = &wire[from..to];
            from = to;
            while let Some(tag) = scanner.feed(&mut input)? {
                tags.push((
                    tag.tag_type,
                    tag.timestamp_ms,
                    tag.body_len,
                    tag.head().to_vec(),
                ));
            }
            assert!(input.is_empty());
        }
        Ok(tags)
    }

    #[test]
    fn tags_split_at_every_byte_come_out_the_same() {
        let wire = stream(&[5, 0, BODY_HEAD, BODY_HEAD + 1, 300]);
        let whole = scan(&wire, &[]).unwrap();
        assert_eq!(whole.len(), 5);
        assert_eq!(whole[0], (9, 0, 5, vec![0; 5]));
        assert_eq!(whole[1], (8, 40, 0, vec![]));
        assert_eq!(whole[3], (8, 120, BODY_HEAD as u32 + 1, vec![3; BODY_HEAD]));
        assert_eq!(whole[4], (9, 0x0123_4567, 300, vec![4; BODY_HEAD]));
        for a in 0..=wire.len() {
            assert_eq!(scan(&wire, &[a]).unwrap(), whole, "split at {a}");
        }
        // Every byte on its own.
        let singles: Vec<usize> = (1..wire.len()).collect();
        assert_eq!(scan(&wire, &singles).unwrap(), whole);
    }

    #[test]
    fn a_tag_is_handed_out_only_once_its_body_is_whole() {
        let wire = stream(&[200]);
        let mut scanner = TagScanner::default();
        let mut input = &wire[..wire.len() - 5];
        assert_eq!(scanner.feed(&mut input).unwrap(), None);
        let mut input = &wire[wire.len() - 5..];
        let tag = scanner.feed(&mut input).unwrap().unwrap();
        assert_eq!(tag.body_len, 200);
        // The closing PreviousTagSize is read with the next tag.
        assert_eq!(input.len(), 4);
        assert_eq!(scanner.feed(&mut input).unwrap(), None);
        assert_eq!(scanner.offset(), wire.len() as u64);
    }

    #[test]
    fn a_longer_file_header_is_skipped() {
        let mut wire = b"FLV\x01\x05\x00\x00\x00\x0cabc\x00\x00\x00\x00".to_vec();
        wire.extend_from_slice(&stream(&[7])[13..]);
        for a in 0..=wire.len() {
            let tags = scan(&wire, &[a]).unwrap();
            assert_eq!(tags, vec![(9, 0x0123_4567, 7, vec![0; 7])], "split at {a}");
        }
    }

    #[test]
    fn refuses_a_bad_signature_header_size_or_tag_size() {
        assert!(scan(b"FLX\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", &[]).is_err());
        assert!(scan(b"FLV\x01\x05\x00\x00\x00\x08\x00\x00\x00\x00", &[]).is_err());
        let mut wire = stream(&[10, 10]);
        // Corrupt the PreviousTagSize after the first tag (at 13 + 11 + 10).
        wire[13 + 21 + 3] ^= 1;
        let e = scan(&wire, &[]).unwrap_err().to_string();
        assert!(e.contains("at stream byte 34"), "{e}");
    }
}
