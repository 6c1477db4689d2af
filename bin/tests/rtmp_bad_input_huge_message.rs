//! After a valid handshake, a chunk header announcing the largest message
//! RTMP can express (0xFFFFFF bytes, 16 MiB - 1: the length field is 24 bits,
//! so this is as close to "2 GiB" as the wire allows) is refused at the
//! header, over the default max message length of 8 MiB: that one
//! connection is closed at once (not by a timer) with a logged reason and a
//! `protocol_errors` count; a publisher and a player on the same server
//! carry on, and the server still takes new connections.

mod common;

use common::{BadInput, Rng, chunk_header_type0, plain_handshake, tcp_connect};

#[test]
fn a_chunk_header_claiming_a_huge_message_closes_only_that_connection() {
    let bad = BadInput::start();

    let mut conn = tcp_connect(bad.server.rtmp);
    plain_handshake(&mut conn).expect("plain handshake");
    // An AMF0 command (type 20) on chunk stream 3, where `connect` goes,
    // followed by the first 128-byte chunk of its "body".
    let mut bytes = chunk_header_type0(3, 0, 0xff_ffff, 20, 0);
    bytes.extend(Rng::new(7).bytes(128));
    // Closed within 3 s, well under the default 10 s handshake timeout: the
    // limit must act at the header, not a timer.
    bad.send_and_expect_close(&mut conn, &bytes);
}
