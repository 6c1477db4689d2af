//! A publisher on a shard that does not own its stream: its frames go to the
//! owner through the mailbox, batched per turn.
//!
//! Real publishers are handed to the owner with their socket, so ingest
//! never crosses cores per frame; this path is for in-process publishers
//! and the short time before a hand-off.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use arcly_engine::{MediaFrame, StreamKey, StreamLimits};

use crate::ShardCtx;
use crate::mailbox::SendError;
use crate::message::{Media, Message};
use crate::stats::add;

/// One thing the owner must apply for a remote publisher, in order.
#[derive(Clone, Debug)]
pub(crate) enum IngestItem {
    /// The next frame.
    Frame(MediaFrame),
    /// The picture size.
    VideoSize(u32, u32),
    /// The publisher left (grace period).
    Unpublish,
    /// The publisher ended the stream.
    Finish,
}

/// The frames of one remote publisher not yet sent to the owner.
///
/// Bounded by the stream's ring bounds: if the owner's queue stays full
/// that long, the pending frames are dropped and frames are withheld until
/// the next keyframe, so the owner never sees a GOP with a hole.
pub(crate) struct Forward {
    /// The stream.
    key: StreamKey,
    /// Its owner shard.
    owner: usize,
    /// The publisher's token (its id on the owner is (this shard, token)).
    token: u64,
    /// Items not yet sent.
    items: RefCell<VecDeque<IngestItem>>,
    /// Frames and payload bytes among `items`.
    pending: Cell<(usize, usize)>,
    /// Frames are dropped until the next keyframe.
    awaiting_keyframe: Cell<bool>,
    /// Whether the forward is on the shard's flush list.
    queued: Cell<bool>,
    /// The owner ended the stream under this publisher.
    ended: Cell<bool>,
    /// The bounds.
    limits: StreamLimits,
}

impl Forward {
    /// A forward for an accepted remote publisher.
    pub(crate) fn new(key: StreamKey, owner: usize, token: u64, limits: StreamLimits) -> Forward {
        Forward {
            key,
            owner,
            token,
            items: RefCell::new(VecDeque::new()),
            pending: Cell::new((0, 0)),
            awaiting_keyframe: Cell::new(false),
            queued: Cell::new(false),
            ended: Cell::new(false),
            limits,
        }
    }

    /// Whether the owner ended the stream under this publisher.
    pub(crate) fn is_ended(&self) -> bool {
        self.ended.get()
    }

    /// The owner ended the stream under this publisher: frames still
    /// queued are dropped.
    pub(crate) fn end(&self) {
        self.ended.set(true);
        self.items.borrow_mut().clear();
        self.pending.set((0, 0));
    }

    /// Queues a frame for the owner.
    pub(crate) fn push_frame(self: &Rc<Self>, ctx: &ShardCtx, frame: MediaFrame) {
        if self.awaiting_keyframe.get() {
            if !frame.starts_gop() && !frame.is_config() {
                add(&ctx.shard.counters.relay_drops, 1);
                return;
            }
            self.awaiting_keyframe.set(false);
        }
        let (frames, bytes) = self.pending.get();
        let (frames, bytes) = (frames + 1, bytes + frame.len());
        self.items.borrow_mut().push_back(IngestItem::Frame(frame));
        if frames > self.limits.ring_frames || bytes > self.limits.ring_bytes {
            self.items
                .borrow_mut()
                .retain(|item| !matches!(item, IngestItem::Frame(_)));
            self.pending.set((0, 0));
            self.awaiting_keyframe.set(true);
            add(&ctx.shard.counters.relay_drops, frames as u64);
        } else {
            self.pending.set((frames, bytes));
        }
        self.queue_flush(ctx);
    }

    /// Queues anything else for the owner.
    pub(crate) fn push(self: &Rc<Self>, ctx: &ShardCtx, item: IngestItem) {
        self.items.borrow_mut().push_back(item);
        self.queue_flush(ctx);
    }

    fn queue_flush(self: &Rc<Self>, ctx: &ShardCtx) {
        if !self.queued.replace(true) {
            ctx.shard.streams.queue_forward(Rc::clone(self));
            ctx.shard.mailbox.request_flush();
        }
    }

    /// Sends the pending items as one message. Returns whether they are
    /// still waiting (the owner's queue was full).
    pub(crate) fn flush(&self, ctx: &ShardCtx) -> bool {
        let items: Vec<IngestItem> = self.items.borrow_mut().drain(..).collect();
        let (frames, bytes) = self.pending.replace((0, 0));
        if items.is_empty() {
            self.queued.set(false);
            return false;
        }
        let msg = Message::Media(Media::Ingest {
            key: self.key.clone(),
            token: self.token,
            items,
        });
        match ctx.shard.mailbox.try_send(self.owner, msg) {
            Err(SendError::Full { item, .. }) => {
                if let Message::Media(Media::Ingest { items, .. }) = item {
                    let mut queue = self.items.borrow_mut();
                    for item in items.into_iter().rev() {
                        queue.push_front(item);
                    }
                }
                self.pending.set((frames, bytes));
                true
            }
            // Sent, or the owner stopped (nothing will take these frames).
            Ok(()) | Err(_) => {
                self.queued.set(false);
                false
            }
        }
    }
}
