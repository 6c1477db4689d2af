//! The runtime: one pinned executor thread per shard, the mesh of mailbox
//! queues between them, and the handle that outside threads (the CLI, the
//! signal thread, tests) use to reach the shards.

mod join;
mod thread;

use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::bounded;

pub use join::ShardJoinHandle;

use crate::config::RuntimeConfig;
use crate::mailbox::SendError;
use crate::mailbox::mesh::{self, Injector};
use crate::message::{Control, Message};
use crate::signals::SignalThread;
use crate::stats::ShardStats;
use crate::{ShardCtx, ShardError};

/// A running set of shards.
///
/// Dropping it shuts the shards down and joins their threads; call
/// [`Runtime::join`] to learn whether any of them panicked.
pub struct Runtime {
    /// Reaches every shard's injection queue.
    pub(crate) injector: Injector<Message>,
    /// One thread per shard, in id order; emptied by `join`.
    threads: Vec<JoinHandle<()>>,
    /// The configuration the shards run with.
    config: Arc<RuntimeConfig>,
    /// The signal thread, once installed.
    pub(crate) signals: Option<SignalThread>,
    /// What SIGHUP runs, until the signal thread takes it.
    pub(crate) reload: Option<Reload>,
}

/// Builds the configuration a SIGHUP reload switches to, or says why it
/// cannot (the running one is then kept).
pub type Reload = Box<dyn FnMut() -> Result<RuntimeConfig, String> + Send>;

impl Runtime {
    /// Starts one pinned executor thread per shard in `config.shards` and
    /// returns once every one of them runs.
    ///
    /// If any shard fails to start (most often the locked-memory limit), the
    /// ones already started are stopped and the first failure is returned.
    pub fn start(config: RuntimeConfig) -> Result<Runtime, ShardError> {
        validate(&config)?;
        let config = Arc::new(config);
        let n = config.shards.len();
        let (ends, injector) =
            mesh::build(n, &config.mailbox).map_err(|e| ShardError::io("build the mailbox", e))?;
        let (ready_tx, ready_rx) = bounded(n);
        let mut runtime = Runtime {
            injector,
            threads: Vec::with_capacity(n),
            config: Arc::clone(&config),
            signals: None,
            reload: None,
        };
        for (spec, ends) in config.shards.iter().zip(ends) {
            let handle = thread::spawn(*spec, ends, Arc::clone(&config), ready_tx.clone())?;
            runtime.threads.push(handle);
        }
        drop(ready_tx);
        let mut failure = None;
        let mut started = vec![false; n];
        for _ in 0..n {
            match ready_rx.recv() {
                Ok((id, Ok(()))) => started[id] = true,
                Ok((id, Err(e))) => {
                    started[id] = true;
                    failure.get_or_insert(e);
                }
                Err(_) => {
                    // A thread died before it could report: it panicked.
                    let id = started.iter().position(|s| !s).unwrap_or(0);
                    failure.get_or_insert(ShardError::Panicked(id));
                    break;
                }
            }
        }
        match failure {
            None => Ok(runtime),
            Some(e) => {
                runtime.shutdown();
                let _ = runtime.join();
                Err(e)
            }
        }
    }

    /// How many shards run.
    pub fn shards(&self) -> usize {
        self.injector.shards()
    }

    /// The configuration the shards run with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Replaces what can change while running — app limits, the
    /// authenticator, hooks, the unpublish grace, timeouts — on every shard.
    /// New sessions use the new values; running ones keep what they
    /// started with (a connected player is not re-authorized). The shards
    /// and their placement cannot change: `config.shards` is ignored.
    pub fn reconfigure(&self, config: RuntimeConfig) -> Result<(), ShardError> {
        reconfigure_all(&self.injector, &self.config, config)
    }

