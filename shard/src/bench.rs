//! A measuring hook on the mailbox itself, for benchmarks in other crates:
//! how long do N small messages take from one pinned shard to another,
//! pushed in batches of B?

use std::time::{Duration, Instant};

use crate::mailbox::SendError;
use crate::message::{Message, Stats};
use crate::task;
use crate::{Runtime, ShardCtx, ShardError};

/// How long a sender waits when the queue is full before trying again.
const FULL_QUEUE_BACKOFF: Duration = Duration::from_micros(20);

impl ShardCtx {
    /// Sends `messages` probe messages (a few bytes each) from this shard to
    /// shard `to`, pushing a batch after every `batch` of them, and returns
    /// the time from the first send until this shard hears back that `to`
    /// received the last one (one extra message back, included).
    ///
    /// `batch = 1` measures unbatched sends (one queue push and potentially
    /// one wake per message); batches larger than the configured
    /// [`MailboxConfig::max_batch`](crate::MailboxConfig::max_batch) are cut
    /// at that size. A full queue makes the sender wait and retry, so the
    /// result includes back-pressure.
    pub async fn bench_mailbox(
        &self,
        to: usize,
        messages: u64,
        batch: usize,
    ) -> Result<Duration, ShardError> {
        if to == self.id() || to >= self.shards() {
            return Err(ShardError::NoSuchShard(to));
        }
        if messages == 0 || batch == 0 {
            return Err(ShardError::BadConfig(
                "bench_mailbox needs messages and batch >= 1",
            ));
        }
        let mailbox = &self.shard.mailbox;
        let (token, ack) = self.shard.probes.open(1);
        let start = Instant::now();
        for i in 1..=messages {
            let mut msg = Message::Stats(Stats::Probe {
                token,
                last: i == messages,
            });
            loop {
                match mailbox.try_send(to, msg) {
                    Ok(()) => break,
                    Err(SendError::Full { item, .. }) => {
                        msg = item;
                        mailbox.flush_to(to);
                        task::sleep(FULL_QUEUE_BACKOFF).await;
                    }
                    Err(_) => return Err(ShardError::Stopped(to)),
                }
            }
            if i % batch as u64 == 0 {
                mailbox.flush_to(to);
            }
        }
        mailbox.flush_to(to);
        match task::timeout(self.config().request_timeout, ack).await {
            Some(_) => Ok(start.elapsed()),
            None => Err(ShardError::Stopped(to)),
        }
    }
}

impl Runtime {
    /// Runs [`ShardCtx::bench_mailbox`] on shard `from` towards shard `to`
    /// and waits for the result. Blocks; call from a thread that is not a
    /// shard. With both shards on their own CPUs, `elapsed / messages` is
    /// the cost of one message between two cores.
    pub fn bench_mailbox(
        &self,
        from: usize,
        to: usize,
        messages: u64,
        batch: usize,
    ) -> Result<Duration, ShardError> {
        self.spawn_on(from, move |ctx: ShardCtx| async move {
            ctx.bench_mailbox(to, messages, batch).await
        })
        .join()?
    }
}
