//! The idle-stream reaper: a timer on every shard that ends streams whose
//! publisher did not come back within the grace period, and drops mirrors
//! nobody watches any more.

use std::time::Instant;

use arcly_engine::StreamState;

use crate::{ShardCtx, task};

/// Runs until the shard stops.
pub(crate) async fn run(ctx: ShardCtx) {
    let interval = ctx.config().reaper_interval;
    while !ctx.is_stopping() {
        task::sleep(interval).await;
        reap(&ctx, Instant::now());
    }
}

/// One pass.
fn reap(ctx: &ShardCtx, now: Instant) {
    let config = ctx.config();
    let streams = &ctx.shard.streams;
    for origin in streams.origins() {
        let (state, since) = origin.hub.with(|s| (s.state(), s.state_since()));
        if state == StreamState::Unpublished && now.duration_since(since) >= config.unpublish_grace
        {
            origin.end(ctx);
        }
    }
    for mirror in streams.mirrors() {
        let age = now.duration_since(mirror.created_at);
        match mirror.hub() {
            // Subscribed, but every viewer left before (or without) joining.
            Some(hub) if hub.viewer_count() == 0 && age >= config.reaper_interval => {
                streams.remove_mirror(&mirror);
                mirror.unsubscribe(ctx);
            }
            // The owner never answered; whoever waited has given up.
            None if age >= config.request_timeout * 2 => streams.remove_mirror(&mirror),
            _ => {}
        }
    }
}