    /// Runs `f` on shard `shard`: `f` is sent there, called with the shard's
    /// [`ShardCtx`], and the future it returns is spawned on that shard (it
    /// need not be `Send`). [`ShardJoinHandle::join`] blocks until it
    /// completes and returns its output.
    pub fn spawn_on<F, Fut, T>(&self, shard: usize, f: F) -> ShardJoinHandle<T>
    where
        F: FnOnce(ShardCtx) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = bounded(1);
        let job = move |ctx: ShardCtx| {
            let future = f(ctx.clone());
            ctx.spawn(async move {
                // The caller may have dropped its handle; nothing to do then.
                let _ = tx.send(future.await);
            })
            .detach();
        };
        let sent = self
            .injector
            .inject(shard, Message::Control(Control::Run(Box::new(job))));
        ShardJoinHandle {
            shard,
            result: sent.map(|()| rx).map_err(|e| injection_error(&e)),
        }
    }

    /// Runs `f` on every shard (see [`Runtime::spawn_on`]), in id order.
    pub fn spawn_on_all<F, Fut, T>(&self, f: F) -> Vec<ShardJoinHandle<T>>
    where
        F: Fn(ShardCtx) -> Fut + Send + Clone + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        (0..self.shards())
            .map(|shard| self.spawn_on(shard, f.clone()))
            .collect()
    }

    /// Every shard's counters, in shard order. Blocks; call from a thread
    /// that is not a shard.
    pub fn stats(&self) -> Result<Vec<ShardStats>, ShardError> {
        self.spawn_on_all(|ctx: ShardCtx| async move { ctx.stats() })
            .into_iter()
            .map(ShardJoinHandle::join)
            .collect()
    }

    /// Asks every shard to stop: stop accepting, end their streams (viewers
    /// see the end), and return. Does not wait; see [`Runtime::join`].
    pub fn shutdown(&self) {
        shutdown_all(&self.injector);
    }

    /// Waits for every shard thread to finish. Returns the first panic, if
    /// any shard panicked.
    pub fn join(mut self) -> Result<(), ShardError> {
        self.join_threads()
    }

    fn join_threads(&mut self) -> Result<(), ShardError> {
        let mut result = Ok(());
        for (id, handle) in self.threads.drain(..).enumerate() {
            if handle.join().is_err() && result.is_ok() {
                result = Err(ShardError::Panicked(id));
            }
        }
        if let Some(signals) = self.signals.take() {
            signals.stop();
        }
        result
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if !self.threads.is_empty() || self.signals.is_some() {
            self.shutdown();
            let _ = self.join_threads();
        }
    }
}

/// Sends `Shutdown` to every shard, waiting for room in a full injection
/// queue (this runs on an outside thread, where waiting is fine).
/// Sends every shard its copy of `config`, keeping the running placement.
pub(crate) fn reconfigure_all(
    injector: &Injector<Message>,
    running: &RuntimeConfig,
    mut config: RuntimeConfig,
) -> Result<(), ShardError> {
    config.shards = running.shards.clone();
    for shard in 0..injector.shards() {
        let copy = config.clone();
        let job = move |ctx: ShardCtx| ctx.replace_config(copy);
        let mut msg = Message::Control(Control::Run(Box::new(job)));
        loop {
            match injector.inject(shard, msg) {
                Ok(()) => break,
                Err(SendError::Full { item, .. }) => {
                    msg = item;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => return Err(injection_error(&e)),
            }
        }
    }
    Ok(())
}

pub(crate) fn shutdown_all(injector: &Injector<Message>) {
    for shard in 0..injector.shards() {
        let mut msg = Message::Control(Control::Shutdown);
        while let Err(SendError::Full { item, .. }) = injector.inject(shard, msg) {
            msg = item;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

fn injection_error<T>(e: &SendError<T>) -> ShardError {
    match e {
        SendError::Full { to, .. } => ShardError::Busy(*to),
        SendError::Closed { to, .. } => ShardError::Stopped(*to),
        SendError::NoSuchShard { to, .. } => ShardError::NoSuchShard(*to),
    }
}

fn validate(config: &RuntimeConfig) -> Result<(), ShardError> {
    if config.shards.is_empty() {
        return Err(ShardError::NoShards);
    }
    if let Some((position, spec)) = config
        .shards
        .iter()
        .enumerate()
        .find(|(i, spec)| spec.id != *i)
    {
        return Err(ShardError::BadShardId {
            position,
            found: spec.id,
        });
    }
    if config.mailbox.queue_batches == 0 {
        return Err(ShardError::BadConfig(
            "mailbox.queue_batches must be at least 1",
        ));
    }
    if config.mailbox.max_batch == 0 {
        return Err(ShardError::BadConfig(
            "mailbox.max_batch must be at least 1",
        ));
    }
    if config.mailbox.inject_depth == 0 {
        return Err(ShardError::BadConfig(
            "mailbox.inject_depth must be at least 1",
        ));
    }
    if config.ring_depth == 0 {
        return Err(ShardError::BadConfig("ring_depth must be at least 1"));
    }
    Ok(())
}
