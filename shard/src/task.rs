//! Tasks and timers on a shard, behind types of our own so that glommio
//! stays an implementation detail of this crate.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A task running on the current shard. Awaiting it gives its output;
/// dropping it cancels the task unless it was [`Task::detach`]ed.
#[must_use = "a dropped Task is cancelled; call detach() to let it run"]
pub struct Task<T>(glommio::Task<T>);

impl<T: 'static> Task<T> {
    /// Spawns `future` on the current shard's executor.
    pub(crate) fn spawn(future: impl Future<Output = T> + 'static) -> Task<T> {
        Task(glommio::spawn_local(future))
    }

    /// Lets the task run to completion in the background.
    pub fn detach(self) {
        drop(self.0.detach());
    }
}

impl<T> Future for Task<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Waits for `duration` on the current shard's timer wheel.
pub(crate) async fn sleep(duration: Duration) {
    glommio::timer::sleep(duration).await;
}

/// Runs `future` for at most `limit`; `None` if the time ran out first.
pub(crate) async fn timeout<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(future.await) }, async {
        sleep(limit).await;
        None
    })
    .await
}

/// Lets every other ready task of the shard run before continuing.
pub(crate) async fn yield_now() {
    futures_lite::future::yield_now().await;
}
