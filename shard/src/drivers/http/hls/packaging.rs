//! The owner side of HLS: one packager per stream, on the stream's owner
//! shard, fed by a local subscription, with the requests blocked on it.
//!
//! A stream's packaging starts with the first HLS request for it (the
//! subscription joins at the cached GOP, so the first parts are ready at
//! once), and stops when no request has come for [`IDLE`], or [`LINGER`]
//! after the stream ended (so players still read `EXT-X-ENDLIST`).
//! Everything it holds is bounded by the packager's window and the
//! [`Waiters`] limit.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use arcly_engine::{StreamKey, Timestamp};
use arcly_media::hls::{
    BlockingQuery, Container, HlsPackager, HlsSettings, LL_PLAYLIST, Resource, Skip, Waiters,
    ll_media_playlist, master_playlist, ts_media_playlist,
};
use futures_lite::future;

use super::answer::{Answer, Body, Reply};
use crate::{ShardCtx, SubscribeError, Subscription, ViewerEvent, task};

/// A packaging nobody asked anything of for this long stops.
const IDLE: Duration = Duration::from_secs(60);
/// An ended stream's packaging answers for this long, then stops.
const LINGER: Duration = Duration::from_secs(30);
/// Requests that may wait on one stream at once; more get `503`.
const MAX_WAITERS: usize = 4096;

thread_local! {
    /// The last packaging instance started on this shard.
    static INSTANCES: Cell<u64> = const { Cell::new(0) };
    /// This shard's packagings, by stream (one thread per shard).
    static PACKAGINGS: RefCell<HashMap<StreamKey, Rc<Packaging>>> = RefCell::new(HashMap::new());
}

/// The packager of one stream and the requests waiting on it.
struct Packaging {
    /// Unique on this shard: tells a restarted stream's files apart.
    instance: u64,
    packager: RefCell<HlsPackager>,
    waiters: RefCell<Waiters<Rc<Wait>>>,
    last_request: Cell<Instant>,
}

/// Answers a request for `resource` of `key`. Runs on the owner shard.
pub(super) async fn answer(
    ctx: ShardCtx,
    key: StreamKey,
    resource: Resource,
    query: String,
    settings: HlsSettings,
) -> Reply {
    match packaging(&ctx, &key, &settings).await {
        Ok(packaging) => Reply {
            instance: packaging.instance,
            answer: packaging.answer(resource, &query, &key).await,
        },
        Err(answer) => Reply {
            instance: 0,
            answer,
        },
    }
}

impl Packaging {
    async fn answer(&self, resource: Resource, query: &str, key: &StreamKey) -> Answer {
        let packaging = self;
        packaging.last_request.set(Instant::now());
        match resource {
            Resource::MasterPlaylist => packaging.master(key),
            Resource::TsPlaylist | Resource::LlPlaylist => {
                let directives = match BlockingQuery::parse(query) {
                    Ok(q) => q,
                    Err(e) => return Answer::refused(400, e.to_string()),
                };
                if let Err(e) = packaging.packager.borrow().timeline().check(&directives) {
                    return Answer::refused(400, e.to_string());
                }
                if let Err(refusal) = packaging.wait_for(directives).await {
                    return refusal;
                }
                let packager = packaging.packager.borrow();
                let timeline = packager.timeline();
                let text = if resource == Resource::TsPlaylist {
                    if !packager.has_ts() {
                        return Answer::refused(
                            404,
                            format!("{key}: MPEG-TS cannot carry its codecs; play {LL_PLAYLIST}"),
                        );
                    }
                    ts_media_playlist(timeline)
                } else {
                    ll_media_playlist(timeline, directives.skip != Skip::No)
                };
                Answer::Found(Body::Playlist, text.into())
            }
            Resource::Part(msn, index) => {
                // A preload hint names a part before it exists: hold the
                // request until it does, as a blocking reload would.
                let directives = BlockingQuery {
                    msn: Some(msn),
                    part: Some(index),
                    skip: Skip::No,
                };
                let ahead = packaging.packager.borrow().timeline().check(&directives);
                if ahead.is_ok()
                    && let Err(refusal) = packaging.wait_for(directives).await
                {
                    return refusal;
                }
                packaging.file(resource)
            }
            Resource::Init(_) | Resource::TsSegment(_) | Resource::Fmp4Segment(_) => {
                packaging.file(resource)
            }
        }
    }
}

