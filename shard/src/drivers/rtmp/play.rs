//! An RTMP player: served on the shard it landed on, from that shard's copy
//! of the stream (the origin, or the mirror it shares with every other
//! viewer there), with bytes encoded once per shard.

use std::time::{Duration, Instant};

use arcly_engine::{AuthRequest, StreamKey};
use arcly_protocols::rtmp::{PlayRejection, SessionEvent};
use bytes::Bytes;
use futures_lite::future;

use super::ending::Ending;
use super::io::SessionIo;
use crate::drivers::egress::{SharedEncoder, WireFormat};
use crate::{ShardCtx, SubscribeError, Subscription, ViewerEvent, task};

/// The most bytes gathered into one socket write. Everything ready is sent
/// at once up to this, so a burst (a joiner's GOP) costs few system calls.
const MAX_WRITE: usize = 256 << 10;

/// A `play` request: check it, subscribe on this shard, and serve frames
/// until the stream ends, the player leaves or lags out.
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
    if let Err(e) = ctx.config().authenticator.authorize_play(&request) {
        eprintln!(
            "shard={} peer={peer} rtmp: play {key} refused: {e}",
            ctx.id()
        );
        return refuse(ctx, io, PlayRejection::Unauthorized).await;
    }
    let subscription = match ctx.subscribe(&key).await {
        Ok(subscription) => subscription,
        Err(SubscribeError::NotFound(_)) => return refuse(ctx, io, PlayRejection::NotFound).await,
        Err(e) => return refuse(ctx, io, PlayRejection::Failed(e.to_string())).await,
    };
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
    let encoder = SharedEncoder::new(key.clone(), format);
    Player {
        io,
        encoder,
        key,
        subscription: Some(subscription),
        egress,
        last_write: Instant::now(),
    }
    .run(ctx)
    .await
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
    encoder: SharedEncoder,
    key: StreamKey,
    /// `None` while paused.
    subscription: Option<Subscription>,
    egress: Egress,
    /// When the last write started, for write batching.
    last_write: Instant,
}

/// How a player's bytes go out.
#[derive(Clone, Copy, Debug)]
pub(super) struct Egress {
    /// How long one write may wait for a player that does not read.
    pub(super) write_timeout: Duration,
    /// Media merged per write: zero writes as soon as a frame is ready
    /// (with whatever else is ready); more waits until that long after
    /// the previous write and sends everything gathered in one write.
    pub(super) write_batch: Duration,
}

impl Player {
    async fn run(mut self, ctx: &ShardCtx) -> Ending {
        loop {
            let woken = match self.subscription.as_mut() {
                Some(subscription) => {
                    let input = async { Woken::Input(self.io.read_input(ctx).await) };
                    let viewer = async { Woken::Viewer(subscription.next().await) };
                    future::or(input, viewer).await
                }
                None => Woken::Input(self.io.read_input(ctx).await),
            };
            let step = match woken {
                Woken::Input(Err(ending)) => Err(ending),
                Woken::Input(Ok(())) => self.handle_session(ctx).await,
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

    /// Writes `first` and everything else ready now (after the batching
    /// wait, if any), in one write.
    async fn send(&mut self, first: ViewerEvent) -> Result<(), Ending> {
        let due = self.last_write + self.egress.write_batch;
        let wait = due.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            task::sleep(wait).await;
        }
        self.last_write = Instant::now();
        let mut batch: Vec<Bytes> = Vec::new();
        let mut size = 0;
        let mut next = Some(first);
        let mut stop = None;
        while let Some(event) = next.take() {
            match event {
                ViewerEvent::Frame { seq, frame } => {
                    let bytes = self.encoder.encode(seq, &frame).map_err(|e| {
                        Ending::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                    })?;
                    size += bytes.len();
                    batch.push(bytes);
                }
                ViewerEvent::Skipped { .. } => {}
                ViewerEvent::Evicted(reason) => stop = Some(Ending::Evicted(reason)),
                ViewerEvent::Ended => stop = Some(Ending::StreamEnded),
            }
            if stop.is_none() && size < MAX_WRITE {
                next = self.subscription.as_mut().and_then(Subscription::try_next);
            }
        }
        if let Some(subscription) = self.subscription.as_mut() {
            subscription.set_queued_bytes(size);
        }
        if !batch.is_empty() {
            // A player that stops reading fills its socket buffer and then
            // this write waits; past the timeout it is let go, so it never
            // holds a connection (or its place in the stream) forever.
            match task::timeout(self.egress.write_timeout, self.io.conn.write_chunks(&batch)).await
            {
                Some(result) => result.map_err(Ending::Io)?,
                None => return Err(Ending::WriteStalled(self.egress.write_timeout)),
            }
        }
        if let Some(subscription) = self.subscription.as_mut() {
            subscription.set_queued_bytes(0);
        }
        match stop {
            Some(Ending::StreamEnded) => {
                // Tell the player, then let it go.
                let _ = self.io.session.end_of_stream();
                self.io.flush().await?;
                Err(Ending::StreamEnded)
            }
            Some(ending) => Err(ending),
            None => Ok(()),
        }
    }
}
