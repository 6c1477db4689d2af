//! An RTMP player: served on the shard it landed on, from that shard's copy
//! of the stream (the origin, or the mirror it shares with every other
//! viewer there), with bytes encoded once per shard.

use std::time::Duration;

use arcly_engine::{AuthRequest, StreamKey};
use arcly_protocols::rtmp::{PlayRejection, SessionEvent};
use futures_lite::future;

use super::ending::Ending;
use super::io::SessionIo;
use crate::drivers::batch::{Batch, Stop};
use crate::drivers::egress::{SharedEncoder, WireFormat};
use crate::drivers::http::api::clients::Role;
use crate::drivers::session::SessionLog;
use crate::{ShardCtx, SubscribeError, Subscription, ViewerEvent, task};

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
    if let Err(e) = ctx.authorize_play(&request).await {
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
    let batch = Batch::new(SharedEncoder::new(key.clone(), format), egress.write_batch);
    let session = SessionLog::start(ctx.id(), &io.conn, "rtmp", Role::Play, &key);
    let mut player = Player {
        io,
        key,
        subscription: Some(subscription),
        egress,
        batch,
    };
    let ending = player.run(ctx).await;
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
    Viewer(ViewerEvent),
}

struct Player {
    io: SessionIo,
    key: StreamKey,
    /// `None` while paused.
    subscription: Option<Subscription>,
    egress: Egress,
    batch: Batch,
}

/// How a player's bytes go out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Egress {
    /// How long one write may wait for a player that does not read.
    pub(super) write_timeout: Duration,
    /// Media merged per write (see [`Batch`]).
    pub(super) write_batch: Duration,
}

impl Player {
    async fn run(&mut self, ctx: &ShardCtx) -> Ending {
        loop {
            let woken = match self.subscription.as_mut() {
                Some(subscription) => {
                    let input = async { Woken::Input(self.io.read_input_untimed(ctx).await) };
                    let viewer = async { Woken::Viewer(subscription.next().await) };
                    future::or(input, viewer).await
                }
                None => Woken::Input(self.io.read_input(ctx).await),
            };
            let step = match woken {
                Woken::Input(Err(ending)) => Err(ending),
                Woken::Input(Ok(())) => self.handle_session(ctx).await,
                // Frames wake a player often: its session's timers (ping,
                // idle) are checked then, not armed on every wake.
                Woken::Viewer(event) if self.io.check_deadline() => {
                    match self.handle_session(ctx).await {
                        Ok(()) => self.send(event).await,
                        Err(ending) => Err(ending),
                    }
                }
                Woken::Viewer(event) => self.send(event).await,
            };
            if let Err(ending) = step {
                return ending;
            }
        }
    }

    /// Acts on what the player said: pause, stop, or a protocol error.
    async fn handle_session(&mut self, ctx: &ShardCtx) -> Result<(), Ending> {
        self.io.flush().await?;
        while let Some(event) = self.io.pop_event() {
            match event {
                SessionEvent::Closed { reason } => return Err(Ending::Closed(reason)),
                SessionEvent::PlayStopped { .. } => return Err(Ending::PlayStopped),
                SessionEvent::PauseChanged { paused: true, .. } => self.subscription = None,
                SessionEvent::PauseChanged { paused: false, .. } if self.subscription.is_none() => {
                    // Resume at a keyframe: join the stream afresh.
                    match ctx.subscribe(&self.key).await {
                        Ok(subscription) => self.subscription = Some(subscription),
                        Err(_) => return Err(Ending::StreamEnded),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Gathers `first` and everything else ready (after the merge window,
    /// if any) and writes it when due.
    async fn send(&mut self, first: ViewerEvent) -> Result<(), Ending> {
        let wait = self.batch.merge_wait();
        if !wait.is_zero() {
            task::sleep(wait).await;
        }
        let Some(subscription) = self.subscription.as_mut() else {
            return Ok(());
        };
        match self.batch.gather(first, subscription) {
            Ok(()) if self.batch.is_due() => self.write().await,
            Ok(()) => Ok(()),
            Err(stop) => {
                self.write().await?;
                match stop {
                    Stop::Ended => {
                        // Tell the player, then let it go.
                        let _ = self.io.session.end_of_stream();
                        self.io.flush().await?;
                        Err(Ending::StreamEnded)
                    }
                    Stop::Evicted(reason) => Err(Ending::Evicted(reason)),
                    Stop::Encode(e) => Err(Ending::Io(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        e,
                    ))),
                }
            }
        }
    }

    /// Writes what the batch holds.
    async fn write(&mut self) -> Result<(), Ending> {
        let parts = self.batch.take();
        if !parts.is_empty() {
            // A player that stops reading fills its socket buffer and then
            // this write waits; past the timeout it is let go, so it never
            // holds a connection (or its place in the stream) forever.
            match task::timeout(self.egress.write_timeout, self.io.conn.write_chunks(&parts)).await
            {
                Some(result) => result.map_err(Ending::Io)?,
                None => return Err(Ending::WriteStalled(self.egress.write_timeout)),
            }
        }
        if let Some(subscription) = self.subscription.as_mut() {
            subscription.set_queued_bytes(0);
        }
        Ok(())
    }
}
