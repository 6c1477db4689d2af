//! Random bytes instead of C0/C1 close that one connection at once, with a
//! logged reason and a `protocol_errors` count; a publisher and a player on
//! the same server carry on, and the server still takes new connections.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Arcly, HANDSHAKE_SIZE, Healthy, Rng, assert_bad_connection_isolated, tcp_connect};

#[test]
fn random_bytes_instead_of_a_handshake_close_only_that_connection() {
    common::require_ffmpeg();
    let server = Arcly::start();
    let mut healthy = Healthy::start(&server);
    let before = server.total("protocol_errors");

    let mut conn = tcp_connect(server.rtmp);
    let mut garbage = Rng::new(0x0bad_5eed).bytes(1 + 2 * HANDSHAKE_SIZE);
    garbage[0] = 0xfa; // not version 3 (nor 6, the encrypted variant)
    // The server may close before it has read everything: a failed write
    // is expected then.
    let _ = conn.write_all(&garbage);
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
