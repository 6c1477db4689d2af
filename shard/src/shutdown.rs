//! Stopping a shard gracefully.

use std::time::{Duration, Instant};

use crate::{ShardCtx, task};

/// How often the drain looks whether every viewer has gone.
const DRAIN_POLL: Duration = Duration::from_millis(5);

/// What a shard does once asked to stop, before its executor returns.
///
/// Listeners stop accepting on their own (they wait for the same signal),
/// and the drain waits for them. Every stream here ends: owned streams tell their mirrors, mirrors end
/// locally, and viewers drain what they have and see the end. The shard
/// then waits, up to the drain timeout, for its viewers to leave and for
/// its outboxes to empty.
pub(crate) async fn drain(ctx: &ShardCtx) {
    let streams = &ctx.shard.streams;
    for origin in streams.origins() {
        origin.end(ctx);
    }
    for mirror in streams.mirrors() {
        mirror.end(ctx);
    }
    let deadline = Instant::now() + ctx.config().drain_timeout;
    loop {
        let flushed = ctx.flush_turn();
        let idle = streams.subscriptions() == 0 && ctx.shard.listeners.accepting() == 0;
        if (flushed && idle) || Instant::now() >= deadline {
            return;
        }
        task::sleep(DRAIN_POLL).await;
    }
}
