//! An RTMP player: served on the shard it landed on, from that shard's copy
//! of the stream (the origin, or the mirror it shares with every other
//! viewer there), with bytes encoded once per shard.

use std::time::{Duration, Instant};

use arcly_engine::{AuthRequest, StreamKey};
use arcly_protocols::rtmp::{PlayRejection, SessionEvent};
use futures_lite::future;

use super::ending::Ending;
use super::io::SessionIo;
use crate::drivers::batch::{Batch, Stop};
use crate::drivers::egress::{SharedEncoder, WireFormat};
use crate::drivers::fanout::{Framing, Handover, Outlet};
use crate::drivers::http::api::clients::Role;
use crate::drivers::session::SessionLog;
use crate::{ShardCtx, SubscribeError, Subscription, task};

/// A `play` request: check it, subscribe on this shard, and serve frames
/// until the stream ends, the player leaves or lags out. An accepted play
/// logs its start here and its end with the connection's ending.
pub(super) async fn start(
    ctx: &ShardCtx,
    mut io: SessionIo,
    app: &str,
    stream: &str,
    query: &str,
    message_stream_id: u32,
    egress: Egress,
) -> Ending {
    let key = match StreamKey::new(app, stream) {
        Ok(key) => key,
        Err(e) => return refuse(ctx, io, PlayRejection::Failed(e.to_string())).await,
    };
    let peer = io.conn.peer_addr();
    let request = AuthRequest::new(app, stream, query, Some(peer), "rtmp");
    // Boxed: the hook's HTTP exchange is most of this future, and a
    // player would otherwise hold room for it for its whole life.
    if let Err(e) = Box::pin(ctx.authorize_play(&request)).await {
        tracing::warn!(
            shard = ctx.id(),
            peer = %peer,
            "rtmp: play {key} refused: {e}"
        );
        return refuse(ctx, io, PlayRejection::Unauthorized).await;
    }
    let subscription = match ctx.subscribe(&key).await {
        Ok(subscription) => subscription,
        Err(SubscribeError::NotFound(_)) => return refuse(ctx, io, PlayRejection::NotFound).await,
        Err(e) => return refuse(ctx, io, PlayRejection::Failed(e.to_string())).await,
    };
    let _play_done = ctx.play_done_hook(&key, query, Some(peer), "rtmp");
    let _client = ctx.register_player(&io.conn, "rtmp", &key);
    if let Err(e) = io.session.accept_play() {
        return e.into();
    }
    if let Err(ending) = io.flush().await {
        return ending;
    }
    let format = WireFormat::Rtmp {
        chunk_size: io.session.out_chunk_size(),
        stream_id: message_stream_id,
    };
    let session = SessionLog::start(ctx.id(), &io.conn, "rtmp", Role::Play, &key);
    let mut player = Player {
        outlet: None,
        io,
        key,
        format,
        egress,
    };
    player.open(subscription);
    let ending = player.run(ctx).await.reset_as_closed();
    player.close_outlet();
    Ending::Session(Box::new(ending), Box::new(session.end(&player.io.conn)))
}

async fn refuse(ctx: &ShardCtx, mut io: SessionIo, reason: PlayRejection) -> Ending {
    if let Err(e) = io.session.reject_play(reason) {
        return e.into();
    }
    io.finish(ctx).await
}

/// What woke the player.
enum Woken {
    Input(Result<(), Ending>),
    Handover(Handover),
}

struct Player {
    /// Declared before `io`: the outlet writes to its socket, so it is
    /// dropped first. `None` while paused.
    outlet: Option<Outlet>,
    io: SessionIo,
    key: StreamKey,
    format: WireFormat,
    egress: Egress,
}

/// How a player's bytes go out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Egress {
    /// How long one write may wait for a player that does not read.
    pub(super) write_timeout: Duration,
    /// Media merged per write (see [`Batch`]).
    pub(super) write_batch: Duration,
    /// Whether the socket keeps `TCP_NODELAY` after the join (see
    /// [`TcpNoDelay`](crate::TcpNoDelay)).
    pub(super) nodelay: bool,
}

