//! How an RTMP connection ended, for the log line and the counters.

use std::fmt;

use arcly_engine::EvictReason;
use arcly_protocols::rtmp::{CloseReason, SessionError, status};

use crate::stats::{Refusal, bump};
use crate::{PublishError, ShardCtx};

/// Why the driver let go of a connection.
#[derive(Debug)]
pub(super) enum Ending {
    /// The session closed: the peer broke the protocol, a timer ran out, or
    /// the driver refused it.
    Closed(CloseReason),
    /// The peer closed the connection.
    PeerClosed,
    /// Reading or writing the socket failed.
    Io(std::io::Error),
    /// The shard is shutting down.
    Shutdown,
    /// The connection now lives on another shard.
    HandedOff(usize),
    /// The publisher unpublished and closed.
    Unpublished,
    /// The publisher's stream was ended or taken over.
    Publish(PublishError),
    /// The player stopped playing.
    PlayStopped,
    /// The stream the player watched has ended.
    StreamEnded,
    /// A write to a player that stopped reading did not finish in time.
    WriteStalled(std::time::Duration),
    /// The player lagged too often.
    Evicted(EvictReason),
}

impl Ending {
    /// Counts the ending where it belongs and writes its log line.
    pub(super) fn report(&self, ctx: &ShardCtx, peer: std::net::SocketAddr) {
        let counters = &ctx.shard.counters;
        match self {
            Ending::Closed(CloseReason::Error(
                SessionError::HandshakeTimeout { .. } | SessionError::IdleTimeout { .. },
            ))
            | Ending::WriteStalled(_) => bump(&counters.timeouts),
            Ending::Closed(CloseReason::Error(_)) => bump(&counters.protocol_errors),
            Ending::Closed(CloseReason::Rejected { code }) => counters.refused(match *code {
                status::CONNECT_REJECTED => Refusal::Unauthorized,
                status::PLAY_STREAM_NOT_FOUND => Refusal::NotFound,
                status::PUBLISH_BAD_NAME => Refusal::BadName,
                _ => Refusal::Other,
            }),
            _ => {}
        }
        eprintln!("shard={} peer={peer} rtmp: closed: {self}", ctx.id());
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Closed(CloseReason::Error(e)) => write!(f, "{e} (stage {:?})", e.stage()),
            Ending::Closed(CloseReason::Rejected { code }) => write!(f, "refused with {code}"),
            Ending::PeerClosed => f.write_str("peer closed the connection"),
            Ending::Io(e) => write!(f, "socket error: {e}"),
            Ending::Shutdown => f.write_str("server shutting down"),
            Ending::HandedOff(to) => write!(f, "handed off to shard {to}"),
            Ending::Unpublished => f.write_str("publisher unpublished"),
            Ending::Publish(e) => write!(f, "publishing stopped: {e}"),
            Ending::PlayStopped => f.write_str("player stopped playing"),
            Ending::StreamEnded => f.write_str("stream ended"),
            Ending::WriteStalled(limit) => write!(f, "player read nothing for {limit:?}"),
            Ending::Evicted(reason) => write!(f, "evicted: {reason}"),
        }
    }
}

impl From<SessionError> for Ending {
    fn from(e: SessionError) -> Ending {
        Ending::Closed(CloseReason::Error(e))
    }
}
