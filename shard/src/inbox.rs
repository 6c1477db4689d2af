//! The two mailbox tasks of every shard: the receiver, which drains the
//! inbound queues and dispatches each message, and the flusher, which
//! pushes what the shard produced at the end of each turn.

use std::time::Duration;

use crate::ShardCtx;
use crate::mailbox::Source;
use crate::message::{Control, Media, Message, Stats};
use crate::net::handoff;
use crate::pubsub::handlers;
use crate::task::{self, yield_now};

/// How long the flusher waits before retrying a queue that was full.
const FULL_QUEUE_RETRY: Duration = Duration::from_micros(200);

/// Batches handled before the receiver lets other tasks run.
const BATCHES_PER_TURN: usize = 8;

/// Drains inbound queues until every sender is gone, parking on the
/// doorbell when there is nothing to do.
pub(crate) async fn receive(ctx: ShardCtx) {
    let mut batch = Vec::new();
    loop {
        let mut handled = 0;
        while let Some(source) = ctx.shard.mailbox.recv(&mut batch) {
            for msg in batch.drain(..) {
                dispatch(&ctx, source, msg);
            }
            handled += 1;
            if handled % BATCHES_PER_TURN == 0 {
                yield_now().await;
            }
        }
        if !ctx.shard.mailbox.park().await {
            return;
        }
    }
}

/// Pushes the shard's outboxes once per turn, retrying full queues.
pub(crate) async fn flush(ctx: ShardCtx) {
    loop {
        ctx.shard.mailbox.flush_wanted().await;
        if !ctx.flush_turn() {
            task::sleep(FULL_QUEUE_RETRY).await;
            ctx.shard.mailbox.request_flush();
        }
    }
}

impl ShardCtx {
    /// The end of a turn: everything produced goes out. Returns whether
    /// nothing is left waiting for room.
    pub(crate) fn flush_turn(&self) -> bool {
        let streams_done = self.shard.streams.flush(self);
        self.shard.mailbox.flush() && streams_done
    }
}

/// Acts on one message.
fn dispatch(ctx: &ShardCtx, source: Source, msg: Message) {
    match msg {
        Message::Control(control) => on_control(ctx, source, control),
        Message::Media(media) => {
            if let Source::Peer(from) = source {
                on_media(ctx, from, media);
            }
        }
        Message::Stats(stats) => on_stats(ctx, source, stats),
    }
}

fn on_control(ctx: &ShardCtx, source: Source, control: Control) {
    match control {
        Control::Run(job) => return job.run(ctx.clone()),
        Control::Shutdown => return ctx.shard.stopping.set(),
        _ => {}
    }
    let Source::Peer(from) = source else {
        return;
    };
    match control {
        Control::Run(_) | Control::Shutdown => {}
        Control::Handoff(handoff) => handoff::receive(ctx, from, *handoff),
        Control::Subscribe { key } => handlers::on_subscribe(ctx, from, key),
        Control::SubscribeRefused { key } => handlers::on_subscribe_refused(ctx, &key),
        Control::Unsubscribe { key, instance } => {
            handlers::on_unsubscribe(ctx, from, &key, instance)
        }
        Control::Publish {
            key,
            info,
            token,
            request,
        } => handlers::on_publish(ctx, from, key, *info, token, request),
        Control::PublishReply {
            key,
            token,
            request,
            result,
        } => handlers::on_publish_reply(ctx, from, key, token, request, result),
        Control::PublisherEnded { token } => handlers::on_publisher_ended(ctx, token),
    }
}

fn on_media(ctx: &ShardCtx, from: usize, media: Media) {
    match media {
        Media::Relay {
            key,
            instance,
            items,
        } => handlers::on_relay(ctx, from, key, instance, items),
        Media::Ingest { key, token, items } => handlers::on_ingest(ctx, from, &key, token, items),
    }
}

fn on_stats(ctx: &ShardCtx, source: Source, stats: Stats) {
    let shard = &ctx.shard;
    match stats {
        Stats::Gather { token } => {
            if let Source::Peer(from) = source {
                let report = Stats::Report {
                    token,
                    stats: Box::new(ctx.stats()),
                };
                // A stopped requester no longer waits for the answer.
                let _ = shard.mailbox.send_ordered(from, Message::Stats(report));
            }
        }
        Stats::Report { token, stats } => {
            shard.stats_requests.answer(token, *stats);
        }
        Stats::Probe { token, last } => {
            if last && let Source::Peer(from) = source {
                let ack = Message::Stats(Stats::ProbeAck { token });
                let _ = shard.mailbox.send_ordered(from, ack);
            }
        }
        Stats::ProbeAck { token } => {
            shard.probes.answer(token, ());
        }
    }
}
