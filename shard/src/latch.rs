//! A one-way, single-shard latch: once set it stays set, and every task
//! waiting on it wakes.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// Set once; awaited by any number of local tasks.
#[derive(Default)]
pub(crate) struct Latch {
    /// Whether it was set.
    set: Cell<bool>,
    /// Tasks waiting for it.
    waiters: RefCell<Vec<Waker>>,
}

impl Latch {
    /// Sets the latch and wakes every waiter.
    pub(crate) fn set(&self) {
        if !self.set.replace(true) {
            for waker in self.waiters.take() {
                waker.wake();
            }
        }
    }

    /// Whether the latch is set.
    pub(crate) fn is_set(&self) -> bool {
        self.set.get()
    }

    /// Waits until the latch is set.
    pub(crate) async fn wait(&self) {
        poll_fn(|cx| {
            if self.set.get() {
                Poll::Ready(())
            } else {
                let mut waiters = self.waiters.borrow_mut();
                if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
        .await
    }
}
