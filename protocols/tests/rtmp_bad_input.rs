//! Hostile and broken input: each case ends that one session with a clear
//! `SessionError` (stage and byte offset) and a `Closed` event, and never
//! panics.

mod rtmp_support;

use std::time::{Duration, Instant};

use arcly_protocols::amf0::{Amf0Error, Amf0Value, Command};
use arcly_protocols::rtmp::chunk::{MessageHeader, encode_message};
use arcly_protocols::rtmp::handshake::HANDSHAKE_SIZE;
use arcly_protocols::rtmp::{
    ChunkError, CloseReason, MessageError, ServerConfig, ServerSession, SessionError, SessionEvent,
    Stage,
};
use bytes::BytesMut;
use rtmp_support::drain_server;

/// Where the chunk stream starts: after C0, C1 and C2.
const CHUNKS_AT: u64 = 1 + 2 * HANDSHAKE_SIZE as u64;

/// A session past a plain handshake, and its clock.
fn handshaken() -> (ServerSession, Instant) {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let mut hello = vec![3];
    hello.extend_from_slice(&[0; 2 * HANDSHAKE_SIZE]);
    server.handle_input(&hello, now).unwrap();
    let out = drain_server(&mut server);
    assert_eq!(out.bytes.len(), 1 + 2 * HANDSHAKE_SIZE);
    (server, now)
}

/// Checks that `result` is `expected`, that the session closed with it as
/// its last event, and returns the error.
fn assert_closed_with(
    server: &mut ServerSession,
    result: Result<(), SessionError>,
    expected: &SessionError,
) {
    assert_eq!(result.as_ref(), Err(expected));
    let out = drain_server(server);
    assert_eq!(
        out.events.last(),
        Some(&SessionEvent::Closed {
            reason: CloseReason::Error(expected.clone())
        })
    );
    assert!(server.is_closed());
    assert_eq!(
        server.handle_input(b"more", Instant::now()),
        Err(SessionError::Closed)
    );
}

fn connect_body() -> Vec<u8> {
    let command = Command {
        name: "connect".into(),
        transaction_id: 1.0,
        command_object: Amf0Value::object([("app", "live".into())]),
        args: vec![],
    };
    let mut body = Vec::new();
    command.encode(&mut body).unwrap();
    body
}

fn message(csid: u32, type_id: u8, stream_id: u32, payload: &[u8]) -> BytesMut {
    let mut buf = BytesMut::new();
    let header = MessageHeader {
        timestamp: 0,
        type_id,
        stream_id,
    };
    encode_message(&mut buf, csid, header, payload, 128).unwrap();
    buf
}

#[test]
fn an_http_request_instead_of_a_handshake() {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let result = server.handle_input(b"GET /live/cam1.flv HTTP/1.1\r\n\r\n", now);
    let expected = SessionError::UnsupportedVersion { version: b'G' };
    assert_closed_with(&mut server, result, &expected);
    assert_eq!(expected.stage(), Stage::Handshake);
    assert_eq!(expected.offset(), Some(0));
    assert_eq!(
        expected.to_string(),
        "handshake version 71 at byte 0, only 3 is supported"
    );
}

#[test]
fn random_bytes_instead_of_a_handshake() {
    // xorshift bytes; the first is not 3, so the first byte is refused
    // without waiting for the rest of C1.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..5000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert_ne!(bytes[0], 3);
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let result = server.handle_input(&bytes, now);
    let expected = SessionError::UnsupportedVersion { version: bytes[0] };
    assert_closed_with(&mut server, result, &expected);
}

#[test]
fn wrong_c0_version() {
    // Version 6 is RTMPE, the encrypted variant arcly does not speak.
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let mut c0c1 = vec![6];
    c0c1.extend_from_slice(&[0; HANDSHAKE_SIZE]);
    let result = server.handle_input(&c0c1, now);
    assert_closed_with(
        &mut server,
        result,
        &SessionError::UnsupportedVersion { version: 6 },
    );
}

#[test]
fn truncated_handshake_then_timeout() {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    server.handle_input(&[3; 700], now).unwrap();
    let out = drain_server(&mut server);
    assert!(out.bytes.is_empty(), "no S0 before C1 is complete");
    assert_eq!(out.deadline, Some(now + Duration::from_secs(10)));
    assert_eq!(server.handle_timeout(now + Duration::from_secs(9)), Ok(()));
    let result = server.handle_timeout(now + Duration::from_secs(10));
    let expected = SessionError::HandshakeTimeout {
        limit: Duration::from_secs(10),
    };
    assert_closed_with(&mut server, result, &expected);
    assert_eq!(expected.stage(), Stage::Timer);
}

#[test]
fn one_byte_per_second_is_cut_off_by_the_handshake_timeout() {
    let start = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), start);
    let mut result = Ok(());
    for second in 1..=20 {
        let now = start + Duration::from_secs(second);
        result = server
            .handle_timeout(now)
            .and_then(|()| server.handle_input(&[3], now));
        if result.is_err() {
            assert_eq!(second, 10);
            break;
        }
    }
    let expected = SessionError::HandshakeTimeout {
        limit: Duration::from_secs(10),
    };
    assert_closed_with(&mut server, result, &expected);
}

