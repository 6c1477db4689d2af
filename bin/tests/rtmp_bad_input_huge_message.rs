//! After a valid handshake, a chunk header announcing the largest message
//! RTMP can express (0xFFFFFF bytes, 16 MiB - 1: the length field is 24 bits,
//! so this is as close to "2 GiB" as the wire allows) is refused at the
//! header, over the default max message length of 8 MiB: that one
//! connection is closed at once (not by a timer) with a logged reason and a
//! `protocol_errors` count; a publisher and a player on the same server
//! carry on, and the server still takes new connections.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{
    Arcly, Healthy, Rng, assert_bad_connection_isolated, chunk_header_type0, plain_handshake,
    tcp_connect,
};

#[test]
fn a_chunk_header_claiming_a_huge_message_closes_only_that_connection() {
    common::require_ffmpeg();
    let server = Arcly::start();
    let mut healthy = Healthy::start(&server);
    let before = server.total("protocol_errors");

    let mut conn = tcp_connect(server.rtmp);
    plain_handshake(&mut conn).expect("plain handshake");
    // An AMF0 command (type 20) on chunk stream 3, where `connect` goes,
    // followed by the first 128-byte chunk of its "body".
    let mut bytes = chunk_header_type0(3, 0, 0xff_ffff, 20, 0);
    bytes.extend(Rng::new(7).bytes(128));
    let _ = conn.write_all(&bytes);
    let sent = Instant::now();

    // Well under the default 10 s handshake timeout: the limit must act at
    // the header, not a timer.
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
