//! The RTMP chunk decoder under limits chosen by the input, fed a chunk
//! stream in the input's reads.
//!
//! Input: `[limits] [Splits layout]` (see [`limits`]). The decoder is
//! driven as a session's link drives it: every message is parsed with
//! `Message::decode`, Set Chunk Size and Abort are applied, and a refused
//! chunk size ends the stream. Checked:
//!
//! - the limits hold: no message over `max_message_len`, never more than
//!   `max_reassembly_bytes` held;
//! - the reads do not matter: the messages, the final error and offset are
//!   those of the whole stream in one read (except that a message arriving
//!   whole in one read is not held, so only the split run may hit the
//!   reassembly limit for it);
//! - the messages re-encode with `encode_message` and decode to the same
//!   chunk stream ids, headers and payloads.
#![no_main]

use arcly_fuzz::Splits;
use arcly_protocols::amf0::Amf0Limits;
use arcly_protocols::rtmp::chunk::{ChunkDecoder, DEFAULT_CHUNK_SIZE, RawMessage, encode_message};
use arcly_protocols::rtmp::message::Message;
use arcly_protocols::rtmp::{ChunkError, RtmpLimits};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

/// Limits from the first input byte: two bits each for the message length,
/// the chunk stream count, the reassembly budget and the largest chunk
/// size, each either the default or a small value that real streams hit.
fn limits(byte: u8) -> RtmpLimits {
    let defaults = RtmpLimits::default();
    let choice = |shift: u32| usize::from((byte >> shift) & 0x03);
    RtmpLimits {
        max_message_len: [defaults.max_message_len, 0, 200, 4096][choice(0)],
        max_chunk_streams: [defaults.max_chunk_streams, 0, 1, 3][choice(2)],
        max_reassembly_bytes: [defaults.max_reassembly_bytes, 0, 300, 8192][choice(4)],
        max_chunk_size: [defaults.max_chunk_size, 1, 128, 4096][choice(6)],
        ..defaults
    }
}

/// What decoding a stream produced.
#[derive(Debug)]
struct Run {
    messages: Vec<RawMessage>,
    error: Option<ChunkError>,
    /// Bytes consumed when decoding stopped.
    offset: u64,
    held: usize,
}

fn decode<'a>(limits: &RtmpLimits, reads: impl IntoIterator<Item = &'a [u8]>) -> Run {
    let mut decoder = ChunkDecoder::new(limits);
    let mut input = BytesMut::new();
    let mut messages = Vec::new();
    let mut error = None;
    'reads: for read in reads {
        input.extend_from_slice(read);
        loop {
            let message = match decoder.feed(&mut input) {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break 'reads;
                }
            };
            assert!(decoder.held_bytes() <= limits.max_reassembly_bytes);
            assert!(message.payload.len() <= limits.max_message_len as usize);
            assert!(message.offset < decoder.offset());
            let parsed = Message::decode(
                message.header.type_id,
                message.payload.clone(),
                Amf0Limits::default(),
            );
            messages.push(message);
            match parsed {
                Ok(Message::SetChunkSize(size)) => {
                    if let Err(e) = decoder.set_chunk_size(size) {
                        error = Some(e);
                        break 'reads;
                    }
                    assert_eq!(decoder.chunk_size(), size);
                }
                Ok(Message::Abort { csid }) => decoder.abort(csid),
                _ => {}
            }
        }
        assert!(decoder.held_bytes() <= limits.max_reassembly_bytes);
    }
    Run {
        messages,
        error,
        offset: decoder.offset(),
        held: decoder.held_bytes(),
    }
}

/// The split run must match the whole run, but for the reassembly limit.
fn compare(split: &Run, whole: &Run) {
    let common = split.messages.len().min(whole.messages.len());
    assert_eq!(
        split.messages[..common],
        whole.messages[..common],
        "messages depend on the reads"
    );
    if matches!(split.error, Some(ChunkError::ReassemblyLimit { .. })) {
        return;
    }
    assert_eq!(split.messages.len(), whole.messages.len(), "message count");
    assert_eq!(split.error, whole.error, "final error");
    assert_eq!(split.offset, whole.offset, "final offset");
    if split.error.is_none() {
        assert_eq!(split.held, whole.held, "held bytes");
    }
}

/// Encodes the messages one after another and decodes them again.
fn round_trip(messages: &[RawMessage]) {
    let mut stream = BytesMut::new();
    for message in messages {
        encode_message(
            &mut stream,
            message.csid,
            message.header,
            &message.payload,
            DEFAULT_CHUNK_SIZE,
        )
        .expect("a decoded message encodes");
    }
    let mut decoder = ChunkDecoder::new(&RtmpLimits::default());
    for message in messages {
        let again = decoder
            .feed(&mut stream)
            .expect("re-encoded chunks decode")
            .expect("a whole message was encoded");
        assert_eq!(
            (again.csid, again.header, &again.payload),
            (message.csid, message.header, &message.payload),
            "round trip"
        );
    }
    assert!(stream.is_empty(), "every re-encoded byte was read");
}

fuzz_target!(|data: &[u8]| {
    let Some((&byte, rest)) = data.split_first() else {
        return;
    };
    let limits = limits(byte);
    let splits = Splits::new(rest);
    let split = decode(&limits, splits.clone());
    let whole = decode(&limits, [splits.stream()]);
    compare(&split, &whole);
    round_trip(&split.messages);
});
