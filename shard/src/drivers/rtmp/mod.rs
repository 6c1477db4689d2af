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
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
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
        // Shared, not cloned per connection: every connection's task holds
        // it for its whole life.
        let config = Arc::new(config);
        self.listen(addr, move |ctx, conn, arrival| {
            serve(ctx, conn, arrival, Arc::clone(&config))
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

/// A stage of a connection, boxed: see [`serve`].
type Stage = Pin<Box<dyn Future<Output = Ending>>>;

/// Serves one connection. Each stage — the handshake and commands, then
/// play or publish — runs in a box of its own, freed when it ends, so the
/// connection's own future holds little more than the stage it is in: a
/// player never carries the handshake's or a publisher's state. The
/// connection moves into the first stage here, before the `async` block,
/// which would otherwise keep room for it (twice) for good.
fn serve(
    ctx: ShardCtx,
    conn: Connection,
    arrival: Arrival,
    config: Arc<RtmpConfig>,
) -> impl Future<Output = ()> {
    let peer = conn.peer_addr();
    let slot = Slot::take(config.max_connections_per_shard);
    if slot.is_none() {
        bump(&ctx.shard.counters.connections_refused);
        tracing::warn!(
            shard = ctx.id(),
            peer = %peer,
            "rtmp: refused: {} connections open on this shard",
            config.max_connections_per_shard
        );
    }
    let first = slot.map(|slot| {
        (
            slot,
            Box::pin(first_stage(ctx.clone(), conn, arrival, config)),
        )
    });
    async move {
        let Some((_slot, first)) = first else {
            return;
        };
        let Some(stage) = first.await else {
            return;
        };
        let ending = stage.await;
        if !matches!(ending, Ending::HandedOff(_)) {
            ending.report(&ctx, peer);
        }
    }
}

/// A new connection until it asks to publish or play, then the stage that
/// serves it; a publisher handed over by another shard goes straight to
/// its stage. `None` for a hand-off this driver does not know.
async fn first_stage(
    ctx: ShardCtx,
    conn: Connection,
    arrival: Arrival,
    config: Arc<RtmpConfig>,
) -> Option<Stage> {
    match arrival {
        Arrival::Accepted => {
            let session = Box::new(ServerSession::new(config.session, Instant::now()));
            Some(match dispatch(&ctx, SessionIo::new(conn, session)).await {
                Ok(request) => request.serve(ctx, &config),
                Err(ending) => Box::pin(std::future::ready(ending)),
            })
        }
        Arrival::HandedOff { state, from } => match state.downcast::<HandedOffPublisher>() {
            Ok(handed) => {
                let HandedOffPublisher {
                    session,
                    key,
                    query,
                } = *handed;
                let io = SessionIo::new(conn, session);
                Some(Box::pin(async move {
                    publish::run(&ctx, io, key, &query).await
                }))
            }
            // Only this driver hands RTMP connections over, always with a
            // publisher; anything else is a bug worth a loud line.
            Err(_) => {
                tracing::error!(
                    shard = ctx.id(),
                    peer = %conn.peer_addr(),
                    "rtmp: unknown hand-off state from shard {from}"
                );
                None
            }
        },
    }
}

/// What a new connection asked for.
enum Request {
    Publish {
        io: SessionIo,
        app: String,
        stream: String,
        query: String,
    },
    Play {
        io: SessionIo,
        app: String,
        stream: String,
        query: String,
        stream_id: u32,
    },
}

impl Request {
    /// The stage that serves the request.
    fn serve(self, ctx: ShardCtx, config: &RtmpConfig) -> Stage {
        match self {
            Request::Publish {
                io,
                app,
                stream,
                query,
            } => Box::pin(async move { publish::start(&ctx, io, &app, &stream, &query).await }),
            Request::Play {
                io,
                app,
                stream,
                query,
                stream_id,
            } => {
                let egress = Egress {
                    write_timeout: config.session.limits.idle_timeout,
                    write_batch: config.write_batch.for_app(&app),
                    nodelay: config.tcp_nodelay.for_app(&app),
                };
                Box::pin(async move {
                    play::start(&ctx, io, &app, &stream, &query, stream_id, egress).await
                })
            }
        }
    }
}

/// Serves a new connection until it asks to publish or play.
async fn dispatch(ctx: &ShardCtx, mut io: SessionIo) -> Result<Request, Ending> {
    loop {
        match io.next_event(ctx).await? {
            SessionEvent::Connected { .. } => io.session.accept_connect()?,
            SessionEvent::PublishRequested {
                app, stream, query, ..
            } => {
                return Ok(Request::Publish {
                    io,
                    app,
                    stream,
                    query,
                });
            }
            SessionEvent::PlayRequested {
                app,
                stream,
                query,
                stream_id,
                ..
            } => {
                return Ok(Request::Play {
                    io,
                    app,
                    stream,
                    query,
                    stream_id,
                });
            }
            SessionEvent::Closed { reason } => return Err(Ending::Closed(reason)),
            _ => {}
        }
    }
}
