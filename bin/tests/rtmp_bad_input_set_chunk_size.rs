//! After a valid handshake, Set Chunk Size 0, or 2^31 (the protocol allows
//! at most 2^31 - 1), closes that one connection at once with a logged
//! reason and a `protocol_errors` count; a publisher and a player on the
//! same server carry on, and the server still takes new connections.

mod common;

use common::{BadInput, chunk_header_type0, plain_handshake, tcp_connect};

fn set_chunk_size_closes_only_that_connection(size: u32) {
    let bad = BadInput::start();

    let mut conn = tcp_connect(bad.server.rtmp);
    plain_handshake(&mut conn).expect("plain handshake");
    // Set Chunk Size: protocol control message type 1 on chunk stream 2,
    // message stream 0, a 4-byte big-endian size.
    let mut bytes = chunk_header_type0(2, 0, 4, 1, 0);
    bytes.extend_from_slice(&size.to_be_bytes());
    bad.send_and_expect_close(&mut conn, &bytes);
}

#[test]
fn set_chunk_size_zero_closes_only_that_connection() {
    set_chunk_size_closes_only_that_connection(0);
}

#[test]
fn set_chunk_size_two_to_the_31_closes_only_that_connection() {
    set_chunk_size_closes_only_that_connection(0x8000_0000);
}
