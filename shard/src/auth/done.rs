//! `on_publish_done` and `on_play_done`: fire-and-forget notifications
//! when an allowed session ends.
//!
//! A session holds a [`DoneHook`]; dropping it (on whichever path the
//! session ends) queues the notification on its shard. A guard may be
//! dropped while the executor is being torn down, where spawning a task
//! would panic, so the drop only pushes onto a shard-local queue and wakes
//! the shard's notifier task, which posts each notification in a task of
//! its own and logs the result. Notifications still queued when the shard
//! stops are not sent.

use std::cell::RefCell;
use std::future::poll_fn;
use std::task::{Poll, Waker};
use std::time::Duration;

use super::HookUrl;
use super::client;
use super::event::HookEvent;
use crate::ShardCtx;

/// A queued notification.
struct Notice {
    url: HookUrl,
    event: HookEvent,
    timeout: Duration,
}

/// This shard's notifications not yet posted.
#[derive(Default)]
struct Queue {
    notices: Vec<Notice>,
    /// The notifier task, when it waits for work.
    waker: Option<Waker>,
    /// Whether the notifier task was started on this shard.
    started: bool,
}

thread_local! {
    /// One queue per shard (a shard is a thread).
    static QUEUE: RefCell<Queue> = RefCell::default();
}

/// Posts its hook when dropped: hold it for as long as the session runs.
#[must_use = "the hook fires when this is dropped: bind it to a named variable"]
pub(crate) struct DoneHook {
    notice: Option<Notice>,
}

impl DoneHook {
    /// A guard for `event`, starting this shard's notifier if needed.
    pub(super) fn new(ctx: &ShardCtx, url: HookUrl, event: HookEvent, timeout: Duration) -> Self {
        let start = QUEUE.with_borrow_mut(|q| !std::mem::replace(&mut q.started, true));
        if start {
            ctx.spawn(notify(ctx.clone())).detach();
        }
        DoneHook {
            notice: Some(Notice {
                url,
                event,
                timeout,
            }),
        }
    }
}

impl Drop for DoneHook {
    fn drop(&mut self) {
        let Some(notice) = self.notice.take() else {
            return;
        };
        // `try_with`: after the thread's locals are gone there is nobody
        // left to post it.
        let _ = QUEUE.try_with(|q| {
            let mut q = q.borrow_mut();
            q.notices.push(notice);
            if let Some(waker) = q.waker.take() {
                waker.wake();
            }
        });
    }
}

/// The notifier: posts every queued notice in a task of its own.
async fn notify(ctx: ShardCtx) {
    loop {
        let notices = poll_fn(|cx| {
            QUEUE.with_borrow_mut(|q| {
                if q.notices.is_empty() {
                    q.waker = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(std::mem::take(&mut q.notices))
                }
            })
        })
        .await;
        for notice in notices {
            let there = ctx.clone();
            ctx.spawn(async move { post(&there, notice).await })
                .detach();
        }
    }
}

async fn post(ctx: &ShardCtx, notice: Notice) {
    let Notice {
        url,
        event,
        timeout,
    } = notice;
    let request = event.encode_request(&url);
    let hook = event.action.name();
    let (app, stream) = (&event.app, &event.stream);
    match client::call(ctx, &url, &request, timeout).await {
        Ok(status) => tracing::info!(
            shard = ctx.id(),
            protocol = %event.protocol,
            "hooks: {hook} {app}/{stream} to {url}: status {status}"
        ),
        Err(e) => tracing::warn!(
            shard = ctx.id(),
            protocol = %event.protocol,
            "hooks: {hook} {app}/{stream} to {url} failed: {e}"
        ),
    }
}
