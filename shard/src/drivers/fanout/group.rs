//! The viewers of one stream copy on this shard that the fan-out serves,
//! and the task that serves them each time the copy changes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

use super::outlet::Viewer;
use crate::pubsub::StreamWatch;
use crate::task::{self, Task};

/// Viewers served between two yields of the fan-out task, so a large
/// audience never keeps the shard's other tasks (publishers, joins, other
/// streams) waiting for a whole round.
const SERVED_PER_TURN: usize = 64;

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
        let mut from = 0;
        loop {
            let now = Instant::now();
            {
                // Serving a viewer never joins or leaves a group, so the
                // slots stay borrowed for the turn.
                let mut viewers = self.viewers.borrow_mut();
                let turn = viewers.iter_mut().skip(from).take(SERVED_PER_TURN);
                for slot in turn.flatten() {
                    if slot.rest_until.is_none_or(|until| until <= now) {
                        slot.rest_until = slot.viewer.borrow_mut().serve(now);
                    }
                }
                from += SERVED_PER_TURN;
                if from >= viewers.len() {
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
