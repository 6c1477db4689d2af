//! A client that completes the handshake and `connect`, then falls silent
//! (and answers no Ping Request) is closed by the idle timeout (2 s here,
//! from `[rtmp] idle_timeout_secs`) with a logged reason and a `timeouts`
//! count. A player, whose only input is its answers to the server's pings,
//! outlives several idle periods, and the server still takes new
//! connections.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{Arcly, Healthy, RawRtmp, assert_bad_connection_isolated};

const CONFIG: &str = "[rtmp]\nidle_timeout_secs = 2\n";

#[test]
fn a_silent_connection_is_closed_by_the_idle_timeout_and_players_are_not() {
    common::require_ffmpeg();
    let server = Arcly::start_with_config(CONFIG);
    let mut healthy = Healthy::start(&server);
    let before = server.total("timeouts");

    let mut silent = RawRtmp::handshake(server.rtmp).expect("plain handshake");
    let reply = silent.connect("live").expect("connect");
    assert_eq!(
        reply.code(),
        Some("NetConnection.Connect.Success"),
        "{:?}",
        reply.values
    );
    let quiet_since = Instant::now();

    let closed_after = assert_bad_connection_isolated(
        &server,
        &mut healthy,
        &mut silent.stream,
        quiet_since,
        Duration::from_secs(6),
        "timeouts",
        before,
    );
    assert!(
        closed_after >= Duration::from_millis(1500),
        "closed after {closed_after:?}, before the 2 s idle timeout could have run out"
    );
    // The player has now lived through at least two idle periods; give it
    // two more and check it is still served.
    thread::sleep(Duration::from_secs(4));
    healthy.assert_unaffected(&server);
    drop(healthy);
    server.stop();
}
