//! After a valid handshake, Set Chunk Size 0, or 2^31 (the protocol allows
//! at most 2^31 - 1), closes that one connection at once with a logged
//! reason and a `protocol_errors` count; a publisher and a player on the
//! same server carry on, and the server still takes new connections.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{
    Arcly, Healthy, assert_bad_connection_isolated, chunk_header_type0, plain_handshake,
    tcp_connect,
};

fn set_chunk_size_closes_only_that_connection(size: u32) {
    common::require_ffmpeg();
    let server = Arcly::start();
    let mut healthy = Healthy::start(&server);
    let before = server.total("protocol_errors");

    let mut conn = tcp_connect(server.rtmp);
    plain_handshake(&mut conn).expect("plain handshake");
    // Set Chunk Size: protocol control message type 1 on chunk stream 2,
    // message stream 0, a 4-byte big-endian size.
    let mut bytes = chunk_header_type0(2, 0, 4, 1, 0);
    bytes.extend_from_slice(&size.to_be_bytes());
    let _ = conn.write_all(&bytes);
    let sent = Instant::now();

    assert_bad_connection_isolated(
        &server,
        &mut healthy,
        &mut conn,
        sent,
        Duration::from_secs(3),
        "protocol_errors",
        before,
    );
    drop(healthy);
    server.stop();
}

#[test]
fn set_chunk_size_zero_closes_only_that_connection() {
    set_chunk_size_closes_only_that_connection(0);
}

#[test]
fn set_chunk_size_two_to_the_31_closes_only_that_connection() {
    set_chunk_size_closes_only_that_connection(0x8000_0000);
}
