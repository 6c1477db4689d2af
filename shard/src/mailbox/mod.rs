//! The mailbox: the only way anything crosses from one shard to another.
//!
//! One bounded queue per (from, to) pair of shards carries *batches* of
//! messages. A shard does not push a message the moment it is sent: sends
//! go into a per-peer outbox, and the shard's flusher task pushes each
//! non-empty outbox once, at the end of the event-loop turn (the flusher is
//! woken by the first send of the turn and runs after the tasks that were
//! already ready). So a turn that relays frames of twenty streams to a peer
//! costs that peer one queue push and at most one wake-up. A send never
//! blocks: a full outbox whose queue is full hands the message back.
//!
//! # Transport: crossbeam queues and our own doorbell
//!
//! glommio 0.9 has a cross-executor channel (`shared_channel`) that also
//! wakes a sleeping receiver with an eventfd. We use `crossbeam-channel`
//! bounded queues and a doorbell of our own instead (see [`doorbell`]),
//! because:
//! - threads that are not executors (the signal thread, the CLI, tests)
//!   must reach shards too, and a `shared_channel` sender only works inside
//!   an executor; with one doorbell per shard, peers and outside threads
//!   share one wake path;
//! - one doorbell per *shard* (not per pair) means a shard woken by one peer
//!   drains every queue before parking again, so N peers sending at once
//!   cost one wake, not N;
//! - we count every wake sent and received, which the counters report;
//! - there is no per-pair connect handshake at start-up.
//!
//! Messages accepted by a send are delivered in order, per pair.

pub(crate) mod doorbell;
mod error;
pub(crate) mod mesh;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Poll, Waker};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};

use crate::stats::{add, bump};

pub use error::SendError;
pub use mesh::MailboxConfig;

use doorbell::{Doorbell, DoorbellReceiver};
use mesh::MailboxEnds;

/// Where a received batch came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Another shard.
    Peer(usize),
    /// A thread that is not a shard.
    Outside,
}

/// The most batches (or injected messages) taken from one source before the
/// receiver moves on to the next, so one chatty peer cannot starve others.
const RECV_BURST: usize = 16;

/// Counters of one shard's mailbox; plain cells, read when stats are
/// gathered.
#[derive(Debug, Default)]
pub(crate) struct MailboxCounters {
    /// Messages accepted for sending.
    pub(crate) messages_sent: Cell<u64>,
    /// Batches pushed into peers' queues.
    pub(crate) batches_sent: Cell<u64>,
    /// Doorbells rung (a peer was parked and had to be woken).
    pub(crate) wakes_sent: Cell<u64>,
    /// Sends refused because a queue was full.
    pub(crate) handed_back: Cell<u64>,
    /// Messages received (from peers and from outside).
    pub(crate) messages_received: Cell<u64>,
    /// Batches received from peers.
    pub(crate) batches_received: Cell<u64>,
    /// Times this shard was woken by its doorbell.
    pub(crate) wakes_received: Cell<u64>,
}

/// One peer, as seen by the sending shard.
struct Peer<M> {
    /// The queue into the peer.
    tx: Sender<Vec<M>>,
    /// The peer's doorbell.
    bell: Arc<Doorbell>,
    /// Messages of the current turn, not yet pushed.
    outbox: RefCell<Vec<M>>,
    /// Full batches of ordered sends that found the queue full; pushed
    /// before the outbox.
    backlog: RefCell<VecDeque<Vec<M>>>,
    /// Whether the peer's queue is disconnected (the peer stopped).
    closed: Cell<bool>,
}

/// One shard's mailbox: its outboxes to every peer and its inbound queues.
pub(crate) struct Mailbox<M> {
    /// Per shard id; `None` at this shard's own id.
    peers: Vec<Option<Peer<M>>>,
    /// Per shard id; `None` at this shard's own id.
    inbound: Vec<Option<Receiver<Vec<M>>>>,
    /// From non-shard threads.
    injected: Receiver<M>,
    /// Round-robin position over the inbound sources (`peers.len()` is the
    /// injection queue).
    next_source: Cell<usize>,
    /// This shard's doorbell and the socket it waits on.
    bell: Arc<Doorbell>,
    /// The receiving end of `bell`; taken by the one task that parks.
    bell_rx: RefCell<Option<DoorbellReceiver>>,
    /// The most messages per batch.
    max_batch: usize,
    /// Whether a flush was asked for this turn.
    flush_requested: Cell<bool>,
    /// The flusher task, while it waits.
    flusher: Cell<Option<Waker>>,
    /// Counters.
    pub(crate) counters: MailboxCounters,
}

