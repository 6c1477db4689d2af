//! What every bad-input test asserts: the bad connection is closed, counted
//! and logged, while a healthy publisher and player on the same server
//! carry on and new connections are still accepted.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ffmpeg::{Player, ffmpeg_publish};
use super::media::Clip;
use super::process::Background;
use super::raw_rtmp::RawRtmp;
use super::server::Arcly;

/// A publisher and a player on `live/healthy`, the bystanders every
/// bad-input test checks are unaffected.
pub(crate) struct Healthy {
    pub(crate) publisher: Background,
    pub(crate) player: Player,
}

impl Healthy {
    pub(crate) fn start(server: &Arcly) -> Healthy {
        let clip = Clip::SMALL.file();
        let url = server.url("live/healthy");
        let mut publisher = ffmpeg_publish(&clip, &url, true);
        server.wait_live(1, &mut publisher);
        let mut player = Player::copy(&url);
        player.wait_video_frames(10, Duration::from_secs(10), server);
        Healthy { publisher, player }
    }

    /// The publisher still runs and the player still receives frames.
    pub(crate) fn assert_unaffected(&mut self, server: &Arcly) {
        self.player
            .assert_flowing(15, "after the bad connection", server);
        assert!(
            self.publisher.try_status().is_none(),
            "the healthy publisher died: {}\nserver log:\n{}",
            self.publisher.describe(),
            server.log_tail()
        );
    }
}

/// Drains `s` until the peer closes it (read returns 0, or a reset) and
/// returns the time since `since`, or an error once `timeout` has passed
/// with the connection still open.
pub(crate) fn wait_closed(
    s: &mut TcpStream,
    since: Instant,
    timeout: Duration,
) -> Result<Duration, String> {
    let deadline = since + timeout;
    let mut buf = [0u8; 16 * 1024];
    let mut drained = 0usize;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "still open {timeout:?} after the bad input ({drained} bytes received meanwhile)"
            ));
        }
        s.set_read_timeout(Some(left.min(Duration::from_millis(200))))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Ok(since.elapsed()),
            Ok(n) => drained += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                ) =>
            {
                return Ok(since.elapsed());
            }
            Err(e) => return Err(format!("read failed with an unexpected error: {e}")),
        }
    }
}

/// The server still takes a new connection: a fresh plain handshake and
/// `connect` to `live` get `NetConnection.Connect.Success`.
pub(crate) fn assert_still_accepting(server: &Arcly) {
    let reply = RawRtmp::handshake(server.rtmp)
        .and_then(|mut c| c.connect("live"))
        .unwrap_or_else(|e| {
            panic!(
                "a new connection after the bad one failed: {e}\nserver log:\n{}",
                server.log_tail()
            )
        });
    assert_eq!(
        reply.code(),
        Some("NetConnection.Connect.Success"),
        "a new connection after the bad one: {:?}",
        reply.values
    );
}

/// The checks every bad-input test makes once it has sent its bytes on
/// `conn`: the server closes `conn` within `close_within`, bumps `counter`
/// past `before`, logs the close against this peer, keeps the healthy
/// publisher and player going, and still takes new connections.
pub(crate) fn assert_bad_connection_isolated(
    server: &Arcly,
    healthy: &mut Healthy,
    conn: &mut TcpStream,
    sent_at: Instant,
    close_within: Duration,
    counter: &str,
    before: u64,
) -> Duration {
    let peer = conn.local_addr().unwrap();
    let closed_after = wait_closed(conn, sent_at, close_within).unwrap_or_else(|why| {
        panic!(
            "the server did not close the bad connection from {peer}: {why}\nshards: {}\nserver log:\n{}",
            Value::Array(server.shards()),
            server.log_tail()
        )
    });
    eprintln!("bad connection {peer} closed after {closed_after:.2?}");
    server.wait_until(
        &format!("counter `{counter}` to go past {before}"),
        Duration::from_secs(3),
        || server.total(counter) > before,
    );
    let logged = server
        .wait_log_line(&[&format!("peer={peer}"), "closed"], Duration::from_secs(3))
        .unwrap_or_else(|| {
            panic!(
                "no log line says the bad connection `peer={peer}` was closed (the contract's form: \
                 `WARN rtmp: closed shard=N peer={peer} reason=\"...\"`)\nserver log:\n{}",
                server.log_tail()
            )
        });
    eprintln!("server logged: {logged}");
    healthy.assert_unaffected(server);
    assert_still_accepting(server);
    closed_after
}

/// A bad-input scenario: a 2-shard server with the [`Healthy`] bystanders,
/// and its `protocol_errors` count before the bad connection.
pub(crate) struct BadInput {
    pub(crate) server: Arcly,
    healthy: Healthy,
    before: u64,
}

impl BadInput {
    pub(crate) fn start() -> BadInput {
        super::tools::require_ffmpeg();
        let server = Arcly::start();
        let healthy = Healthy::start(&server);
        let before = server.total("protocol_errors");
        BadInput {
            server,
            healthy,
            before,
        }
    }

    /// Writes `bytes` on `conn` (the server may close before it has read
    /// them all: a failed write is expected then), checks with
    /// [`assert_bad_connection_isolated`] that it closes `conn` for a
    /// protocol error within 3 s and nothing else, and stops the server.
    pub(crate) fn send_and_expect_close(mut self, conn: &mut TcpStream, bytes: &[u8]) {
        let _ = std::io::Write::write_all(conn, bytes);
        let sent = Instant::now();
        assert_bad_connection_isolated(
            &self.server,
            &mut self.healthy,
            conn,
            sent,
            Duration::from_secs(3),
            "protocol_errors",
            self.before,
        );
        drop(self.healthy);
        self.server.stop();
    }
}
