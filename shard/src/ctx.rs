//! The per-shard handle every task on a shard works through.

use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use crate::config::RuntimeConfig;
use crate::drivers::http::api::clients;
use crate::latch::Latch;
use crate::mailbox::{Mailbox, SendError};
use crate::message::{Control, Message, RunOnShard, Stats};
use crate::net::Listeners;
use crate::pubsub::Directory;
use crate::reply::Pending;
use crate::stats::{Counters, ShardStats};
use crate::task::{self, Task};

/// The state of one shard; only ever touched from its own thread.
pub(crate) struct Shard {
    /// This shard's id.
    pub(crate) id: usize,
    /// The runtime's configuration.
    /// This shard's copy, replaced whole by a reload.
    pub(crate) config: RefCell<Rc<RuntimeConfig>>,
    /// The queues to and from every other shard.
    pub(crate) mailbox: Mailbox<Message>,
    /// Stream and connection counters.
    pub(crate) counters: Counters,
    /// The streams this shard owns and mirrors.
    pub(crate) streams: Directory,
    /// The protocol handlers of the listeners installed here.
    pub(crate) listeners: Listeners,
    /// Outstanding counter gatherings.
    pub(crate) stats_requests: Pending<ShardStats>,
    /// Outstanding mailbox probes.
    pub(crate) probes: Pending<()>,
    /// Outstanding [`ShardCtx::call_on`] answers.
    pub(crate) calls: Pending<Box<dyn Any + Send>>,
    /// Set when the shard is asked to stop.
    pub(crate) stopping: Latch,
}

/// A handle to the shard the current task runs on.
///
/// Cheap to clone (a reference count), and not `Send`: it stays on its
/// shard. Every cross-shard action goes through its mailbox.
#[derive(Clone)]
pub struct ShardCtx {
    pub(crate) shard: Rc<Shard>,
}

impl ShardCtx {
    /// This shard's id, `0..shards()`.
    pub fn id(&self) -> usize {
        self.shard.id
    }

    /// How many shards the runtime has.
    pub fn shards(&self) -> usize {
        self.shard.mailbox.shards()
    }

    /// The runtime's configuration as it is now: a reload
    /// ([`Runtime::reconfigure`](crate::Runtime::reconfigure)) replaces it
    /// for what starts after, while what runs keeps the copy it took.
    pub fn config(&self) -> Rc<RuntimeConfig> {
        Rc::clone(&self.shard.config.borrow())
    }

    /// Takes `config` from now on (a reload).
    pub(crate) fn replace_config(&self, config: RuntimeConfig) {
        *self.shard.config.borrow_mut() = Rc::new(config);
    }

