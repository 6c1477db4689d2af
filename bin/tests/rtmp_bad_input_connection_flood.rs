//! More connections than `[rtmp] max_connections_per_shard` allows: the
//! excess is closed instead of served, the publisher and player already
//! connected carry on, and once the flood leaves the server takes new
//! connections again.

mod common;

use std::time::Duration;

use common::{Arcly, Healthy, RawRtmp, assert_still_accepting};

const PER_SHARD: usize = 4;
const FLOOD: usize = 16;
const CONFIG: &str = "[rtmp]\nmax_connections_per_shard = 4\n";

#[test]
fn connections_past_the_per_shard_limit_are_refused_and_others_unaffected() {
    common::require_ffmpeg();
    let server = Arcly::start_with_config(CONFIG);
    let mut healthy = Healthy::start(&server);

    // Each flood connection tries the handshake and `connect`; the ones the
    // server takes stay open, held here.
    let mut held = Vec::new();
    let mut refused = Vec::new();
    for i in 0..FLOOD {
        match RawRtmp::handshake(server.rtmp).and_then(|mut c| c.connect("live").map(|r| (c, r))) {
            Ok((c, reply)) if reply.code() == Some("NetConnection.Connect.Success") => held.push(c),
            Ok((_, reply)) => refused.push(format!("{i}: connect answered {:?}", reply.values)),
            Err(e) => refused.push(format!("{i}: {e}")),
        }
    }
    eprintln!(
        "{} flood connections served, {} refused: {refused:?}",
        held.len(),
        refused.len()
    );
    // The healthy publisher and player hold two of the 2 x PER_SHARD slots.
    assert!(
        held.len() <= 2 * PER_SHARD - 2,
        "{} flood connections were served with max_connections_per_shard = {PER_SHARD} on 2 \
         shards and 2 connections already open\nshards: {:?}",
        held.len(),
        server.counter("connections_accepted")
    );
    assert!(
        !held.is_empty(),
        "no flood connection was served, though slots were free"
    );
    healthy.assert_unaffected(&server);

    drop(held);
    // Slots free up once the flood has gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ok = RawRtmp::handshake(server.rtmp)
            .and_then(|mut c| c.connect("live"))
            .is_ok_and(|r| r.code() == Some("NetConnection.Connect.Success"));
        if ok {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no connection served 5 s after the flood left\n{}",
            server.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_still_accepting(&server);
    healthy.assert_unaffected(&server);
    drop(healthy);
    server.stop();
}
