//! An HTTP-FLV response, from its first byte to its last tag: the head,
//! then the body's framing, then the FLV tags inside it.

use super::body::BodyReader;
use super::response::HeadReader;
use super::tags::{TagScanner, TagSeen};

/// What the parser hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HttpFlvEvent {
    /// A whole tag (its body's head only).
    Tag(TagSeen),
    /// The body ended (the last chunk, or its length reached).
    End,
}

#[derive(Clone, Debug)]
enum Stage {
    Head(HeadReader),
    Body(BodyReader),
}

/// Parses one HTTP-FLV response as its bytes arrive, in pieces of any
/// size; a status other than 200 is an error that says which.
#[derive(Clone, Debug)]
pub(crate) struct HttpFlvParser {
    stage: Stage,
    tags: TagScanner,
}

impl Default for HttpFlvParser {
    fn default() -> Self {
        HttpFlvParser {
            stage: Stage::Head(HeadReader::default()),
            tags: TagScanner::default(),
        }
    }
}

impl HttpFlvParser {
    /// Takes bytes from the front of `input` until a tag is whole or the
    /// body ends; `Ok(None)` when `input` ran out first. Call again while
    /// `input` has bytes. After an error the response cannot be read on.
    pub(crate) fn feed(&mut self, input: &mut &[u8]) -> anyhow::Result<Option<HttpFlvEvent>> {
        let body = loop {
            match &mut self.stage {
                Stage::Head(head) => {
                    let Some(start) = head.feed(input)? else {
                        return Ok(None);
                    };
                    anyhow::ensure!(
                        start.status == 200,
                        "the server answered {} {}",
                        start.status,
                        start.reason
                    );
                    self.stage = Stage::Body(start.body);
                }
                Stage::Body(body) => break body,
            }
        };
        loop {
            let n = body.next_data(input)?;
            if n == 0 {
                return Ok(body.is_done().then_some(HttpFlvEvent::End));
            }
            let mut data = &input[..n];
            let tag = self.tags.feed(&mut data).map_err(|e| {
                e.context(format!("in the FLV body at byte {}", self.tags.offset()))
            })?;
            let used = n - data.len();
            body.consume(used);
            *input = &input[used..];
            if let Some(tag) = tag {
                return Ok(Some(HttpFlvEvent::Tag(tag)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use arcly_media::flv::{FlvHeader, FlvTag, TagType};
    use arcly_protocols::http::{encode_chunk, encode_last_chunk};
    use bytes::{Bytes, BytesMut};

    use super::*;

    const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";

    /// An FLV stream of `tags` tags (bodies of 20 to 200 bytes) in chunks
    /// cut as arcly cuts them (the header alone, then a tag or two per
    /// chunk), then the last chunk.
    fn response(tags: usize) -> Vec<u8> {
        let mut out = BytesMut::from(HEAD);
        let mut header = BytesMut::new();
        FlvHeader {
            has_audio: true,
            has_video: true,
        }
        .encode(&mut header);
        encode_chunk(&header, &mut out);
        let mut batch = BytesMut::new();
        for i in 0..tags {
            FlvTag {
                tag_type: if i % 3 == 0 {
                    TagType::Audio
                } else {
                    TagType::Video
                },
                timestamp_ms: 40 * i as u32,
                body: Bytes::from(vec![i as u8; 20 + 60 * (i % 4)]),
            }
            .encode(&mut batch)
            .unwrap();
            if i % 2 == 1 || i + 1 == tags {
                encode_chunk(&batch, &mut out);
                batch.clear();
            }
        }
        encode_last_chunk(&mut out);
        out.to_vec()
    }

    /// Every event, feeding `wire` in the pieces `cuts` gives.
    fn events(wire: &[u8], cuts: &[usize]) -> anyhow::Result<Vec<HttpFlvEvent>> {
        let mut parser = HttpFlvParser::default();
        let mut out = Vec::new();
        let mut from = 0;
        for &to in cuts.iter().chain([&wire.len()]) {
            let mut input = &wire[from..to];
            from = to;
            while let Some(event) = parser.feed(&mut input)? {
                out.push(event);
                if event == HttpFlvEvent::End {
                    return Ok(out);
                }
            }
            assert!(input.is_empty());
        }
        Ok(out)
    }

    #[test]
    fn a_response_split_at_every_byte_and_byte_pair_gives_the_same_tags() {
        let wire = response(5);
        let whole = events(&wire, &[]).unwrap();
        assert_eq!(whole.len(), 6);
        assert_eq!(whole[5], HttpFlvEvent::End);
        let HttpFlvEvent::Tag(tag) = whole[4] else {
            panic!("{whole:?}")
        };
        assert_eq!((tag.tag_type, tag.timestamp_ms, tag.body_len), (9, 160, 20));
        assert_eq!(tag.head(), &[4; 20]);
        for a in 0..=wire.len() {
            for b in a..=wire.len() {
                assert_eq!(events(&wire, &[a, b]).unwrap(), whole, "split at {a}, {b}");
            }
        }
        let singles: Vec<usize> = (1..wire.len()).collect();
        assert_eq!(events(&wire, &singles).unwrap(), whole);
    }

    #[test]
    fn a_close_delimited_body_has_tags_and_no_end() {
        let mut wire = b"HTTP/1.0 200 OK\r\nContent-Type: video/x-flv\r\n\r\n".to_vec();
        let mut body = BytesMut::new();
        FlvHeader::default().encode(&mut body);
        FlvTag {
            tag_type: TagType::Video,
            timestamp_ms: 0,
            body: Bytes::from_static(b"\x17\x01\x00\x00\x00abc"),
        }
        .encode(&mut body)
        .unwrap();
        wire.extend_from_slice(&body);
        for a in 0..=wire.len() {
            let events = events(&wire, &[a]).unwrap();
            assert_eq!(events.len(), 1, "split at {a}");
        }
    }

    #[test]
    fn a_refusal_says_its_status_and_bad_framing_is_an_error() {
        let e = events(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nno\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "the server answered 404 Not Found");
        let mut wire = response(3);
        // The CRLF after the first chunk (the FLV header) becomes "\rX".
        let at = HEAD.len() + 3 + 13 + 1;
        wire[at] = b'X';
        assert!(events(&wire, &[]).is_err());
        // A chunk size one short leaves a byte where its CRLF is due.
        let mut wire = response(3);
        let at = HEAD.len() + 3 + 13 + 2;
        wire[at + 1] -= 1;
        assert!(events(&wire, &[]).is_err());
    }
}