impl<M> Mailbox<M> {
    /// Attaches a shard's ends of the mesh; call on the shard's thread.
    pub(crate) fn new(ends: MailboxEnds<M>) -> Mailbox<M> {
        let peers = ends
            .peers
            .into_iter()
            .map(|p| {
                p.map(|(tx, bell)| Peer {
                    tx,
                    bell,
                    outbox: RefCell::new(Vec::new()),
                    backlog: RefCell::new(VecDeque::new()),
                    closed: Cell::new(false),
                })
            })
            .collect();
        let (bell, end) = ends.doorbell;
        Mailbox {
            peers,
            inbound: ends.inbound,
            injected: ends.injected,
            next_source: Cell::new(0),
            bell,
            bell_rx: RefCell::new(Some(end.attach())),
            max_batch: ends.max_batch.max(1),
            flush_requested: Cell::new(false),
            flusher: Cell::new(None),
            counters: MailboxCounters::default(),
        }
    }

    /// The number of shards (peers plus this one).
    pub(crate) fn shards(&self) -> usize {
        self.peers.len()
    }

    fn peer(&self, to: usize) -> Option<&Peer<M>> {
        self.peers.get(to).and_then(Option::as_ref)
    }

    /// Accepts `msg` for shard `to`, to be pushed at the end of this turn.
    /// Never blocks: when the outbox is full and its queue has no room, the
    /// message is handed back.
    pub(crate) fn try_send(&self, to: usize, msg: M) -> Result<(), SendError<M>> {
        let Some(peer) = self.peer(to) else {
            return Err(SendError::NoSuchShard { to, item: msg });
        };
        if peer.closed.get() {
            return Err(SendError::Closed { to, item: msg });
        }
        if peer.outbox.borrow().len() >= self.max_batch {
            self.flush_peer(peer);
            if peer.closed.get() {
                return Err(SendError::Closed { to, item: msg });
            }
            if peer.outbox.borrow().len() >= self.max_batch {
                bump(&self.counters.handed_back);
                return Err(SendError::Full { to, item: msg });
            }
        }
        self.accept(peer, msg);
        Ok(())
    }

    /// Accepts `msg` for shard `to` even when the queue is full: it then
    /// waits, in order, in a backlog that the flusher pushes as room frees.
    /// For control messages that must not be lost or reordered (subscribe,
    /// unsubscribe, publish); each is small and a stream sends O(1) of them
    /// per peer at a time, so the backlog stays bounded by the number of
    /// streams. Only a stopped or unknown peer hands the message back.
    pub(crate) fn send_ordered(&self, to: usize, msg: M) -> Result<(), SendError<M>> {
        let Some(peer) = self.peer(to) else {
            return Err(SendError::NoSuchShard { to, item: msg });
        };
        if peer.closed.get() {
            return Err(SendError::Closed { to, item: msg });
        }
        if peer.outbox.borrow().len() >= self.max_batch {
            self.flush_peer(peer);
            if peer.outbox.borrow().len() >= self.max_batch {
                let full = std::mem::take(&mut *peer.outbox.borrow_mut());
                peer.backlog.borrow_mut().push_back(full);
            }
        }
        self.accept(peer, msg);
        Ok(())
    }

    fn accept(&self, peer: &Peer<M>, msg: M) {
        let mut outbox = peer.outbox.borrow_mut();
        if outbox.is_empty() {
            outbox.reserve(self.max_batch.min(64));
        }
        outbox.push(msg);
        drop(outbox);
        bump(&self.counters.messages_sent);
        self.request_flush();
    }

