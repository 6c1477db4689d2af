//! How an RTMP connection ended, for its one log line and the counters.

use std::fmt;

use arcly_engine::EvictReason;
use arcly_protocols::rtmp::{CloseReason, SessionError, status};

use crate::drivers::session::SessionEnd;
use crate::net::is_reset;
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
    /// A publish or play session ended this way; its end line is the
    /// connection's line.
    Session(Box<Ending>, Box<SessionEnd>),
}

impl Ending {
    /// A player whose socket was reset (it closed with bytes unread, as
    /// ffmpeg does when it has what it wanted) left: that is the peer
    /// closing, not a socket fault worth a warning.
    pub(super) fn reset_as_closed(self) -> Ending {
        match self {
            Ending::Io(e) if is_reset(&e) => Ending::PeerClosed,
            ending => ending,
        }
    }

    /// Counts the ending where it belongs and writes its one log line: the
    /// session's end line, or `rtmp: closed` for a connection that never
    /// published or played.
    pub(super) fn report(&self, ctx: &ShardCtx, peer: std::net::SocketAddr) {
        match self {
            Ending::Session(ending, session) => {
                ending.count(ctx);
                session.log(ending, ending.is_problem());
            }
            ending => {
                ending.count(ctx);
                let reason = ending.to_string();
                let (shard, reason) = (ctx.id(), reason.as_str());
                if ending.is_problem() {
                    tracing::warn!(shard, peer = %peer, reason, "rtmp: closed");
                } else {
                    tracing::info!(shard, peer = %peer, reason, "rtmp: closed");
                }
            }
        }
    }

    /// Bumps the counter this ending belongs to, if any.
    fn count(&self, ctx: &ShardCtx) {
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
            Ending::Session(ending, _) => ending.count(ctx),
            _ => {}
        }
    }

    /// Whether the ending points at a problem worth a warning: a broken
    /// protocol, a timeout, a refusal, a socket error or a lagging player.
    fn is_problem(&self) -> bool {
        match self {
            Ending::Closed(_) | Ending::Io(_) | Ending::WriteStalled(_) | Ending::Evicted(_) => {
                true
            }
            Ending::Session(ending, _) => ending.is_problem(),
            Ending::PeerClosed
            | Ending::Shutdown
            | Ending::HandedOff(_)
            | Ending::Unpublished
            | Ending::Publish(_)
            | Ending::PlayStopped
            | Ending::StreamEnded => false,
        }
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
            Ending::Session(ending, _) => ending.fmt(f),
        }
    }
}

impl From<SessionError> for Ending {
    fn from(e: SessionError) -> Ending {
        Ending::Closed(CloseReason::Error(e))
    }
}