#[test]
fn a_chunk_header_claiming_a_huge_message() {
    // The length field is 24 bits, so the largest claim a header can make
    // is 16 MiB - 1: over the 8 MiB default limit, refused at the header,
    // before a byte of it is buffered.
    let (mut server, now) = handshaken();
    let header = [0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0];
    let result = server.handle_input(&header, now);
    let expected = SessionError::Chunk {
        offset: CHUNKS_AT,
        source: ChunkError::MessageTooLong {
            csid: 3,
            len: 0xff_ffff,
            limit: 8 << 20,
        },
    };
    assert_closed_with(&mut server, result, &expected);
    assert_eq!(
        expected.to_string(),
        "chunk stream error at byte 3073: chunk stream 3 announces a message of 16777215 bytes, \
         over the limit of 8388608"
    );
}

#[test]
fn set_chunk_size_zero() {
    let (mut server, now) = handshaken();
    let result = server.handle_input(&message(2, 1, 0, &0u32.to_be_bytes()), now);
    let expected = SessionError::Chunk {
        offset: CHUNKS_AT,
        source: ChunkError::InvalidChunkSize {
            size: 0,
            limit: 1 << 24,
        },
    };
    assert_closed_with(&mut server, result, &expected);
}

#[test]
fn set_chunk_size_two_to_the_31() {
    let (mut server, now) = handshaken();
    let result = server.handle_input(&message(2, 1, 0, &(1u32 << 31).to_be_bytes()), now);
    let expected = SessionError::Chunk {
        offset: CHUNKS_AT,
        source: ChunkError::InvalidChunkSize {
            size: 1 << 31,
            limit: 1 << 24,
        },
    };
    assert_closed_with(&mut server, result, &expected);
}

#[test]
fn an_amf0_string_length_past_the_end() {
    // `connect` whose name claims 0xffff bytes in a 12-byte body.
    let (mut server, now) = handshaken();
    let mut body = connect_body();
    body.truncate(12);
    body[1..3].copy_from_slice(&[0xff, 0xff]);
    let result = server.handle_input(&message(3, 20, 0, &body), now);
    let expected = SessionError::Message {
        offset: CHUNKS_AT,
        type_id: 20,
        source: MessageError::Amf0(Amf0Error::Truncated {
            what: "string",
            offset: 3,
        }),
    };
    assert_closed_with(&mut server, result, &expected);
    assert_eq!(expected.stage(), Stage::Message);
}

#[test]
fn a_command_before_connect() {
    let (mut server, now) = handshaken();
    let mut body = Vec::new();
    Command {
        name: "publish".into(),
        transaction_id: 0.0,
        command_object: Amf0Value::Null,
        args: vec!["cam1".into()],
    }
    .encode(&mut body)
    .unwrap();
    let result = server.handle_input(&message(3, 20, 1, &body), now);
    let expected = SessionError::UnexpectedCommand {
        offset: CHUNKS_AT,
        name: "publish".into(),
        reason: "the first command must be connect",
    };
    assert_closed_with(&mut server, result, &expected);
}

#[test]
fn a_flood_while_a_decision_is_pending() {
    let (mut server, now) = handshaken();
    server
        .handle_input(&message(3, 20, 0, &connect_body()), now)
        .unwrap();
    assert!(server.is_awaiting_decision());
    let flood = vec![0u8; 1 << 20];
    let mut result = Ok(());
    for _ in 0..9 {
        result = server.handle_input(&flood, now);
        if result.is_err() {
            break;
        }
    }
    let expected = SessionError::InputOverflow {
        len: 9 << 20,
        limit: 8 << 20,
    };
    assert_closed_with(&mut server, result, &expected);
}

#[test]
fn a_type_3_chunk_on_a_new_chunk_stream() {
    let (mut server, now) = handshaken();
    let result = server.handle_input(&[0xc7, 1, 2, 3], now);
    let expected = SessionError::Chunk {
        offset: CHUNKS_AT,
        source: ChunkError::MissingHeader { csid: 7, fmt: 3 },
    };
    assert_closed_with(&mut server, result, &expected);
}

#[test]
fn media_the_server_cannot_read() {
    // A publisher sending Sorenson H.263 (codec id 2), which arcly cannot
    // serve, is refused with the offset of the message.
    let pair = {
        let mut pair = rtmp_support::Pair::new(arcly_protocols::rtmp::ClientRole::Publish, "x");
        pair.run();
        pair
    };
    let mut server = pair.server;
    let video = message(6, 9, 1, &[0x22, 0, 0]);
    let result = server.handle_input(&video, pair.now);
    let Err(SessionError::Media { source, .. }) = &result else {
        panic!("{result:?}");
    };
    assert_eq!(source.to_string(), "unsupported legacy video codec id 2");
    let expected = result.clone().unwrap_err();
    assert_closed_with(&mut server, result, &expected);
}
