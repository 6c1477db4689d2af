//! Every parser in the crate returns `Ok` or `Err` on any input: none of them
//! panics, whatever the bytes.

use arcly_protocols::amf0::{Amf0Limits, Amf0Reader, Command};
use arcly_protocols::http::{RequestParser, percent_decode};
use bytes::BytesMut;
use proptest::prelude::*;

const CONNECT: &[u8] = include_bytes!("data/ffmpeg_play_connect.bin");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn amf0_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Amf0Reader::new(&bytes).read_all();
        let _ = Command::decode(&bytes);
        let tight = Amf0Limits { max_depth: 2, max_values: 8 };
        let _ = Amf0Reader::with_limits(&bytes, tight).read_all();
    }

    #[test]
    fn amf0_never_panics_on_damaged_commands(
        edits in proptest::collection::vec((0..CONNECT.len(), any::<u8>()), 1..8),
        cut in 0..=CONNECT.len(),
    ) {
        let mut bytes = CONNECT.to_vec();
        for (at, byte) in edits {
            bytes[at] = byte;
        }
        bytes.truncate(cut);
        let _ = Command::decode(&bytes);
    }

    #[test]
    fn nested_amf0_is_bounded(depth in 0usize..2000) {
        // `depth` nested strict arrays of one element.
        let mut bytes = Vec::new();
        for _ in 0..depth {
            bytes.extend([0x0a, 0, 0, 0, 1]);
        }
        bytes.push(0x05);
        let result = Amf0Reader::new(&bytes).read();
        prop_assert_eq!(result.is_ok(), depth <= 32);
    }

    #[test]
    fn http_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        piece in 1usize..64,
    ) {
        let mut parser = RequestParser::with_limits(256, 8);
        let mut buf = BytesMut::new();
        'feed: for chunk in bytes.chunks(piece) {
            buf.extend_from_slice(chunk);
            loop {
                match parser.feed(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(error) => {
                        let _ = error.status();
                        break 'feed;
                    }
                }
            }
            prop_assert!(buf.len() <= 256 + piece);
        }
    }

    #[test]
    fn http_never_panics_on_plausible_heads(
        method in "(GET|HEAD|POST|BREW|get)",
        target in "[ -~]{0,40}",
        fields in proptest::collection::vec(("[ -~]{0,12}", "[ -~\t]{0,24}"), 0..6),
    ) {
        let mut text = format!("{method} {target} HTTP/1.1\r\n");
        for (name, value) in fields {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        let _ = RequestParser::new().feed(&mut BytesMut::from(text.as_str()));
        let _ = percent_decode(&target, true, "query");
    }
}