/// The stream's packaging on this (the owner) shard, started if needed.
async fn packaging(
    ctx: &ShardCtx,
    key: &StreamKey,
    settings: &HlsSettings,
) -> Result<Rc<Packaging>, Answer> {
    let existing = PACKAGINGS.with_borrow(|all| all.get(key).cloned());
    if let Some(packaging) = &existing
        && !packaging.packager.borrow().timeline().is_ended()
    {
        return Ok(Rc::clone(packaging));
    }
    // None yet, or the stream ended: a new publisher means a new packaging.
    let subscription = match ctx.subscribe(key).await {
        Ok(subscription) => subscription,
        Err(SubscribeError::NotFound(_)) => {
            return existing
                .ok_or_else(|| Answer::refused(404, format!("stream {key} is not live")));
        }
        Err(e) => return Err(Answer::refused(503, e.to_string())),
    };
    if let Some(packaging) = PACKAGINGS.with_borrow(|all| all.get(key).cloned())
        && !packaging.packager.borrow().timeline().is_ended()
    {
        // Another request started it while this one subscribed.
        return Ok(packaging);
    }
    let packager = HlsPackager::new(settings.clone())
        .map_err(|e| Answer::refused(500, format!("hls settings: {e}")))?;
    let instance = INSTANCES.get() + 1;
    INSTANCES.set(instance);
    let packaging = Rc::new(Packaging {
        instance,
        packager: RefCell::new(packager),
        waiters: RefCell::new(Waiters::new(MAX_WAITERS)),
        last_request: Cell::new(Instant::now()),
    });
    PACKAGINGS.with_borrow_mut(|all| all.insert(key.clone(), Rc::clone(&packaging)));
    ctx.spawn(feed(
        ctx.clone(),
        key.clone(),
        Rc::clone(&packaging),
        subscription,
    ))
    .detach();
    Ok(packaging)
}

/// Feeds the stream's frames to its packager and wakes the requests each
/// new part satisfies, until the packaging stops.
async fn feed(
    ctx: ShardCtx,
    key: StreamKey,
    packaging: Rc<Packaging>,
    mut subscription: Subscription,
) {
    loop {
        let idle_for = packaging.last_request.get().elapsed();
        if idle_for >= IDLE {
            break;
        }
        let next = async { Some(task::timeout(IDLE - idle_for, subscription.next()).await) };
        let stop = async {
            ctx.stopping().await;
            None
        };
        let event = match future::or(next, stop).await {
            // The shard stops: so does the packaging (and at once, or
            // `stopping` would keep waking this loop).
            None => break,
            // Nothing for a while: see whether anyone still asks.
            Some(None) => continue,
            Some(Some(event)) => event,
        };
        let ended = match event {
            ViewerEvent::Frame { frame, .. } => {
                let pushed = packaging.packager.borrow_mut().push(&frame, packager_now());
                if let Err(e) = pushed {
                    tracing::warn!(
                        shard = ctx.id(),
                        key = %key,
                        "hls: frame refused by the packager: {e}"
                    );
                }
                false
            }
            ViewerEvent::Skipped { .. } => false,
            ViewerEvent::Evicted(_) | ViewerEvent::Ended => true,
        };
        if ended && let Err(e) = packaging.packager.borrow_mut().finish(packager_now()) {
            tracing::warn!(
                shard = ctx.id(),
                key = %key,
                "hls: cannot close the last segment: {e}"
            );
        }
        packaging.release_waiters();
        if ended || ctx.is_stopping() {
            break;
        }
    }
    drop(subscription);
    if packaging.packager.borrow().timeline().is_ended() && !ctx.is_stopping() {
        task::timeout(LINGER, ctx.stopping()).await;
    }
    PACKAGINGS.with_borrow_mut(|all| {
        if all.get(&key).is_some_and(|p| Rc::ptr_eq(p, &packaging)) {
            all.remove(&key);
        }
    });
    // Requests still waiting get their answer (the playlist as it is).
    packaging.release_all();
}