    /// Pushes everything waiting for `to` now, without waiting for the end
    /// of the turn. Returns whether nothing is left waiting.
    pub(crate) fn flush_to(&self, to: usize) -> bool {
        match self.peer(to) {
            Some(peer) => self.flush_peer(peer),
            None => true,
        }
    }

    /// Pushes every outbox and backlog that has room in its queue. Returns
    /// whether nothing is left waiting (false: some queue was full).
    pub(crate) fn flush(&self) -> bool {
        self.flush_requested.set(false);
        let mut done = true;
        for peer in self.peers.iter().flatten() {
            done &= self.flush_peer(peer);
        }
        done
    }

    fn flush_peer(&self, peer: &Peer<M>) -> bool {
        if peer.closed.get() {
            return true;
        }
        let mut pushed = false;
        let mut done = true;
        {
            let mut backlog = peer.backlog.borrow_mut();
            while let Some(batch) = backlog.pop_front() {
                match peer.tx.try_send(batch) {
                    Ok(()) => {
                        pushed = true;
                        bump(&self.counters.batches_sent);
                    }
                    Err(TrySendError::Full(batch)) => {
                        backlog.push_front(batch);
                        done = false;
                        break;
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        peer.closed.set(true);
                        backlog.clear();
                        peer.outbox.borrow_mut().clear();
                        return true;
                    }
                }
            }
        }
        if done && !peer.outbox.borrow().is_empty() {
            let batch = std::mem::take(&mut *peer.outbox.borrow_mut());
            match peer.tx.try_send(batch) {
                Ok(()) => {
                    pushed = true;
                    bump(&self.counters.batches_sent);
                }
                Err(TrySendError::Full(batch)) => {
                    *peer.outbox.borrow_mut() = batch;
                    done = false;
                }
                Err(TrySendError::Disconnected(_)) => {
                    peer.closed.set(true);
                    return true;
                }
            }
        }
        if pushed && peer.bell.ring() {
            bump(&self.counters.wakes_sent);
        }
        done
    }

    /// Asks the flusher to run at the end of this turn.
    pub(crate) fn request_flush(&self) {
        if !self.flush_requested.replace(true)
            && let Some(waker) = self.flusher.take()
        {
            waker.wake();
        }
    }

