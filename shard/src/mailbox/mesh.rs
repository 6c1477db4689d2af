//! Building the queues between every pair of shards, and the injection
//! queues from threads that are not shards.

use std::io;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::SendError;
use super::doorbell::{Doorbell, DoorbellEnd};

/// Sizes of the mailbox queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxConfig {
    /// How many batches each (from, to) queue holds before a send is handed
    /// back.
    pub queue_batches: usize,
    /// The most messages one batch carries; a shard that produces more to
    /// one peer within a turn pushes a batch early.
    pub max_batch: usize,
    /// How many messages from non-shard threads (signals, the CLI, tests)
    /// each shard's injection queue holds.
    pub inject_depth: usize,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        MailboxConfig {
            queue_batches: 256,
            max_batch: 256,
            inject_depth: 1024,
        }
    }
}

/// The sending end of one (from, to) queue, with the receiver's doorbell.
type PeerEnd<M> = (Sender<Vec<M>>, Arc<Doorbell>);

/// One shard's ends of the mesh before it is attached to its executor; it
/// is `Send` so it can move to the shard's thread.
pub(crate) struct MailboxEnds<M> {
    /// Per peer (`None` at `me`): the queue into that peer and its doorbell.
    pub(crate) peers: Vec<Option<PeerEnd<M>>>,
    /// Per peer (`None` at `me`): the queue from that peer.
    pub(crate) inbound: Vec<Option<Receiver<Vec<M>>>>,
    /// The queue from non-shard threads.
    pub(crate) injected: Receiver<M>,
    /// This shard's own doorbell (it arms it) and the end it listens on.
    pub(crate) doorbell: (Arc<Doorbell>, DoorbellEnd),
    /// The most messages per batch.
    pub(crate) max_batch: usize,
}

/// Sends messages into shards from threads that are not shards.
///
/// Cheap to clone; every clone reaches every shard.
pub(crate) struct Injector<M> {
    /// Per shard: its injection queue and its doorbell.
    shards: Arc<Vec<(Sender<M>, Arc<Doorbell>)>>,
}

impl<M> Clone for Injector<M> {
    fn clone(&self) -> Self {
        Injector {
            shards: Arc::clone(&self.shards),
        }
    }
}

impl<M> Injector<M> {
    /// Puts `msg` in shard `to`'s injection queue and wakes the shard if it
    /// sleeps. Never blocks; a full queue hands the message back.
    pub(crate) fn inject(&self, to: usize, msg: M) -> Result<(), SendError<M>> {
        let Some((tx, bell)) = self.shards.get(to) else {
            return Err(SendError::NoSuchShard { to, item: msg });
        };
        match tx.try_send(msg) {
            Ok(()) => {
                bell.ring();
                Ok(())
            }
            Err(TrySendError::Full(item)) => Err(SendError::Full { to, item }),
            Err(TrySendError::Disconnected(item)) => Err(SendError::Closed { to, item }),
        }
    }

    /// How many shards this injector reaches.
    pub(crate) fn shards(&self) -> usize {
        self.shards.len()
    }
}

/// Creates the full mesh for `n` shards: `n * (n - 1)` bounded queues, one
/// injection queue and one doorbell per shard.
pub(crate) fn build<M>(
    n: usize,
    config: &MailboxConfig,
) -> io::Result<(Vec<MailboxEnds<M>>, Injector<M>)> {
    let mut bells = Vec::with_capacity(n);
    for _ in 0..n {
        let (bell, end) = Doorbell::new()?;
        bells.push((Arc::new(bell), end));
    }
    let mut peers: Vec<Vec<Option<PeerEnd<M>>>> =
        (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    let mut inbound: Vec<Vec<Option<Receiver<Vec<M>>>>> =
        (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for from in 0..n {
        for to in (0..n).filter(|&to| to != from) {
            let (tx, rx) = bounded(config.queue_batches);
            peers[from][to] = Some((tx, Arc::clone(&bells[to].0)));
            inbound[to][from] = Some(rx);
        }
    }
    let mut injectors = Vec::with_capacity(n);
    let mut ends = Vec::with_capacity(n);
    for ((bell, end), (peers, inbound)) in bells.into_iter().zip(peers.into_iter().zip(inbound)) {
        let (tx, injected) = bounded(config.inject_depth);
        injectors.push((tx, Arc::clone(&bell)));
        ends.push(MailboxEnds {
            peers,
            inbound,
            injected,
            doorbell: (bell, end),
            max_batch: config.max_batch,
        });
    }
    Ok((
        ends,
        Injector {
            shards: Arc::new(injectors),
        },
    ))
}
