//! A stream's mirror on a shard that does not own it: a local copy fed by
//! the owner's relay, serving every viewer on this shard with no further
//! cross-core traffic.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

use arcly_engine::{Stream, StreamKey, StreamState};

use super::hub::Hub;
use super::relay::RelayItem;
use crate::ShardCtx;
use crate::latch::Latch;
use crate::message::{Control, Message};
use crate::stats::{add, bump};

/// The local copy of a stream owned by another shard.
pub(crate) struct Mirror {
    /// The stream's key.
    key: StreamKey,
    /// The owner shard.
    owner: usize,
    /// The copy, once the owner's snapshot arrived.
    hub: RefCell<Option<Rc<Hub>>>,
    /// The owner instance the copy follows.
    instance: Cell<u64>,
    /// Set once the subscription is answered (snapshot or refusal).
    settled: Latch,
    /// The owner refused: no such stream.
    refused: Cell<bool>,
    /// When the subscription was sent (for the reaper).
    pub(crate) created_at: Instant,
}

impl Mirror {
    /// A mirror whose `Subscribe` was just sent to `owner`.
    pub(crate) fn new(key: StreamKey, owner: usize) -> Mirror {
        Mirror {
            key,
            owner,
            hub: RefCell::new(None),
            instance: Cell::new(0),
            settled: Latch::default(),
            refused: Cell::new(false),
            created_at: Instant::now(),
        }
    }

    /// The stream's key.
    pub(crate) fn key(&self) -> &StreamKey {
        &self.key
    }

    /// The copy, if the snapshot arrived.
    pub(crate) fn hub(&self) -> Option<Rc<Hub>> {
        self.hub.borrow().clone()
    }

    /// Waits until the owner answered.
    pub(crate) async fn settled(&self) {
        self.settled.wait().await;
    }

    /// Whether the owner refused.
    pub(crate) fn is_refused(&self) -> bool {
        self.refused.get()
    }

    /// The owner answered that there is no such stream.
    pub(crate) fn refuse(&self) {
        self.refused.set(true);
        self.settled.set();
    }

    /// Tells the owner this shard no longer needs the stream.
    pub(crate) fn unsubscribe(&self, ctx: &ShardCtx) {
        let msg = Message::Control(Control::Unsubscribe {
            key: self.key.clone(),
            instance: self.instance.get(),
        });
        // A stopped owner relays nothing any more; nothing to undo.
        let _ = ctx.shard.mailbox.send_ordered(self.owner, msg);
    }

    /// Applies one relayed batch, then wakes each waiting viewer once.
    pub(crate) fn apply(self: &Rc<Self>, ctx: &ShardCtx, instance: u64, items: Vec<RelayItem>) {
        let counters = &ctx.shard.counters;
        let now = Instant::now();
        for item in items {
            match item {
                RelayItem::Snapshot { snapshot, dropped } => {
                    let config = ctx.config();
                    let stream = Stream::from_snapshot(
                        *snapshot,
                        config.limits.for_app(self.key.app()).clone(),
                        config.observer.clone(),
                        now,
                    );
                    self.instance.set(instance);
                    let mut hub = self.hub.borrow_mut();
                    match hub.as_ref() {
                        Some(existing) => existing.rebuild(stream, dropped),
                        None => *hub = Some(Rc::new(Hub::new(stream))),
                    }
                    drop(hub);
                    self.settled.set();
                }
                // The stream ended before the owner sent us a snapshot.
                RelayItem::Ended if self.hub.borrow().is_none() => {
                    self.end(ctx);
                    return;
                }
                // Anything else before the first snapshot belongs to an
                // earlier subscription of this shard: the snapshot covers it.
                _ if instance != self.instance.get() || self.hub.borrow().is_none() => {}
                RelayItem::Frame(frame) => {
                    if let Some(hub) = self.hub() {
                        bump(&counters.frames_in);
                        add(&counters.bytes_in, frame.len() as u64);
                        hub.push(counters, frame, now);
                    }
                }
                RelayItem::Unpublished => self.with_hub(|s| s.unpublish(now)),
                RelayItem::Republished(info) => self.with_hub(|s| s.republish(*info, now)),
                RelayItem::Ended => {
                    self.end(ctx);
                    return;
                }
            }
        }
        if let Some(hub) = self.hub() {
            hub.wake_viewers();
        }
    }

    fn with_hub(&self, f: impl FnOnce(&mut Stream)) {
        if let Some(hub) = self.hub() {
            hub.with(f);
        }
    }

    /// The stream ended (or this shard stops): viewers drain and see the
    /// end, and the mirror leaves the directory. A mirror still waiting for
    /// its snapshot counts as refused.
    pub(crate) fn end(self: &Rc<Self>, ctx: &ShardCtx) {
        match self.hub() {
            Some(hub) => {
                if hub.state() != StreamState::Ended {
                    hub.with(|stream| stream.end(Instant::now()));
                }
                hub.wake_viewers();
            }
            None => self.refuse(),
        }
        self.settled.set();
        ctx.shard.streams.remove_mirror(self);
    }
}