impl Player {
    /// Hands `subscription` to the shard's fan-out, which sends the join
    /// (configs and GOP) at once.
    fn open(&mut self, subscription: Subscription) {
        let encoder = SharedEncoder::new(self.key.clone(), self.format);
        let batch = Batch::new(encoder, self.egress.write_batch);
        let conn = &self.io.conn;
        let outlet = Outlet::open(
            conn,
            subscription,
            batch,
            Framing::Plain,
            self.egress.nodelay,
        );
        self.outlet = Some(outlet);
    }

    /// Leaves the stream, counting what the fan-out wrote.
    fn close_outlet(&mut self) {
        if let Some(outlet) = self.outlet.take() {
            self.io.conn.add_sent(outlet.close());
        }
    }

    /// Reads the player's input (with the session's timers) while the
    /// fan-out sends its media, until the session ends.
    async fn run(&mut self, ctx: &ShardCtx) -> Ending {
        loop {
            let woken = match self.outlet.as_ref() {
                Some(outlet) => {
                    let input = async { Woken::Input(self.io.read_input(ctx).await) };
                    let handover = async { Woken::Handover(outlet.handover().await) };
                    future::or(input, handover).await
                }
                None => Woken::Input(self.io.read_input(ctx).await),
            };
            let step = match woken {
                Woken::Input(Err(ending)) => Err(ending),
                Woken::Input(Ok(())) => self.handle_session(ctx).await,
                Woken::Handover(handover) => self.take_over(handover).await,
            };
            if let Err(ending) = step {
                return ending;
            }
        }
    }

    /// Acts on what the player said: pause, stop, or a protocol error.
    async fn handle_session(&mut self, ctx: &ShardCtx) -> Result<(), Ending> {
        {
            let _hold = self.outlet.as_ref().map(Outlet::hold);
            self.io.flush().await?;
        }
        while let Some(event) = self.io.pop_event() {
            match event {
                SessionEvent::Closed { reason } => return Err(Ending::Closed(reason)),
                SessionEvent::PlayStopped { .. } => return Err(Ending::PlayStopped),
                SessionEvent::PauseChanged { paused: true, .. } => self.close_outlet(),
                SessionEvent::PauseChanged { paused: false, .. } if self.outlet.is_none() => {
                    // Resume at a keyframe: join the stream afresh.
                    match ctx.subscribe(&self.key).await {
                        Ok(subscription) => self.open(subscription),
                        Err(_) => return Err(Ending::StreamEnded),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes what the socket did not take from the fan-out, then gives the
    /// player back to it, or ends the session where the stream stops.
    async fn take_over(&mut self, handover: Handover) -> Result<(), Ending> {
        if !handover.unsent.is_empty() {
            // A player that stops reading fills its socket buffer and then
            // this write waits; past the timeout it is let go, so it never
            // holds a connection (or its place in the stream) forever.
            let write = self.io.conn.write_chunks(&handover.unsent);
            match task::timeout(self.egress.write_timeout, write).await {
                Some(result) => result.map_err(Ending::Io)?,
                None => return Err(Ending::WriteStalled(self.egress.write_timeout)),
            }
            // It read them: alive, though its answer to a ping may wait
            // behind its backlog (the stream judges its lag).
            self.io.session.handle_peer_reading(Instant::now());
        }
        match handover.stop {
            None => {
                if let Some(outlet) = &self.outlet {
                    outlet.resume();
                }
                Ok(())
            }
            Some(Stop::Ended) => {
                // Tell the player, then let it go.
                let _ = self.io.session.end_of_stream();
                self.io.flush().await?;
                Err(Ending::StreamEnded)
            }
            Some(Stop::Evicted(reason)) => Err(Ending::Evicted(reason)),
            Some(Stop::Encode(e)) => Err(Ending::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e,
            ))),
            Some(Stop::Write(e)) => Err(Ending::Io(e)),
        }
    }
}
