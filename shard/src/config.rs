//! What a [`Runtime`](crate::Runtime) is started with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arcly_engine::{AllowAll, AppLimits, Authenticator, NoopObserver, Observer};

use crate::auth::HookConfig;
use crate::drivers::record::RecordConfig;
use crate::mailbox::MailboxConfig;
use crate::placement::ShardSpec;

/// Everything the runtime needs to start its shards.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// One entry per shard, ids `0..n` in order. Two shards may share a CPU
    /// (useful in tests and on small machines), though that defeats the point
    /// in production.
    pub shards: Vec<ShardSpec>,
    /// Queue sizes of the mailbox.
    pub mailbox: MailboxConfig,
    /// Per-shard memory glommio registers with io_uring for storage I/O
    /// (glommio rounds it up to 64 KiB). Registered memory counts against
    /// the locked-memory limit (`ulimit -l`) of the whole process; when it
    /// does not fit, glommio runs without registered buffers. Network I/O
    /// does not use it.
    pub io_memory: usize,
    /// Depth of each of the three io_uring rings of a shard.
    pub ring_depth: usize,
    /// Bounds of every stream (origins and mirrors alike), per app.
    pub limits: AppLimits,
    /// Receives every stream's events (logs, metrics, webhooks).
    pub observer: Arc<dyn Observer>,
    /// Decides who may publish and play, for every protocol.
    pub authenticator: Arc<dyn Authenticator>,
    /// The operator's HTTP hooks, asked after `authenticator` allows.
    pub hooks: HookConfig,
    /// What is recorded to disk; `None` records nothing.
    pub record: Option<Arc<RecordConfig>>,
    /// How long an unpublished stream waits for its publisher to come back
    /// before the reaper ends it.
    pub unpublish_grace: Duration,
    /// How often each shard's reaper looks for idle streams.
    pub reaper_interval: Duration,
    /// How long a shard waits for another shard's answer to a publish or
    /// subscribe request.
    pub request_timeout: Duration,
    /// How long shutdown waits for viewers to see the end of their streams
    /// before the shards stop regardless.
    pub drain_timeout: Duration,
}

impl RuntimeConfig {
    /// The defaults for the given shards.
    ///
    /// `io_memory` is 64 KiB, glommio's minimum. glommio's default of
    /// 10 MiB per shard is more than an 8 MiB `ulimit -l` on its own; glommio
    /// then silently runs without registered buffers (measured: 16 shards
    /// start either way on kernel 6.18, where the rings themselves are not
    /// charged to the limit), so the small size only keeps registration
    /// working for dozens of shards.
    ///
    /// `ring_depth` is 4096, not glommio's 128: every player keeps a read
    /// poll armed in the shard's main ring, and glommio cancels a timeout
    /// there each time the shard goes to sleep; the kernel finds what to
    /// cancel in a hash table sized from the ring (8 buckets at 128, 256 at
    /// 4096), so with thousands of players a small ring spent 6 % of the
    /// shard walking bucket chains (`io_poll_find`). The rings cost about
    /// 1 MiB of kernel memory per shard.
    pub fn new(shards: Vec<ShardSpec>) -> RuntimeConfig {
        RuntimeConfig {
            shards,
            mailbox: MailboxConfig::default(),
            io_memory: 64 << 10,
            ring_depth: 4096,
            limits: AppLimits::default(),
            observer: Arc::new(NoopObserver),
            authenticator: Arc::new(AllowAll),
            hooks: HookConfig::default(),
            record: None,
            unpublish_grace: Duration::from_secs(10),
            reaper_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(2),
        }
    }

    /// `n` shards over the CPUs this process may run on, round-robin; with
    /// fewer CPUs than shards, shards share CPUs. For tests, benchmarks and
    /// small machines; production placement comes from
    /// [`Placement::plan`](crate::placement::Placement::plan).
    pub fn local(n: usize) -> RuntimeConfig {
        let cpus: Vec<usize> = core_affinity::get_core_ids()
            .map(|ids| ids.into_iter().map(|c| c.id).collect())
            .filter(|ids: &Vec<usize>| !ids.is_empty())
            .unwrap_or_else(|| vec![0]);
        let shards = (0..n)
            .map(|id| ShardSpec {
                id,
                cpu: cpus[id % cpus.len()],
                node: 0,
            })
            .collect();
        RuntimeConfig::new(shards)
    }
}

impl fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("shards", &self.shards)
            .field("mailbox", &self.mailbox)
            .field("io_memory", &self.io_memory)
            .field("ring_depth", &self.ring_depth)
            .field("limits", &self.limits)
            .field("hooks", &self.hooks)
            .field("record", &self.record)
            .field("unpublish_grace", &self.unpublish_grace)
            .field("reaper_interval", &self.reaper_interval)
            .field("request_timeout", &self.request_timeout)
            .field("drain_timeout", &self.drain_timeout)
            .finish_non_exhaustive()
    }
}
