//! The RTMP driver: runs `arcly-protocols`' sans-IO [`ServerSession`] over
//! a connection and joins it to the shard's streams.
//!
//! A connection is served by the shard that accepted it until its session
//! says what it wants. A publisher is then handed — socket, session and all
//! — to the owner shard of its stream, so ingest never crosses cores per
//! frame; a player stays where it landed and is served from that shard's
//! copy of the stream, with wire bytes encoded once per shard
//! ([`egress`]). Every ending is logged with its reason and counted
//! (`protocol_errors`, `timeouts`); none touches another connection. A
//! publish or play logs one line when it starts and one when it ends
//! (`drivers/session.rs`); the latter is the connection's ending
//! line.

mod ending;
mod io;
mod play;
mod publish;

use std::cell::Cell;
use std::net::SocketAddr;
use std::time::Instant;

use arcly_protocols::rtmp::{ServerConfig, ServerSession, SessionEvent};

use self::ending::Ending;
use self::io::SessionIo;
use self::play::Egress;
use self::publish::HandedOffPublisher;
use super::batch::WriteBatching;
use super::nodelay::TcpNoDelay;
use crate::stats::bump;
use crate::{Arrival, Connection, Runtime, ShardCtx, ShardError};

/// Default [`RtmpConfig::max_connections_per_shard`].
pub const DEFAULT_MAX_CONNECTIONS_PER_SHARD: usize = 8192;

/// How RTMP is served.
#[derive(Clone, Debug)]
pub struct RtmpConfig {
    /// Session settings and per-connection limits.
    pub session: ServerConfig,
    /// RTMP connections one shard serves at once; more are closed at
    /// accept and counted as `connections_refused`.
    pub max_connections_per_shard: usize,
    /// Media merged per player write, per app (SRS calls it merged
    /// writes): trades delivery latency for fewer system calls.
    pub write_batch: WriteBatching,
    /// Whether players keep `TCP_NODELAY` after their join, per app.
    pub tcp_nodelay: TcpNoDelay,
}

impl Default for RtmpConfig {
    fn default() -> Self {
        RtmpConfig {
            session: ServerConfig::default(),
            max_connections_per_shard: DEFAULT_MAX_CONNECTIONS_PER_SHARD,
            write_batch: WriteBatching::default(),
            tcp_nodelay: TcpNoDelay::default(),
        }
    }
}

impl Runtime {
    /// Serves RTMP on `addr` on every shard. Returns the bound address.
    pub fn listen_rtmp(
        &self,
        addr: SocketAddr,
        config: RtmpConfig,
    ) -> Result<SocketAddr, ShardError> {
        self.listen(addr, move |ctx, conn, arrival| {
            serve(ctx, conn, arrival, config.clone())
        })
    }
}

thread_local! {
    /// RTMP connections open on this shard (one thread per shard).
    static OPEN: Cell<usize> = const { Cell::new(0) };
}

/// A place in this shard's connection budget, given back on drop.
struct Slot;

impl Slot {
    fn take(limit: usize) -> Option<Slot> {
        OPEN.with(|open| {
            (open.get() < limit).then(|| {
                open.set(open.get() + 1);
                Slot
            })
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        OPEN.with(|open| open.set(open.get().saturating_sub(1)));
    }
}

async fn serve(ctx: ShardCtx, conn: Connection, arrival: Arrival, config: RtmpConfig) {
    let peer = conn.peer_addr();
    let Some(_slot) = Slot::take(config.max_connections_per_shard) else {
        bump(&ctx.shard.counters.connections_refused);
        tracing::warn!(
            shard = ctx.id(),
            peer = %peer,
            "rtmp: refused: {} connections open on this shard",
            config.max_connections_per_shard
        );
        return;
    };
    let ending = match arrival {
        Arrival::Accepted => {
            let session = ServerSession::new(config.session, Instant::now());
            dispatch(&ctx, SessionIo::new(conn, session), &config).await
        }
        Arrival::HandedOff { state, from } => match state.downcast::<HandedOffPublisher>() {
            Ok(handed) => {
                publish::run(&ctx, SessionIo::new(conn, handed.session), handed.key).await
            }
            // Only this driver hands RTMP connections over, always with a
            // publisher; anything else is a bug worth a loud line.
            Err(_) => {
                tracing::error!(
                    shard = ctx.id(),
                    peer = %peer,
                    "rtmp: unknown hand-off state from shard {from}"
                );
                return;
            }
        },
    };
    if !matches!(ending, Ending::HandedOff(_)) {
        ending.report(&ctx, peer);
    }
}

/// Serves a new connection until it asks to publish or play.
async fn dispatch(ctx: &ShardCtx, mut io: SessionIo, config: &RtmpConfig) -> Ending {
    loop {
        match io.next_event(ctx).await {
            Ok(SessionEvent::Connected { .. }) => {
                if let Err(e) = io.session.accept_connect() {
                    return e.into();
                }
            }
            Ok(SessionEvent::PublishRequested {
                app, stream, query, ..
            }) => {
                return publish::start(ctx, io, &app, &stream, &query).await;
            }
            Ok(SessionEvent::PlayRequested {
                app,
                stream,
                query,
                stream_id,
                ..
            }) => {
                let egress = Egress {
                    write_timeout: config.session.limits.idle_timeout,
                    write_batch: config.write_batch.for_app(&app),
                    nodelay: config.tcp_nodelay.for_app(&app),
                };
                return play::start(ctx, io, &app, &stream, &query, stream_id, egress).await;
            }
            Ok(SessionEvent::Closed { reason }) => return Ending::Closed(reason),
            Ok(_) => {}
            Err(ending) => return ending,
        }
    }
}
