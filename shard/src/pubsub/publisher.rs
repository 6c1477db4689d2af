//! Publishing into a stream from a task on any shard.

use std::rc::Rc;

use arcly_engine::{MediaFrame, PublishInfo, StreamKey};

use super::error::{PublishError, PublishRefusal};
use super::forward::{Forward, IngestItem};
use super::origin::{Origin, PublisherId};
use crate::message::{Control, Message};
use crate::owner::owner;
use crate::{ShardCtx, task};

/// The right to push frames into one stream, from [`ShardCtx::publish`].
///
/// On the owner shard frames go straight into the stream; elsewhere they
/// are forwarded to the owner through the mailbox, batched per turn.
/// Dropping the publisher unpublishes (viewers stay through the grace
/// period, and a new publisher may continue the stream);
/// [`Publisher::finish`] ends the stream at once.
pub struct Publisher {
    /// The shard the publisher runs on.
    ctx: ShardCtx,
    /// The stream.
    key: StreamKey,
    /// Its identity at the owner.
    id: PublisherId,
    /// Where frames go.
    target: Target,
    /// Whether it already unpublished or finished.
    done: bool,
}

/// Where a publisher's frames go.
enum Target {
    /// This shard owns the stream.
    Local(Rc<Origin>),
    /// Another shard does.
    Remote(Rc<Forward>),
}

impl ShardCtx {
    /// Starts publishing `key`. A key that is live with another publisher
    /// is refused ([`PublishError::AlreadyPublished`]); a key within its
    /// grace period after the publisher left is continued, and its viewers
    /// stay.
    ///
    /// On a shard that does not own `key` this asks the owner and waits for
    /// its answer (up to the configured request timeout).
    pub async fn publish(
        &self,
        key: StreamKey,
        info: PublishInfo,
    ) -> Result<Publisher, PublishError> {
        let token = self.shard.streams.next_publisher();
        let id = PublisherId {
            shard: self.id(),
            token,
        };
        let owner = owner(&key, self.shards());
        if owner == self.id() {
            let origin = accept_publish(self, key.clone(), info, id)
                .map_err(|r| r.into_error(key.clone()))?;
            return Ok(self.publisher(key, id, Target::Local(origin)));
        }
        if self.is_stopping() {
            return Err(PublishError::Stopping(key));
        }
        let streams = &self.shard.streams;
        let (request, answer) = streams.publish_replies.open(1);
        let msg = Message::Control(Control::Publish {
            key: key.clone(),
            info: Box::new(info),
            token,
            request,
        });
        let unreachable = || PublishError::Unreachable {
            key: key.clone(),
            owner,
        };
        self.shard
            .mailbox
            .send_ordered(owner, msg)
            .map_err(|_| unreachable())?;
        let limit = self.config().request_timeout;
        match task::timeout(limit, answer).await.and_then(|mut a| a.pop()) {
            Some(Ok(())) => {
                let limits = self.config().limits.for_app(key.app()).clone();
                let forward = Rc::new(Forward::new(key.clone(), owner, token, limits));
                streams.register_forward(token, &forward);
                Ok(self.publisher(key, id, Target::Remote(forward)))
            }
            Some(Err(refusal)) => Err(refusal.into_error(key)),
            None => Err(unreachable()),
        }
    }

    fn publisher(&self, key: StreamKey, id: PublisherId, target: Target) -> Publisher {
        Publisher {
            ctx: self.clone(),
            key,
            id,
            target,
            done: false,
        }
    }
}

/// The owner's decision on a publish request, local or from another shard.
pub(crate) fn accept_publish(
    ctx: &ShardCtx,
    key: StreamKey,
    info: PublishInfo,
    by: PublisherId,
) -> Result<Rc<Origin>, PublishRefusal> {
    if ctx.is_stopping() {
        return Err(PublishRefusal::Stopping);
    }
    let streams = &ctx.shard.streams;
    match streams.origin(&key) {
        Some(origin) if origin.publisher().is_some() => Err(PublishRefusal::AlreadyPublished),
        Some(origin) => {
            origin.republish(ctx, info, by);
            crate::drivers::record::on_publish(ctx, origin.key(), origin.instance);
            Ok(origin)
        }
        None => {
            let origin = Rc::new(Origin::new(ctx, key, info, by, streams.next_instance()));
            streams.insert_origin(Rc::clone(&origin));
            crate::drivers::record::on_publish(ctx, origin.key(), origin.instance);
            Ok(origin)
        }
    }
}

impl Publisher {
    /// The stream's key.
    pub fn key(&self) -> &StreamKey {
        &self.key
    }

    /// Whether this shard owns the stream (frames go straight in) rather
    /// than forwarding to the owner.
    pub fn is_local(&self) -> bool {
        matches!(self.target, Target::Local(_))
    }

    /// Pushes one frame. Never blocks. Fails once the stream was ended
    /// under this publisher (by the reaper, by shutdown, or because a newer
    /// publisher took over); the caller should then close its ingest.
    pub fn push(&self, frame: MediaFrame) -> Result<(), PublishError> {
        match &self.target {
            Target::Local(origin) => {
                self.check(origin)?;
                origin.push(&self.ctx, frame);
            }
            Target::Remote(forward) => {
                if forward.is_ended() {
                    return Err(PublishError::Ended(self.key.clone()));
                }
                forward.push_frame(&self.ctx, frame);
            }
        }
        Ok(())
    }

    /// Records the picture size (from a parsed config or `onMetaData`).
    pub fn set_video_size(&self, width: u32, height: u32) -> Result<(), PublishError> {
        match &self.target {
            Target::Local(origin) => {
                self.check(origin)?;
                origin.set_video_size(width, height);
            }
            Target::Remote(forward) => {
                forward.push(&self.ctx, IngestItem::VideoSize(width, height))
            }
        }
        Ok(())
    }

    /// Ends the stream now: viewers drain what they have and see the end.
    pub fn finish(mut self) {
        self.done = true;
        match &self.target {
            Target::Local(origin) => {
                if self.check(origin).is_ok() {
                    origin.end(&self.ctx);
                }
            }
            Target::Remote(forward) => {
                self.ctx.shard.streams.unregister_forward(self.id.token);
                forward.push(&self.ctx, IngestItem::Finish);
            }
        }
    }

    fn check(&self, origin: &Origin) -> Result<(), PublishError> {
        if origin.publisher() == Some(self.id) {
            Ok(())
        } else {
            Err(PublishError::Ended(self.key.clone()))
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        match &self.target {
            Target::Local(origin) => {
                if self.check(origin).is_ok() {
                    origin.unpublish(&self.ctx);
                }
            }
            Target::Remote(forward) => {
                self.ctx.shard.streams.unregister_forward(self.id.token);
                forward.push(&self.ctx, IngestItem::Unpublish);
            }
        }
    }
}
