//! After a valid handshake, a complete `connect` command whose AMF0 string
//! length points past the end of the message closes that one connection at
//! once with a logged reason and a `protocol_errors` count; a publisher and
//! a player on the same server carry on, and the server still takes new
//! connections.

mod common;

use common::{Amf, BadInput, chunk_header_type0, plain_handshake, tcp_connect};

#[test]
fn an_amf0_string_longer_than_its_message_closes_only_that_connection() {
    let bad = BadInput::start();

    // "connect", 1.0, { app: <string of 65535 bytes, of which 4 are here>
    let mut body = Vec::new();
    Amf::str("connect").encode(&mut body);
    Amf::Number(1.0).encode(&mut body);
    body.push(3); // object
    body.extend_from_slice(&3u16.to_be_bytes());
    body.extend_from_slice(b"app");
    body.push(2); // string
    body.extend_from_slice(&0xffffu16.to_be_bytes());
    body.extend_from_slice(b"live");
    assert!(body.len() <= 128, "one chunk at the default chunk size");

    let mut conn = tcp_connect(bad.server.rtmp);
    plain_handshake(&mut conn).expect("plain handshake");
    let mut bytes = chunk_header_type0(3, 0, body.len() as u32, 20, 0);
    bytes.extend_from_slice(&body);
    bad.send_and_expect_close(&mut conn, &bytes);
}
