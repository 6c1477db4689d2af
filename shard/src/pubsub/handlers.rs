//! What a shard does with the publish/subscribe messages of its peers.

use arcly_engine::{PublishInfo, StreamKey};

use super::error::PublishRefusal;
use super::forward::IngestItem;
use super::origin::PublisherId;
use super::publisher::accept_publish;
use super::relay::RelayItem;
use crate::ShardCtx;
use crate::message::{Control, Media, Message};

/// Shard `from` wants to mirror `key`: relay it, or refuse if there is no
/// such stream here.
pub(crate) fn on_subscribe(ctx: &ShardCtx, from: usize, key: StreamKey) {
    match ctx.shard.streams.origin(&key) {
        Some(origin) if !ctx.is_stopping() => origin.subscribe(ctx, from),
        _ => {
            let msg = Message::Control(Control::SubscribeRefused { key });
            // A stopped subscriber waits for nothing.
            let _ = ctx.shard.mailbox.send_ordered(from, msg);
        }
    }
}

/// The owner has no stream `key`.
pub(crate) fn on_subscribe_refused(ctx: &ShardCtx, key: &StreamKey) {
    if let Some(mirror) = ctx.shard.streams.mirror(key)
        && mirror.hub().is_none()
    {
        mirror.refuse();
        ctx.shard.streams.remove_mirror(&mirror);
    }
}

/// Shard `from` no longer mirrors instance `instance` of `key`.
pub(crate) fn on_unsubscribe(ctx: &ShardCtx, from: usize, key: &StreamKey, instance: u64) {
    if let Some(origin) = ctx.shard.streams.origin(key)
        && origin.instance == instance
    {
        origin.unsubscribe(from);
    }
}

/// A publisher on shard `from` asks to publish `key`.
pub(crate) fn on_publish(
    ctx: &ShardCtx,
    from: usize,
    key: StreamKey,
    info: PublishInfo,
    token: u64,
    request: u64,
) {
    let by = PublisherId { shard: from, token };
    let accepted = accept_publish(ctx, key.clone(), info, by);
    let result = accepted.as_ref().map(drop).map_err(|refusal| *refusal);
    let msg = Message::Control(Control::PublishReply {
        key,
        token,
        request,
        result,
    });
    if ctx.shard.mailbox.send_ordered(from, msg).is_err()
        && let Ok(origin) = accepted
    {
        // The publisher's shard stopped: nobody will push into the stream.
        origin.unpublish(ctx);
    }
}

/// The owner's answer to one of this shard's publish requests. An
/// acceptance that comes after the publisher gave up is undone, or the key
/// would stay taken by a publisher that does not exist.
pub(crate) fn on_publish_reply(
    ctx: &ShardCtx,
    owner: usize,
    key: StreamKey,
    token: u64,
    request: u64,
    result: Result<(), PublishRefusal>,
) {
    let waited = ctx.shard.streams.publish_replies.answer(request, result);
    if !waited && result.is_ok() {
        let items = vec![IngestItem::Unpublish];
        let msg = Message::Media(Media::Ingest { key, token, items });
        let _ = ctx.shard.mailbox.send_ordered(owner, msg);
    }
}

/// The owner ended the stream of this shard's remote publisher `token`.
pub(crate) fn on_publisher_ended(ctx: &ShardCtx, token: u64) {
    if let Some(forward) = ctx.shard.streams.forward(token) {
        forward.end();
    }
}

/// The owner relayed changes of `key`.
pub(crate) fn on_relay(
    ctx: &ShardCtx,
    from: usize,
    key: StreamKey,
    instance: u64,
    items: Vec<RelayItem>,
) {
    match ctx.shard.streams.mirror(&key) {
        Some(mirror) => mirror.apply(ctx, instance, items),
        None => {
            // A relay this shard no longer wants (its last viewer left while
            // frames were in flight); make sure the owner stops.
            if !items.iter().any(|item| matches!(item, RelayItem::Ended)) {
                let msg = Message::Control(Control::Unsubscribe { key, instance });
                let _ = ctx.shard.mailbox.send_ordered(from, msg);
            }
        }
    }
}

/// The remote publisher `token` on shard `from` sent frames for `key`.
pub(crate) fn on_ingest(
    ctx: &ShardCtx,
    from: usize,
    key: &StreamKey,
    token: u64,
    items: Vec<IngestItem>,
) {
    let Some(origin) = ctx.shard.streams.origin(key) else {
        return;
    };
    let by = PublisherId { shard: from, token };
    for item in items {
        if origin.publisher() != Some(by) {
            // A stale publisher (the stream ended or was taken over).
            return;
        }
        match item {
            IngestItem::Frame(frame) => origin.push(ctx, frame),
            IngestItem::VideoSize(width, height) => origin.set_video_size(width, height),
            IngestItem::Unpublish => origin.unpublish(ctx),
            IngestItem::Finish => origin.end(ctx),
        }
    }
}
