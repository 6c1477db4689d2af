//! Waiting for answers from other shards: a request carries a token, and
//! the answers (one or several) complete the local waiter holding it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// One outstanding request.
struct Slot<T> {
    /// Answers so far.
    answers: Vec<T>,
    /// How many answers complete the request.
    expected: usize,
    /// The waiter, while it waits.
    waker: Option<Waker>,
}

/// The requests of one kind that a shard is waiting on, by token.
pub(crate) struct Pending<T> {
    /// The next token to hand out.
    next: Cell<u64>,
    /// Outstanding requests.
    slots: Rc<RefCell<HashMap<u64, Slot<T>>>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            next: Cell::new(0),
            slots: Rc::new(RefCell::new(HashMap::new())),
        }
    }
}

impl<T> Pending<T> {
    /// Opens a request that completes after `expected` answers.
    pub(crate) fn open(&self, expected: usize) -> (u64, Answers<T>) {
        let token = self.next.get();
        self.next.set(token.wrapping_add(1));
        self.slots.borrow_mut().insert(
            token,
            Slot {
                answers: Vec::with_capacity(expected),
                expected,
                waker: None,
            },
        );
        (
            token,
            Answers {
                token,
                slots: Rc::clone(&self.slots),
            },
        )
    }

    /// Records one answer. Returns false for an unknown token (a waiter
    /// that gave up), whose answer is dropped.
    pub(crate) fn answer(&self, token: u64, value: T) -> bool {
        let mut slots = self.slots.borrow_mut();
        let Some(slot) = slots.get_mut(&token) else {
            return false;
        };
        slot.answers.push(value);
        if slot.answers.len() >= slot.expected
            && let Some(waker) = slot.waker.take()
        {
            waker.wake();
        }
        true
    }

    /// Lowers the number of answers a request waits for (a request that
    /// could not be sent to every shard).
    pub(crate) fn expect_fewer(&self, token: u64, by: usize) {
        if let Some(slot) = self.slots.borrow_mut().get_mut(&token) {
            slot.expected = slot.expected.saturating_sub(by);
            if slot.answers.len() >= slot.expected
                && let Some(waker) = slot.waker.take()
            {
                waker.wake();
            }
        }
    }
}

/// The answers to one request; resolves once all expected answers are in.
/// Dropping it forgets the request.
pub(crate) struct Answers<T> {
    token: u64,
    slots: Rc<RefCell<HashMap<u64, Slot<T>>>>,
}

impl<T> Answers<T> {
    /// The answers that came in so far (for a waiter that gave up).
    pub(crate) fn take_partial(&mut self) -> Vec<T> {
        self.slots
            .borrow_mut()
            .remove(&self.token)
            .map(|slot| slot.answers)
            .unwrap_or_default()
    }
}

impl<T> Future for Answers<T> {
    type Output = Vec<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let mut slots = self.slots.borrow_mut();
        let Some(slot) = slots.get_mut(&self.token) else {
            return Poll::Ready(Vec::new());
        };
        if slot.answers.len() >= slot.expected {
            let answers = std::mem::take(&mut slot.answers);
            slots.remove(&self.token);
            Poll::Ready(answers)
        } else {
            slot.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl<T> Drop for Answers<T> {
    fn drop(&mut self) {
        if let Ok(mut slots) = self.slots.try_borrow_mut() {
            slots.remove(&self.token);
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_lite::future;

    use super::*;

    #[test]
    fn a_request_completes_after_its_expected_answers() {
        let pending = Pending::default();
        let (token, answers) = pending.open(2);
        pending.answer(token, 'a');
        pending.answer(token + 1, 'x');
        pending.expect_fewer(token, 0);
        pending.answer(token, 'b');
        assert_eq!(future::block_on(answers), vec!['a', 'b']);
    }

    #[test]
    fn fewer_expected_answers_complete_it_early_and_late_ones_are_ignored() {
        let pending = Pending::default();
        let (token, mut answers) = pending.open(3);
        pending.answer(token, 1);
        assert_eq!(answers.take_partial(), vec![1]);
        pending.answer(token, 2);
        let (token, answers) = pending.open(2);
        pending.expect_fewer(token, 2);
        assert!(future::block_on(answers).is_empty());
    }
}
