//! The two log lines of a publish or play session: one when it starts and
//! one when it ends, with how long it lasted, the bytes it moved and why it
//! ended. Nothing is logged in between: frames never reach the log.
//!
//! Both lines carry `shard`, `peer`, `protocol` and `key`; the end line
//! adds `duration` (seconds), `bytes` (received from a publisher, sent to
//! a player, counted by the [`Connection`] once per system call) and
//! `reason`. An ending that points at a problem (a timeout, a broken
//! protocol, a lagging player) is a warning, any other one is info.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use arcly_engine::StreamKey;

use crate::Connection;
use crate::drivers::http::api::clients::Role;

/// A session whose start line is out and whose end line is owed.
pub(crate) struct SessionLog {
    shard: usize,
    peer: SocketAddr,
    protocol: &'static str,
    role: Role,
    key: StreamKey,
    started: Instant,
    /// The connection's byte count in the session's direction at the start.
    bytes_before: u64,
}

impl SessionLog {
    /// Logs the start of `role` on `key` by `conn`'s peer, on `shard`.
    pub(crate) fn start(
        shard: usize,
        conn: &Connection,
        protocol: &'static str,
        role: Role,
        key: &StreamKey,
    ) -> SessionLog {
        let log = SessionLog {
            shard,
            peer: conn.peer_addr(),
            protocol,
            role,
            key: key.clone(),
            started: Instant::now(),
            bytes_before: moved(role, conn),
        };
        tracing::info!(
            shard,
            peer = %log.peer,
            protocol = %protocol,
            key = %log.key,
            "{} started",
            role.as_str()
        );
        log
    }

    /// What the session came to now that `conn` is done with it; the line
    /// goes out with [`SessionEnd::log`], once the reason is known.
    pub(crate) fn end(self, conn: &Connection) -> SessionEnd {
        SessionEnd {
            duration: self.started.elapsed(),
            bytes: moved(self.role, conn).saturating_sub(self.bytes_before),
            session: self,
        }
    }
}

/// A finished session, waiting for its end line.
pub(crate) struct SessionEnd {
    session: SessionLog,
    duration: Duration,
    bytes: u64,
}

impl fmt::Debug for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionEnd")
            .field("key", &self.session.key)
            .field("role", &self.session.role)
            .field("duration", &self.duration)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl SessionEnd {
    /// Logs the end line: a warning if `problem`, else info.
    pub(crate) fn log(&self, reason: &dyn fmt::Display, problem: bool) {
        let s = &self.session;
        // Milliseconds are plenty, and keep the number short.
        let duration = self.duration.as_millis() as f64 / 1000.0;
        let reason = reason.to_string();
        macro_rules! end_line {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    shard = s.shard,
                    peer = %s.peer,
                    protocol = %s.protocol,
                    key = %s.key,
                    duration,
                    bytes = self.bytes,
                    reason = reason.as_str(),
                    "{} ended",
                    s.role.as_str()
                )
            };
        }
        if problem {
            end_line!(tracing::Level::WARN);
        } else {
            end_line!(tracing::Level::INFO);
        }
    }
}

/// Bytes the session moves so far: in from a publisher, out to a player.
fn moved(role: Role, conn: &Connection) -> u64 {
    match role {
        Role::Publish => conn.bytes_received(),
        Role::Play => conn.bytes_sent(),
    }
}
