//! An RTMP publisher: authorized where it landed, handed to the stream's
//! owner shard if that is another one, and then fed into the stream there.

use std::time::Instant;

use arcly_engine::{AuthRequest, Codec, MediaFrame, PublishInfo, StreamKey};
use arcly_media::codec::AvcDecoderConfig;
use arcly_protocols::rtmp::{PublishRejection, ServerSession, SessionEvent};
use bytes::Bytes;

use super::ending::Ending;
use super::io::SessionIo;
use crate::drivers::http::api::clients::Role;
use crate::drivers::session::SessionLog;
use crate::owner::owner;
use crate::{PublishError, Publisher, ShardCtx};

/// What travels with a publisher handed to its stream's owner shard.
pub(super) struct HandedOffPublisher {
    pub(super) session: Box<ServerSession>,
    pub(super) key: StreamKey,
    /// The publish URL's query, for `on_publish_done`.
    pub(super) query: String,
}

/// A `publish` request read on this shard: check it, then run it here or
/// hand it to the owner.
pub(super) async fn start(
    ctx: &ShardCtx,
    io: SessionIo,
    app: &str,
    stream: &str,
    query: &str,
) -> Ending {
    let key = match StreamKey::new(app, stream) {
        Ok(key) => key,
        Err(e) => return refuse(ctx, io, PublishRejection::Rejected(e.to_string())).await,
    };
    let peer = io.conn.peer_addr();
    let request = AuthRequest::new(app, stream, query, Some(peer), "rtmp");
    if let Err(e) = ctx.authorize_publish(&request).await {
        tracing::warn!(
            shard = ctx.id(),
            peer = %peer,
            "rtmp: publish {key} refused: {e}"
        );
        return refuse(ctx, io, PublishRejection::Unauthorized).await;
    }
    let owner = owner(&key, ctx.shards());
    if owner == ctx.id() {
        return run(ctx, io, key, query).await;
    }
    let (conn, session) = io.into_parts();
    let query = query.to_owned();
    let state = Box::new(HandedOffPublisher {
        session,
        key,
        query,
    });
    // Unparsed input travels in the session; the connection has none.
    match ctx.hand_off(owner, conn, state, Bytes::new()) {
        Ok(()) => Ending::HandedOff(owner),
        Err(failed) => {
            let failed = *failed;
            let Ok(state) = failed.state.downcast::<HandedOffPublisher>() else {
                return Ending::HandedOff(owner);
            };
            let io = SessionIo::new(failed.connection, state.session);
            let reason = format!("owner shard {owner} is busy: {}", failed.reason);
            refuse(ctx, io, PublishRejection::Rejected(reason)).await
        }
    }
}

/// Publishes on this shard, the owner: refuses a second publisher with
/// `BadName`, then moves every frame into the stream until the publisher
/// stops. An accepted publish logs its start here and its end with the
/// connection's ending.
pub(super) async fn run(ctx: &ShardCtx, mut io: SessionIo, key: StreamKey, query: &str) -> Ending {
    let info = PublishInfo::new("rtmp", Some(io.conn.peer_addr()), Instant::now());
    let publisher = match ctx.publish(key, info).await {
        Ok(publisher) => publisher,
        Err(PublishError::AlreadyPublished(_)) => {
            return refuse(ctx, io, PublishRejection::BadName).await;
        }
        Err(e) => return refuse(ctx, io, PublishRejection::Rejected(e.to_string())).await,
    };
    let _publish_done =
        ctx.publish_done_hook(publisher.key(), query, Some(io.conn.peer_addr()), "rtmp");
    let _client = ctx.register_publisher(&io.conn, "rtmp", publisher.key());
    if let Err(e) = io.session.accept_publish() {
        return e.into();
    }
    let session = SessionLog::start(ctx.id(), &io.conn, "rtmp", Role::Publish, publisher.key());
    let ending = ingest_until_done(ctx, &mut io, publisher).await;
    Ending::Session(Box::new(ending), Box::new(session.end(&io.conn)))
}

/// Moves every frame into the stream until the publisher stops.
async fn ingest_until_done(ctx: &ShardCtx, io: &mut SessionIo, publisher: Publisher) -> Ending {
    loop {
        match io.next_event(ctx).await {
            Ok(SessionEvent::Frame(frame)) => {
                if let Err(ending) = ingest(&publisher, frame) {
                    return ending;
                }
            }
            Ok(SessionEvent::Unpublished { .. }) => {
                // A deliberate stop ends the stream now; only a lost
                // connection gets the grace period.
                publisher.finish();
                return finish_after_unpublish(ctx, io).await;
            }
            Ok(SessionEvent::Closed { reason }) => return Ending::Closed(reason),
            Ok(SessionEvent::PublishRequested { .. }) => {
                let _ = io.session.reject_publish(PublishRejection::Rejected(
                    "this connection is already publishing".into(),
                ));
            }
            Ok(_) => {}
            Err(Ending::Shutdown) => {
                publisher.finish();
                return Ending::Shutdown;
            }
            Err(ending) => return ending,
        }
    }
}

/// One frame into the stream; H.264 configs also give the picture size.
fn ingest(publisher: &Publisher, frame: MediaFrame) -> Result<(), Ending> {
    if frame.codec == Codec::H264 && frame.is_config() {
        let size = AvcDecoderConfig::decode(&frame.payload)
            .ok()
            .and_then(|config| config.first_sps().ok().flatten());
        if let Some(sps) = size {
            publisher
                .set_video_size(sps.width, sps.height)
                .map_err(Ending::Publish)?;
        }
    }
    publisher.push(frame).map_err(Ending::Publish)
}

async fn refuse(ctx: &ShardCtx, mut io: SessionIo, reason: PublishRejection) -> Ending {
    if let Err(e) = io.session.reject_publish(reason) {
        return e.into();
    }
    io.finish(ctx).await
}

/// After an unpublish the client usually closes; it may also linger or ask
/// to publish again, which this connection refuses.
async fn finish_after_unpublish(ctx: &ShardCtx, io: &mut SessionIo) -> Ending {
    loop {
        match io.next_event(ctx).await {
            Ok(SessionEvent::Closed { reason }) => return Ending::Closed(reason),
            Ok(SessionEvent::PublishRequested { .. }) => {
                let _ = io.session.reject_publish(PublishRejection::Rejected(
                    "one publish per connection".into(),
                ));
            }
            Ok(_) => {}
            Err(Ending::PeerClosed) => return Ending::Unpublished,
            Err(ending) => return ending,
        }
    }
}
