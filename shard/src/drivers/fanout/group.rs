//! The viewers of one stream copy on this shard that the fan-out serves,
//! and the task that serves them each time the copy changes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

use super::outlet::Viewer;
use super::run::Runs;
use crate::pubsub::StreamWatch;
use crate::task::{self, Task};

/// The work the fan-out task does between two yields, so a large
/// audience never keeps the shard's other tasks (publishers, joins, other
/// streams) waiting for a whole round: 64 writes, or 1,024 viewers looked
/// at without a write (resting in their merge window, or waiting for a
/// video frame), about 0.1–0.3 ms. A yield costs the shard a trip through
/// its reactor, so a turn counts work, not viewers.
const TURN_BUDGET: usize = 1024;

/// What a write costs of [`TURN_BUDGET`]; a viewer looked at costs 1.
const WRITE_COST: usize = 16;

thread_local! {
    /// The shard's groups, by stream copy.
    static GROUPS: RefCell<HashMap<usize, Rc<Group>>> = RefCell::new(HashMap::new());
}

/// A viewer of the group.
struct Slot {
    viewer: Rc<RefCell<Viewer>>,
    /// Serving the viewer before then does nothing: its merge window is
    /// open. Kept here so the walk skips it without touching the viewer.
    rest_until: Option<Instant>,
}

/// The fan-out of one stream copy.
pub(super) struct Group {
    watch: StreamWatch,
    /// Slots of viewers; a leaving viewer's slot is reused.
    viewers: RefCell<Vec<Option<Slot>>>,
    free: RefCell<Vec<usize>>,
    live: Cell<usize>,
    /// The last viewer left: the task ends.
    closed: Cell<bool>,
    /// The fan-out task, while it waits.
    task: RefCell<Option<Waker>>,
}

impl Group {
    /// Adds `viewer` to the group of the copy `watch` watches, starting the
    /// group (and its task) if it is the first. Returns the group and the
    /// viewer's slot.
    pub(super) fn join(watch: StreamWatch, viewer: Rc<RefCell<Viewer>>) -> (Rc<Group>, usize) {
        let group = GROUPS.with_borrow_mut(|groups| {
            Rc::clone(groups.entry(watch.id()).or_insert_with(|| {
                let group = Rc::new(Group {
                    watch,
                    viewers: RefCell::new(Vec::new()),
                    free: RefCell::new(Vec::new()),
                    live: Cell::new(0),
                    closed: Cell::new(false),
                    task: RefCell::new(None),
                });
                Task::spawn(run(Rc::clone(&group))).detach();
                group
            }))
        });
        let entry = Some(Slot {
            viewer,
            rest_until: None,
        });
        let slot = match group.free.borrow_mut().pop() {
            Some(slot) => {
                group.viewers.borrow_mut()[slot] = entry;
                slot
            }
            None => {
                let mut viewers = group.viewers.borrow_mut();
                viewers.push(entry);
                viewers.len() - 1
            }
        };
        group.live.set(group.live.get() + 1);
        (group, slot)
    }

    /// Removes the viewer in `slot`; the last one closes the group.
    pub(super) fn leave(&self, slot: usize) {
        // Taken out before it drops: dropping a subscription may touch
        // the shard's streams, never this group.
        let viewer = self.viewers.borrow_mut()[slot].take();
        drop(viewer);
        self.free.borrow_mut().push(slot);
        self.live.set(self.live.get() - 1);
        if self.live.get() == 0 {
            self.closed.set(true);
            GROUPS.with_borrow_mut(|groups| {
                if groups
                    .get(&self.watch.id())
                    .is_some_and(|g| std::ptr::eq(Rc::as_ptr(g), self))
                {
                    groups.remove(&self.watch.id());
                }
            });
            if let Some(task) = self.task.take() {
                task.wake();
            }
        }
    }

    /// Serves every viewer once, yielding now and then. One clock reading
    /// per turn: a viewer inside its merge window costs a comparison.
    async fn serve_all(&self) {
        let mut next = 0;
        let mut runs = Runs::of(&self.watch);
        loop {
            let now = Instant::now();
            {
                // Serving a viewer never joins or leaves a group, so the
                // slots stay borrowed for the turn.
                let mut viewers = self.viewers.borrow_mut();
                let mut budget = TURN_BUDGET;
                while budget > 0 {
                    let Some(slot) = viewers.get_mut(next) else {
                        return;
                    };
                    next += 1;
                    budget -= 1;
                    let Some(slot) = slot else { continue };
                    if slot.rest_until.is_some_and(|until| now < until) {
                        continue;
                    }
                    let served = slot.viewer.borrow_mut().serve(now, &mut runs);
                    slot.rest_until = served.rest_until;
                    if served.wrote {
                        budget = budget.saturating_sub(WRITE_COST - 1);
                    }
                }
                if next >= viewers.len() {
                    return;
                }
            }
            task::yield_now().await;
            if self.closed.get() {
                return;
            }
        }
    }
}

/// The group's task: serves every viewer after each change of the copy,
/// until the last viewer leaves.
async fn run(group: Rc<Group>) {
    loop {
        let seen = group.watch.changes();
        group.serve_all().await;
        let changed = poll_fn(|cx| {
            if group.closed.get() {
                return Poll::Ready(false);
            }
            if group.watch.poll_changed(seen, cx).is_ready() {
                return Poll::Ready(true);
            }
            let mut task = group.task.borrow_mut();
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
        if !changed {
            return;
        }
    }
}
