//! Pipelined requests arriving in arbitrary pieces are read one head at a
//! time, each consuming exactly its own bytes.

use arcly_protocols::http::{HttpError, Method, RequestParser};
use bytes::BytesMut;

const PIPELINE: &str = "GET /live/a.flv HTTP/1.1\r\nHost: o\r\n\r\n\
                        HEAD /live/a.m3u8 HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n\
                        GET /api/streams?app=live HTTP/1.1\r\nHost: o\r\nContent-Length: 0\r\n\r\n";

#[test]
fn reads_each_head_in_turn() {
    for piece in [1, 2, 3, 5, 16, PIPELINE.len()] {
        let mut parser = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut heads = Vec::new();
        for chunk in PIPELINE.as_bytes().chunks(piece) {
            buf.extend_from_slice(chunk);
            while let Some(head) = parser.feed(&mut buf).unwrap() {
                heads.push(head);
            }
        }
        assert!(buf.is_empty(), "piece {piece}");
        let summary: Vec<_> = heads
            .iter()
            .map(|h| (h.method, h.path.as_str(), h.keep_alive()))
            .collect();
        assert_eq!(
            summary,
            [
                (Method::Get, "/live/a.flv", true),
                (Method::Head, "/live/a.m3u8", false),
                (Method::Get, "/api/streams", true),
            ],
            "piece {piece}"
        );
        assert_eq!(
            heads[2].query_param("app").unwrap().as_deref(),
            Some("live")
        );
    }
}

#[test]
fn leaves_the_bytes_after_a_head() {
    // An upgrade or a protocol switch leaves its first bytes behind the head.
    let mut buf = BytesMut::from(&b"GET /ws HTTP/1.1\r\nHost: o\r\n\r\n\x81\x05hello"[..]);
    let head = RequestParser::new().feed(&mut buf).unwrap().unwrap();
    assert_eq!(head.path, "/ws");
    assert_eq!(&buf[..], b"\x81\x05hello");
}

#[test]
fn a_body_stops_the_pipeline() {
    let mut buf = BytesMut::from(
        "GET / HTTP/1.1\r\nHost: o\r\n\r\nPOST /api HTTP/1.1\r\nHost: o\r\nContent-Length: 2\r\n\r\n{}",
    );
    let mut parser = RequestParser::new();
    assert!(parser.feed(&mut buf).unwrap().is_some());
    let error = parser.feed(&mut buf).unwrap_err();
    assert_eq!(error, HttpError::BodyNotAccepted(2));
    assert_eq!(error.status(), 413);
}
