//! The streams a shard holds: the ones it owns and its mirrors of the rest.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use arcly_engine::StreamKey;

use super::error::PublishRefusal;
use super::forward::Forward;
use super::hub::Hub;
use super::mirror::Mirror;
use super::origin::Origin;
use crate::ShardCtx;
use crate::reply::Pending;

/// One shard's streams, and the relays and forwards it has to flush at the
/// end of the turn.
#[derive(Default)]
pub(crate) struct Directory {
    /// Streams this shard owns, live or within their grace period.
    origins: RefCell<HashMap<StreamKey, Rc<Origin>>>,
    /// Mirrors of streams owned by other shards.
    mirrors: RefCell<HashMap<StreamKey, Rc<Mirror>>>,
    /// Origins with relay items to send.
    queued_origins: RefCell<Vec<Rc<Origin>>>,
    /// Remote publishers with frames to forward.
    queued_forwards: RefCell<Vec<Rc<Forward>>>,
    /// This shard's remote publishers, by token, for the owner's notice
    /// that their stream ended.
    forwards: RefCell<HashMap<u64, Weak<Forward>>>,
    /// The last origin instance handed out.
    last_instance: Cell<u64>,
    /// The last publisher token handed out.
    last_publisher: Cell<u64>,
    /// Subscriptions alive on this shard, on listed and ended streams.
    subscriptions: Cell<usize>,
    /// Publish requests waiting for their owner's answer.
    pub(crate) publish_replies: Pending<Result<(), PublishRefusal>>,
}

impl Directory {
    /// The origin of `key`, if this shard owns it and it has not ended.
    pub(crate) fn origin(&self, key: &StreamKey) -> Option<Rc<Origin>> {
        self.origins.borrow().get(key).cloned()
    }

    /// Adds an origin (replacing none: the caller checked).
    pub(crate) fn insert_origin(&self, origin: Rc<Origin>) {
        self.origins
            .borrow_mut()
            .insert(origin.key().clone(), origin);
    }

    /// Removes `origin` if it is still the one listed under its key.
    pub(crate) fn remove_origin(&self, origin: &Rc<Origin>) {
        let mut origins = self.origins.borrow_mut();
        if origins
            .get(origin.key())
            .is_some_and(|o| Rc::ptr_eq(o, origin))
        {
            origins.remove(origin.key());
        }
    }

    /// Every origin.
    pub(crate) fn origins(&self) -> Vec<Rc<Origin>> {
        self.origins.borrow().values().cloned().collect()
    }

    /// The mirror of `key`, if any.
    pub(crate) fn mirror(&self, key: &StreamKey) -> Option<Rc<Mirror>> {
        self.mirrors.borrow().get(key).cloned()
    }

    /// Adds a mirror.
    pub(crate) fn insert_mirror(&self, mirror: Rc<Mirror>) {
        self.mirrors
            .borrow_mut()
            .insert(mirror.key().clone(), mirror);
    }

    /// Removes `mirror` if it is still the one listed under its key.
    pub(crate) fn remove_mirror(&self, mirror: &Rc<Mirror>) {
        let mut mirrors = self.mirrors.borrow_mut();
        if mirrors
            .get(mirror.key())
            .is_some_and(|m| Rc::ptr_eq(m, mirror))
        {
            mirrors.remove(mirror.key());
        }
    }

    /// Every mirror.
    pub(crate) fn mirrors(&self) -> Vec<Rc<Mirror>> {
        self.mirrors.borrow().values().cloned().collect()
    }

    /// Every copy of a stream viewers can join here, with whether it is
    /// the origin: the origins, then the mirrors that have their snapshot.
    pub(crate) fn copies(&self) -> Vec<(Rc<Hub>, bool)> {
        let origins = self.origins.borrow();
        let mirrors = self.mirrors.borrow();
        let origins = origins.values().map(|o| (Rc::clone(&o.hub), true));
        let mirrors = mirrors.values().filter_map(|m| Some((m.hub()?, false)));
        origins.chain(mirrors).collect()
    }

    /// Counts a new subscription.
    pub(crate) fn subscription_opened(&self) {
        self.subscriptions.set(self.subscriptions.get() + 1);
    }

    /// Counts a subscription gone.
    pub(crate) fn subscription_closed(&self) {
        self.subscriptions
            .set(self.subscriptions.get().saturating_sub(1));
    }

    /// Subscriptions alive on this shard.
    pub(crate) fn subscriptions(&self) -> usize {
        self.subscriptions.get()
    }

    /// A new origin instance id (never 0).
    pub(crate) fn next_instance(&self) -> u64 {
        self.last_instance.set(self.last_instance.get() + 1);
        self.last_instance.get()
    }

    /// A new publisher token.
    pub(crate) fn next_publisher(&self) -> u64 {
        self.last_publisher.set(self.last_publisher.get() + 1);
        self.last_publisher.get()
    }

    /// Lists a remote publisher under its token.
    pub(crate) fn register_forward(&self, token: u64, forward: &Rc<Forward>) {
        self.forwards
            .borrow_mut()
            .insert(token, Rc::downgrade(forward));
    }

    /// Forgets a remote publisher.
    pub(crate) fn unregister_forward(&self, token: u64) {
        self.forwards.borrow_mut().remove(&token);
    }

    /// The remote publisher with `token`, if it still publishes.
    pub(crate) fn forward(&self, token: u64) -> Option<Rc<Forward>> {
        self.forwards.borrow().get(&token).and_then(Weak::upgrade)
    }

    /// Puts an origin on the list to flush at the end of the turn.
    pub(crate) fn queue_origin(&self, origin: Rc<Origin>) {
        self.queued_origins.borrow_mut().push(origin);
    }

    /// Puts a forward on the list to flush at the end of the turn.
    pub(crate) fn queue_forward(&self, forward: Rc<Forward>) {
        self.queued_forwards.borrow_mut().push(forward);
    }

    /// Hands every queued relay and forward to the mailbox. Returns whether
    /// nothing is left waiting for room.
    pub(crate) fn flush(&self, ctx: &ShardCtx) -> bool {
        let origins = self.queued_origins.take();
        let mut waiting: Vec<Rc<Origin>> = Vec::new();
        for origin in origins {
            if origin.flush(ctx) {
                waiting.push(origin);
            }
        }
        let forwards = self.queued_forwards.take();
        let mut waiting_forwards: Vec<Rc<Forward>> = Vec::new();
        for forward in forwards {
            if forward.flush(ctx) {
                waiting_forwards.push(forward);
            }
        }
        let done = waiting.is_empty() && waiting_forwards.is_empty();
        self.queued_origins.borrow_mut().extend(waiting);
        self.queued_forwards.borrow_mut().extend(waiting_forwards);
        done
    }

    /// Streams owned, mirrors with a copy, and viewers.
    pub(crate) fn counts(&self) -> (u64, u64, u64) {
        let mirrored = self
            .mirrors
            .borrow()
            .values()
            .filter(|m| m.hub().is_some())
            .count();
        (
            self.origins.borrow().len() as u64,
            mirrored as u64,
            self.subscriptions.get() as u64,
        )
    }
}