    /// Waits until a flush is requested; for the flusher task only.
    pub(crate) async fn flush_wanted(&self) {
        poll_fn(|cx| {
            if self.flush_requested.get() {
                Poll::Ready(())
            } else {
                self.flusher.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }

    /// Takes up to one burst of messages from the next source that has any,
    /// round-robin, appending them to `out`. Returns the source, or `None`
    /// when every queue is empty.
    pub(crate) fn recv(&self, out: &mut Vec<M>) -> Option<Source> {
        let sources = self.inbound.len() + 1;
        for step in 0..sources {
            let index = (self.next_source.get() + step) % sources;
            if self.take_from(index, out) {
                self.next_source.set((index + 1) % sources);
                let source = if index == self.inbound.len() {
                    Source::Outside
                } else {
                    Source::Peer(index)
                };
                return Some(source);
            }
        }
        None
    }

    fn take_from(&self, index: usize, out: &mut Vec<M>) -> bool {
        let before = out.len();
        if index == self.inbound.len() {
            for _ in 0..RECV_BURST * self.max_batch {
                match self.injected.try_recv() {
                    Ok(msg) => out.push(msg),
                    Err(_) => break,
                }
            }
        } else if let Some(rx) = &self.inbound[index] {
            for _ in 0..RECV_BURST {
                match rx.try_recv() {
                    Ok(batch) => {
                        bump(&self.counters.batches_received);
                        out.extend(batch);
                    }
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
        }
        let got = out.len() - before;
        add(&self.counters.messages_received, got as u64);
        got > 0
    }

    fn anything_waiting(&self) -> bool {
        !self.injected.is_empty() || self.inbound.iter().flatten().any(|rx| !rx.is_empty())
    }

    /// Parks until a sender rings the doorbell; returns at once if something
    /// arrived meanwhile. Returns false once the doorbell can never ring
    /// again (every sender is gone). For the one receiving task only.
    pub(crate) async fn park(&self) -> bool {
        self.bell.arm();
        if self.anything_waiting() {
            self.bell.disarm();
            return true;
        }
        let Some(mut rx) = self.bell_rx.borrow_mut().take() else {
            self.bell.disarm();
            return true;
        };
        let rung = rx.wait().await.is_ok();
        *self.bell_rx.borrow_mut() = Some(rx);
        if rung {
            bump(&self.counters.wakes_received);
        }
        rung
    }

    /// Messages waiting to be pushed by this shard plus messages waiting in
    /// its inbound queues (batches count as one each).
    pub(crate) fn depth(&self) -> u64 {
        let outgoing: usize = self
            .peers
            .iter()
            .flatten()
            .map(|p| {
                p.outbox.borrow().len() + p.backlog.borrow().iter().map(Vec::len).sum::<usize>()
            })
            .sum();
        let incoming: usize = self.inbound.iter().flatten().map(Receiver::len).sum();
        (outgoing + incoming + self.injected.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` with the two mailboxes of a two-shard mesh, both on one
    /// test executor.
    fn with_pair(config: MailboxConfig, f: impl FnOnce(Mailbox<u32>, Mailbox<u32>) + 'static) {
        let executor = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .io_memory(64 << 10)
            .make()
            .unwrap();
        executor.run(async move {
            let (ends, _injector) = mesh::build::<u32>(2, &config).unwrap();
            let mut ends = ends.into_iter();
            let a = Mailbox::new(ends.next().unwrap());
            let b = Mailbox::new(ends.next().unwrap());
            f(a, b);
        });
    }

    fn drain(mailbox: &Mailbox<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        while mailbox.recv(&mut out).is_some() {}
        out
    }

    #[test]
    fn a_turn_of_sends_is_one_batch_and_at_most_one_wake() {
        let config = MailboxConfig {
            queue_batches: 4,
            max_batch: 16,
            inject_depth: 4,
        };
        with_pair(config, |a, b| {
            b.bell.arm();
            for n in 0..10 {
                a.try_send(1, n).unwrap();
            }
            assert!(a.flush());
            assert_eq!(a.counters.batches_sent.get(), 1);
            assert_eq!(a.counters.wakes_sent.get(), 1);
            // The receiver is awake now: no further wake.
            a.try_send(1, 10).unwrap();
            assert!(a.flush());
            assert_eq!(a.counters.wakes_sent.get(), 1);
            assert_eq!(drain(&b), (0..=10).collect::<Vec<_>>());
            assert_eq!(b.counters.batches_received.get(), 2);
        });
    }

    #[test]
    fn ordered_sends_wait_in_a_backlog_and_keep_their_order() {
        let config = MailboxConfig {
            queue_batches: 1,
            max_batch: 2,
            inject_depth: 4,
        };
        with_pair(config, |a, b| {
            for n in 0..10 {
                a.send_ordered(1, n).unwrap();
            }
            assert!(!a.flush(), "the queue holds one batch only");
            // The outbox is full behind the backlog: a plain send is refused.
            assert!(a.try_send(1, 99).unwrap_err().is_full());
            let mut got = Vec::new();
            for _ in 0..10 {
                got.extend(drain(&b));
                a.flush();
            }
            assert_eq!(got, (0..10).collect::<Vec<_>>());
            assert_eq!(a.depth(), 0);
        });
    }

    #[test]
    fn sends_to_unknown_or_self_are_handed_back() {
        with_pair(MailboxConfig::default(), |a, _b| {
            assert!(matches!(
                a.try_send(0, 7),
                Err(SendError::NoSuchShard { to: 0, item: 7 })
            ));
            assert!(matches!(
                a.send_ordered(5, 8),
                Err(SendError::NoSuchShard { to: 5, item: 8 })
            ));
        });
    }

    #[test]
    fn a_stopped_peer_is_closed() {
        with_pair(MailboxConfig::default(), |a, b| {
            drop(b);
            a.try_send(1, 1).unwrap();
            a.flush();
            assert!(matches!(
                a.try_send(1, 2),
                Err(SendError::Closed { to: 1, item: 2 })
            ));
        });
    }
}
