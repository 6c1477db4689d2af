//! C0 and half of C1, then silence: the handshake timeout (2 s here, from
//! `[rtmp] handshake_timeout_secs`) closes that one connection with a logged
//! reason and a `timeouts` count; a publisher and a player on the same
//! server carry on, and the server still takes new connections.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Arcly, HANDSHAKE_SIZE, Healthy, assert_bad_connection_isolated, c0c1, tcp_connect};

const CONFIG: &str = "[rtmp]\nhandshake_timeout_secs = 2\n";

#[test]
fn a_truncated_handshake_is_closed_by_the_handshake_timeout() {
    common::require_ffmpeg();
    let server = Arcly::start_with_config(CONFIG);
    let mut healthy = Healthy::start(&server);
    let before = server.total("timeouts");

    let mut conn = tcp_connect(server.rtmp);
    conn.write_all(&c0c1()[..1 + HANDSHAKE_SIZE / 2]).unwrap();
    let sent = Instant::now();

    let closed_after = assert_bad_connection_isolated(
        &server,
        &mut healthy,
        &mut conn,
        sent,
        Duration::from_secs(6),
        "timeouts",
        before,
    );
    assert!(
        closed_after >= Duration::from_millis(1500),
        "closed after {closed_after:?}, before the 2 s handshake timeout could have run out"
    );
    drop(healthy);
    server.stop();
}