/// The packager's `now`: Unix microseconds, which both its part-ready
/// times and `EXT-X-PROGRAM-DATE-TIME` can use.
fn packager_now() -> Timestamp {
    let unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    Timestamp(unix)
}

impl Packaging {
    /// Waits until the timeline satisfies `directives`, at most the
    /// blocking timeout (`503` after it).
    async fn wait_for(&self, directives: BlockingQuery) -> Result<(), Answer> {
        let timeline_timeout = {
            let packager = self.packager.borrow();
            let timeline = packager.timeline();
            if timeline.satisfies(&directives) {
                return Ok(());
            }
            timeline.blocking_timeout()
        };
        let wait = Rc::new(Wait::default());
        let added = self.waiters.borrow_mut().add(
            directives,
            Rc::clone(&wait),
            packager_now(),
            timeline_timeout,
        );
        if added.is_err() {
            return Err(Answer::refused(503, "too many blocked playlist requests"));
        }
        let limit = Duration::from_micros(timeline_timeout.0.max(0) as u64);
        match task::timeout(limit, WaitFuture(&wait)).await {
            Some(()) => Ok(()),
            None => Err(Answer::refused(
                503,
                "the requested part was not produced in time",
            )),
        }
    }

    /// Wakes the requests the timeline now satisfies, and forgets those
    /// whose deadline passed (they answered `503` themselves).
    fn release_waiters(&self) {
        let mut waiters = self.waiters.borrow_mut();
        if waiters.is_empty() {
            return;
        }
        let packager = self.packager.borrow();
        for wait in waiters.ready(packager.timeline()) {
            wait.wake();
        }
        drop(waiters.expire(packager_now()));
    }

    /// Wakes every waiting request.
    fn release_all(&self) {
        for wait in self.waiters.borrow_mut().expire(Timestamp(i64::MAX)) {
            wait.wake();
        }
    }

    /// A segment, part or init segment, if the window still holds it.
    fn file(&self, resource: Resource) -> Answer {
        let body = match resource {
            Resource::Init(_) => Body::Init,
            Resource::TsSegment(_) => Body::Ts,
            _ => Body::Fmp4,
        };
        match self.packager.borrow().resource(resource) {
            Some(bytes) => Answer::Found(body, bytes),
            None => Answer::refused(404, format!("{resource} is not in the window")),
        }
    }

    /// The multivariant playlist: the fMP4 rendition, which carries every
    /// codec and plays with or without LL-HLS.
    fn master(&self, key: &StreamKey) -> Answer {
        let packager = self.packager.borrow();
        let Some(variant) = packager.variant(LL_PLAYLIST, Container::Fmp4) else {
            return Answer::refused(404, format!("stream {key} has no complete segment yet"));
        };
        match master_playlist(&[variant]) {
            Ok(text) => Answer::Found(Body::Playlist, text.into()),
            Err(e) => Answer::refused(500, e.to_string()),
        }
    }
}

/// One blocked request: woken when the timeline satisfies it.
#[derive(Default)]
struct Wait {
    done: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Wait {
    fn wake(&self) {
        self.done.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

struct WaitFuture<'a>(&'a Rc<Wait>);

impl Future for WaitFuture<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.done.get() {
            return Poll::Ready(());
        }
        *self.0.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}
