//! A client that trickles its handshake at 1 byte per second never goes
//! idle, so only the handshake timeout (2 s here, from `[rtmp]
//! handshake_timeout_secs`) can stop it: it closes that one connection with
//! a logged reason and a `timeouts` count; a publisher and a player on the
//! same server carry on, and the server still takes new connections.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use common::{Arcly, Healthy, assert_bad_connection_isolated, c0c1, tcp_connect};

const CONFIG: &str = "[rtmp]\nhandshake_timeout_secs = 2\n";

#[test]
fn a_handshake_at_one_byte_per_second_is_closed_by_the_handshake_timeout() {
    common::require_ffmpeg();
    let server = Arcly::start_with_config(CONFIG);
    let mut healthy = Healthy::start(&server);
    let before = server.total("timeouts");

    let mut conn = tcp_connect(server.rtmp);
    let started = Instant::now();
    let mut sent = 0;
    let mut buf = [0u8; 4096];
    'trickle: for byte in c0c1() {
        if started.elapsed() > Duration::from_secs(8) || conn.write_all(&[byte]).is_err() {
            break;
        }
        sent += 1;
        // Wait out the rest of the second, noticing a close meanwhile.
        let next = started + Duration::from_secs(sent);
        while let Some(left) = next.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            conn.set_read_timeout(Some(left)).unwrap();
            match conn.read(&mut buf) {
                Ok(0) => break 'trickle,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => break 'trickle,
            }
        }
    }
    eprintln!("trickled {sent} bytes");

    let closed_after = assert_bad_connection_isolated(
        &server,
        &mut healthy,
        &mut conn,
        started,
        Duration::from_secs(9),
        "timeouts",
        before,
    );
    assert!(
        closed_after >= Duration::from_millis(1500) && closed_after <= Duration::from_secs(5),
        "closed after {closed_after:?}, expected about the 2 s handshake timeout"
    );
    drop(healthy);
    server.stop();
}
