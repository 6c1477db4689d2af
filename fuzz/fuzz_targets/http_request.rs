//! The HTTP/1.1 request head parser, fed a connection's bytes in the
//! input's reads.
//!
//! Input: `[limits] [Splits layout]`; the first byte picks the head-length
//! and field-count limits (default or small). After every read the parser
//! is called until it wants more, as a driver does with pipelined
//! requests. Checked: the heads and the final error are those of the whole
//! stream in one read, and every head answers `keep_alive` and
//! `query_param` without panicking.
#![no_main]

use arcly_fuzz::Splits;
use arcly_protocols::http::{
    DEFAULT_MAX_HEAD_LEN, DEFAULT_MAX_HEADERS, HttpError, RequestHead, RequestParser,
    percent_decode,
};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

/// Limits from the first input byte: the default, or small enough for the
/// fuzzer to reach.
fn parser(byte: u8) -> RequestParser {
    let max_head_len = [DEFAULT_MAX_HEAD_LEN, 0, 16, 256][usize::from(byte & 0x03)];
    let max_headers = [DEFAULT_MAX_HEADERS, 0, 1, 4][usize::from((byte >> 2) & 0x03)];
    RequestParser::with_limits(max_head_len, max_headers)
}

/// The heads parsed from the reads, and the error that stopped the parser.
fn parse<'a>(
    mut parser: RequestParser,
    reads: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<RequestHead>, Option<HttpError>) {
    let mut buf = BytesMut::new();
    let mut heads = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            match parser.feed(&mut buf) {
                Ok(Some(head)) => heads.push(head),
                Ok(None) => break,
                Err(error) => return (heads, Some(error)),
            }
        }
    }
    (heads, None)
}

/// What a handler asks of every head.
fn use_head(head: &RequestHead) {
    head.keep_alive();
    let _ = head.query_param("token");
    let _ = percent_decode(&head.path, false, "path");
}

fuzz_target!(|data: &[u8]| {
    let Some((&byte, rest)) = data.split_first() else {
        return;
    };
    let splits = Splits::new(rest);
    let split = parse(parser(byte), splits.clone());
    let whole = parse(parser(byte), [splits.stream()]);
    split.0.iter().for_each(use_head);
    assert_eq!(split, whole, "parse depends on the reads");
});
