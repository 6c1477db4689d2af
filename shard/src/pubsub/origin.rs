//! A stream on its owner shard: the canonical copy, its publisher, and one
//! relay per shard that mirrors it.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use arcly_engine::{MediaFrame, PublishInfo, Stream, StreamKey, StreamLimits, StreamState};

use super::hub::Hub;
use super::relay::{Relay, RelayItem};
use crate::ShardCtx;
use crate::mailbox::SendError;
use crate::message::{Control, Media, Message};
use crate::stats::{add, bump};

/// Who publishes into an origin: the shard the publisher runs on and a
/// token unique on that shard, so a stale publisher can never push into a
/// stream that a newer one took over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PublisherId {
    /// The publisher's shard.
    pub(crate) shard: usize,
    /// Unique on that shard.
    pub(crate) token: u64,
}

/// The owner's copy of a stream.
pub(crate) struct Origin {
    /// The stream and its local viewers.
    pub(crate) hub: Rc<Hub>,
    /// Unique among the owner's streams over time: a key published again
    /// after it ended is a new instance, so late messages about the old one
    /// are recognised.
    pub(crate) instance: u64,
    /// The current publisher; `None` while unpublished.
    publisher: Cell<Option<PublisherId>>,
    /// One relay per mirroring shard.
    relays: RefCell<BTreeMap<usize, Relay>>,
    /// Whether the origin is on the shard's list of relays to flush.
    queued: Cell<bool>,
    /// The stream's bounds (also those of its relays).
    limits: StreamLimits,
}

impl Origin {
    /// A new live stream published by `publisher`.
    pub(crate) fn new(
        ctx: &ShardCtx,
        key: StreamKey,
        info: PublishInfo,
        publisher: PublisherId,
        instance: u64,
    ) -> Origin {
        let config = ctx.config();
        let limits = config.limits.for_app(key.app()).clone();
        let stream = Stream::new(
            key,
            info,
            limits.clone(),
            config.observer.clone(),
            Instant::now(),
        );
        Origin {
            hub: Rc::new(Hub::new(stream)),
            instance,
            publisher: Cell::new(Some(publisher)),
            relays: RefCell::new(BTreeMap::new()),
            queued: Cell::new(false),
            limits,
        }
    }

    /// The stream's key.
    pub(crate) fn key(&self) -> &StreamKey {
        self.hub.key()
    }

    /// The current publisher.
    pub(crate) fn publisher(&self) -> Option<PublisherId> {
        self.publisher.get()
    }

    /// Takes a frame from the publisher: into the stream, to the local
    /// viewers (one wake each, if they wait) and into every relay.
    pub(crate) fn push(self: &Rc<Self>, ctx: &ShardCtx, frame: MediaFrame) {
        let counters = &ctx.shard.counters;
        bump(&counters.frames_in);
        add(&counters.bytes_in, frame.len() as u64);
        let mut relays = self.relays.borrow_mut();
        for relay in relays.values_mut() {
            add(
                &counters.relay_drops,
                relay.push_frame(&frame, &self.limits),
            );
        }
        let relaying = !relays.is_empty();
        drop(relays);
        self.hub.push(counters, frame, Instant::now());
        self.hub.wake_viewers();
        if relaying {
            self.queue_flush(ctx);
        }
    }

    /// Records the picture size.
    pub(crate) fn set_video_size(&self, width: u32, height: u32) {
        self.hub.with(|stream| stream.set_video_size(width, height));
    }

    /// The publisher left: viewers stay for the grace period.
    pub(crate) fn unpublish(self: &Rc<Self>, ctx: &ShardCtx) {
        self.publisher.set(None);
        self.hub.with(|stream| stream.unpublish(Instant::now()));
        self.relay_state(ctx, || RelayItem::Unpublished);
        self.hub.wake_viewers();
    }

    /// A publisher continues the stream within the grace period.
    pub(crate) fn republish(self: &Rc<Self>, ctx: &ShardCtx, info: PublishInfo, by: PublisherId) {
        self.publisher.set(Some(by));
        self.hub
            .with(|stream| stream.republish(info.clone(), Instant::now()));
        self.relay_state(ctx, || RelayItem::Republished(Box::new(info.clone())));
        self.hub.wake_viewers();
    }

    /// Ends the stream: local viewers drain then see the end, every mirror
    /// is told, and the origin leaves the directory.
    pub(crate) fn end(self: &Rc<Self>, ctx: &ShardCtx) {
        if let Some(publisher) = self.publisher.take()
            && publisher.shard != ctx.id()
        {
            // A remote publisher learns that its frames go nowhere now.
            let msg = Message::Control(Control::PublisherEnded {
                token: publisher.token,
            });
            let _ = ctx.shard.mailbox.send_ordered(publisher.shard, msg);
        }
        if self.hub.state() == StreamState::Ended {
            return;
        }
        self.hub.with(|stream| stream.end(Instant::now()));
        self.relay_state(ctx, || RelayItem::Ended);
        self.hub.wake_viewers();
        ctx.shard.streams.remove_origin(self);
    }

    fn relay_state(self: &Rc<Self>, ctx: &ShardCtx, item: impl Fn() -> RelayItem) {
        let mut relays = self.relays.borrow_mut();
        for relay in relays.values_mut() {
            relay.push_state(item());
        }
        if !relays.is_empty() {
            drop(relays);
            self.queue_flush(ctx);
        }
    }

    /// Starts relaying to `shard`, beginning with a snapshot at the end of
    /// this turn. A shard that subscribes again starts over.
    pub(crate) fn subscribe(self: &Rc<Self>, ctx: &ShardCtx, shard: usize) {
        self.relays.borrow_mut().insert(shard, Relay::new());
        self.queue_flush(ctx);
    }

    /// Stops relaying to `shard`.
    pub(crate) fn unsubscribe(&self, shard: usize) {
        self.relays.borrow_mut().remove(&shard);
    }

    fn queue_flush(self: &Rc<Self>, ctx: &ShardCtx) {
        if !self.queued.replace(true) {
            ctx.shard.streams.queue_origin(Rc::clone(self));
            ctx.shard.mailbox.request_flush();
        }
    }

    /// Sends every relay's pending items as one message per mirroring
    /// shard. Returns whether something is still waiting (a full queue);
    /// the caller keeps the origin queued then.
    pub(crate) fn flush(&self, ctx: &ShardCtx) -> bool {
        let mut waiting = false;
        let mut gone = Vec::new();
        let mut relays = self.relays.borrow_mut();
        for (&shard, relay) in relays.iter_mut().filter(|(_, r)| r.has_pending()) {
            let items = relay.take(|| self.hub.with(|stream| stream.snapshot()));
            let msg = Message::Media(Media::Relay {
                key: self.key().clone(),
                instance: self.instance,
                items,
            });
            match ctx.shard.mailbox.try_send(shard, msg) {
                Ok(()) => {}
                Err(SendError::Full { item, .. }) => {
                    if let Message::Media(Media::Relay { items, .. }) = item {
                        relay.put_back(items);
                    }
                    waiting = true;
                }
                Err(SendError::Closed { .. } | SendError::NoSuchShard { .. }) => gone.push(shard),
            }
        }
        relays.retain(|shard, relay| !gone.contains(shard) && !relay.is_finished());
        self.queued.set(waiting);
        waiting
    }
}
