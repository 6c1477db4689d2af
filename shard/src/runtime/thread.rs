//! One shard's thread: a glommio executor pinned to the shard's CPU.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use glommio::LocalExecutorBuilder;

use crate::config::RuntimeConfig;
use crate::ctx::{Shard, ShardCtx};
use crate::inbox;
use crate::latch::Latch;
use crate::mailbox::Mailbox;
use crate::mailbox::mesh::MailboxEnds;
use crate::message::Message;
use crate::net::Listeners;
use crate::placement::ShardSpec;
use crate::pubsub::Directory;
use crate::reply::Pending;
use crate::stats::Counters;
use crate::task::Task;
use crate::{ShardError, reaper, shutdown};

/// Starts shard `spec` on a new thread. The thread reports on `ready` once
/// its executor runs (or why it could not start), then runs until the shard
/// is asked to stop.
pub(crate) fn spawn(
    spec: ShardSpec,
    ends: MailboxEnds<Message>,
    config: Arc<RuntimeConfig>,
    ready: Sender<(usize, Result<(), ShardError>)>,
) -> Result<JoinHandle<()>, ShardError> {
    std::thread::Builder::new()
        .name(format!("arcly-shard-{}", spec.id))
        .spawn(move || {
            let executor = LocalExecutorBuilder::new(glommio::Placement::Fixed(spec.cpu))
                .name(&format!("arcly-shard-{}", spec.id))
                .io_memory(config.io_memory)
                .ring_depth(config.ring_depth)
                .make();
            let executor = match executor {
                Ok(executor) => executor,
                Err(e) => {
                    let _ = ready.send((
                        spec.id,
                        Err(ShardError::ExecutorStart {
                            shard: spec.id,
                            cpu: spec.cpu,
                            reason: e.to_string(),
                        }),
                    ));
                    return;
                }
            };
            executor.run(async move {
                let ctx = ShardCtx {
                    shard: Rc::new(Shard {
                        id: spec.id,
                        // A copy of its own, so reading it never touches
                        // a reference count shared with other cores.
                        config: RefCell::new(Rc::new(RuntimeConfig::clone(&config))),
                        mailbox: Mailbox::new(ends),
                        counters: Counters::default(),
                        streams: Directory::default(),
                        listeners: Listeners::default(),
                        stats_requests: Pending::default(),
                        probes: Pending::default(),
                        calls: Pending::default(),
                        stopping: Latch::default(),
                    }),
                };
                let _ = ready.send((spec.id, Ok(())));
                // Let `start` see a disconnect if another shard dies early.
                drop(ready);
                run(ctx).await;
            });
        })
        .map_err(|e| ShardError::io("spawn a shard thread", e))
}

/// The life of a shard: its mailbox tasks run until it is asked to stop,
/// then it drains and returns (which ends the executor and the thread).
async fn run(ctx: ShardCtx) {
    Task::spawn(inbox::receive(ctx.clone())).detach();
    Task::spawn(inbox::flush(ctx.clone())).detach();
    Task::spawn(reaper::run(ctx.clone())).detach();
    ctx.stopping().await;
    shutdown::drain(&ctx).await;
}