    /// Spawns a task on this shard. The future need not be `Send`.
    pub fn spawn<T: 'static>(&self, future: impl Future<Output = T> + 'static) -> Task<T> {
        Task::spawn(future)
    }

    /// Waits for `duration` without blocking the shard.
    pub async fn sleep(&self, duration: Duration) {
        task::sleep(duration).await;
    }

    /// Lets every other ready task of this shard run before continuing.
    pub async fn yield_now(&self) {
        task::yield_now().await;
    }

    /// Sends `f` to run on shard `to` (on this shard it runs in a new task).
    ///
    /// Never blocks: if `to`'s queue is full, or `to` has stopped, `f` is
    /// handed back in the error.
    pub fn try_run_on<F>(&self, to: usize, f: F) -> Result<(), SendError<F>>
    where
        F: FnOnce(ShardCtx) + Send + 'static,
    {
        if to == self.id() {
            let ctx = self.clone();
            Task::spawn(async move { f(ctx) }).detach();
            return Ok(());
        }
        let msg = Message::Control(Control::Run(Box::new(f)));
        self.shard.mailbox.try_send(to, msg).map_err(|e| {
            e.map(|msg| match msg {
                Message::Control(Control::Run(job)) => unbox_job::<F>(job),
                _ => unreachable!("the mailbox hands back the message it was given"),
            })
        })
    }

    /// Runs `f` on shard `to` (in a task there) and returns what its
    /// future gives, or `None` if `to` could not take the job or did not
    /// answer within `limit`.
    ///
    /// The answer travels back through the mailbox in order (it is not
    /// handed back when the queue is full), so only `T` crosses cores:
    /// `Bytes` answers move, they are not copied.
    pub async fn call_on<T, F, Fut>(&self, to: usize, limit: Duration, f: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(ShardCtx) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let (token, answers) = self.shard.calls.open(1);
        let from = self.id();
        let job = move |there: ShardCtx| {
            let run = f(there.clone());
            let spawner = there.clone();
            spawner
                .spawn(async move {
                    let answer: Box<dyn Any + Send> = Box::new(run.await);
                    let reply = move |back: ShardCtx| {
                        back.shard.calls.answer(token, answer);
                    };
                    if from == there.id() {
                        reply(there);
                    } else {
                        let msg = Message::Control(Control::Run(Box::new(reply)));
                        // A stopped caller no longer waits for the answer.
                        let _ = there.shard.mailbox.send_ordered(from, msg);
                    }
                })
                .detach();
        };
        self.try_run_on(to, job).ok()?;
        let answer = task::timeout(limit, answers).await?.pop()?;
        answer.downcast::<T>().ok().map(|answer| *answer)
    }

    /// This shard's counters, now.
    pub fn stats(&self) -> ShardStats {
        let shard = &self.shard;
        let c = &shard.counters;
        let m = &shard.mailbox.counters;
        let (streams_owned, streams_mirrored, viewers) = shard.streams.counts();
        let clients = clients::counts();
        let recordings = self.record_stats();
        ShardStats {
            shard: shard.id,
            streams_owned,
            streams_mirrored,
            viewers,
            frames_in: c.frames_in.get(),
            bytes_in: c.bytes_in.get(),
            frames_out: c.frames_out.get(),
            bytes_out: c.bytes_out.get(),
            skips: c.skips.get(),
            evictions: c.evictions.get(),
            slow_writes: c.slow_writes.get(),
            relay_drops: c.relay_drops.get(),
            mailbox_depth: shard.mailbox.depth(),
            messages_sent: m.messages_sent.get(),
            messages_received: m.messages_received.get(),
            batches_sent: m.batches_sent.get(),
            batches_received: m.batches_received.get(),
            wakes_sent: m.wakes_sent.get(),
            wakes_received: m.wakes_received.get(),
            handed_back: m.handed_back.get(),
            connections_accepted: c.connections_accepted.get(),
            handoffs_sent: c.handoffs_sent.get(),
            handoffs_received: c.handoffs_received.get(),
            protocol_errors: c.protocol_errors.get(),
            timeouts: c.timeouts.get(),
            connections_refused: c.connections_refused.get(),
            publishers: clients.publishers,
            rtmp_players: clients.rtmp_players,
            http_flv_players: clients.http_flv_players,
            hls_requests: c.hls_requests.get(),
            kicks: c.kicks.get(),
            recordings_active: recordings.active,
            recordings_finished: recordings.finished,
            recordings_failed: recordings.failed,
            recorded_bytes: recordings.bytes_written,
            refused_unauthorized: c.refused_unauthorized.get(),
            refused_not_found: c.refused_not_found.get(),
            refused_bad_name: c.refused_bad_name.get(),
            refused_other: c.refused_other.get(),
            histograms: c.histograms.snapshot(),
        }
    }

    /// Every shard's counters, gathered through the mailbox (a `Stats`
    /// map-reduce), in shard order. Shards that have stopped, or do not
    /// answer within the request timeout, are left out.
    pub async fn gather_stats(&self) -> Vec<ShardStats> {
        let peers = self.shards() - 1;
        let (token, mut answers) = self.shard.stats_requests.open(peers);
        for to in (0..self.shards()).filter(|&to| to != self.id()) {
            let msg = Message::Stats(Stats::Gather { token });
            if self.shard.mailbox.send_ordered(to, msg).is_err() {
                self.shard.stats_requests.expect_fewer(token, 1);
            }
        }
        let limit = self.config().request_timeout;
        let mut all = match task::timeout(limit, &mut answers).await {
            Some(all) => all,
            None => answers.take_partial(),
        };
        all.push(self.stats());
        all.sort_by_key(|s| s.shard);
        all
    }

    /// Runs `f` on every shard at once (see [`ShardCtx::call_on`]) and
    /// returns the answers in shard order; a shard that could not take the
    /// job or did not answer within `limit` is `None`.
    pub async fn call_on_all<T, F, Fut>(&self, limit: Duration, f: F) -> Vec<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(ShardCtx) -> Fut + Send + Clone + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let calls: Vec<Task<Option<T>>> = (0..self.shards())
            .map(|to| {
                let (ctx, f) = (self.clone(), f.clone());
                self.spawn(async move { ctx.call_on(to, limit, f).await })
            })
            .collect();
        let mut answers = Vec::with_capacity(calls.len());
        for call in calls {
            answers.push(call.await);
        }
        answers
    }

    /// Whether the shard has been asked to stop.
    pub fn is_stopping(&self) -> bool {
        self.shard.stopping.is_set()
    }

    /// Waits until the shard is asked to stop (for accept loops and
    /// long-running sessions that want to say goodbye).
    pub async fn stopping(&self) {
        self.shard.stopping.wait().await;
    }
}

/// Recovers the caller's closure from a handed-back job.
fn unbox_job<F: 'static>(job: Box<dyn RunOnShard>) -> F {
    match job.into_any().downcast::<F>() {
        Ok(f) => *f,
        Err(_) => unreachable!("a job is handed back as the type it was sent as"),
    }
}
