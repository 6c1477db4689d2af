//! HLS and LL-HLS over HTTP: `/{app}/{stream}/{file}` for the names of
//! [`Resource`] (`index.m3u8`, `ll.m3u8`, `master.m3u8`, `init.mp4`,
//! `seg{msn}.ts`, `seg{msn}.m4s`, `part{msn}.{i}.m4s`).
//!
//! The stream's packager runs on its owner shard ([`packaging`]); a request
//! that lands elsewhere is answered by the owner through
//! [`ShardCtx::call_on`], and the bytes come back as `Bytes` (moved, not
//! copied). Segments, parts and init segments never change under their
//! name, so each shard keeps the ones it fetched in a bounded [`cache`] and
//! serves them again without asking: each moves to a shard once.
//! Playlists always come from the owner, and blocking reloads wait there.

mod answer;
mod cache;
mod packaging;

use std::net::SocketAddr;
use std::time::Duration;

use arcly_engine::{AuthRequest, StreamKey};
use arcly_media::hls::{HlsSettings, Resource};
use arcly_protocols::http::{RangeRequest, RequestHead};

use self::answer::{Answer, Body, Reply};
use super::Response;
use crate::ShardCtx;
use crate::owner::owner;

/// How long a shard waits for the owner beyond the longest blocking
/// reload (three target durations), before answering `504`.
const OWNER_GRACE: Duration = Duration::from_secs(2);

/// Answers `GET /{app}/{stream}/{name}` from `peer`.
pub(super) async fn respond(
    ctx: &ShardCtx,
    request: &RequestHead,
    peer: SocketAddr,
    key: StreamKey,
    name: &str,
    settings: &HlsSettings,
) -> Response {
    let Some(resource) = Resource::parse(name) else {
        return Response::text(404, &format!("no such HLS resource: {name}"));
    };
    let query = request.query.clone().unwrap_or_default();
    if matches!(
        resource,
        Resource::MasterPlaylist | Resource::TsPlaylist | Resource::LlPlaylist
    ) {
        // Players fetch playlists first: that is where access is checked.
        let auth = AuthRequest::new(key.app(), key.name(), &query, Some(peer), "hls");
        if let Err(e) = ctx.authorize_play(&auth).await {
            return Response::text(403, &format!("play {key} refused: {e}"));
        }
    }
    let answer = match cache::get(&key, resource) {
        Some((body, bytes)) => Answer::Found(body, bytes),
        None => {
            let owner = owner(&key, ctx.shards());
            let limit = settings_timeout(settings) + OWNER_GRACE;
            let settings = settings.clone();
            let asked = key.clone();
            let reply = ctx
                .call_on(owner, limit, move |ctx| {
                    packaging::answer(ctx, asked, resource, query, settings)
                })
                .await;
            match reply {
                Some(Reply { instance, answer }) => {
                    if owner != ctx.id() {
                        cache::keep(&key, instance, resource, &answer);
                    }
                    answer
                }
                None => Answer::refused(504, "the stream's shard did not answer"),
            }
        }
    };
    match answer {
        Answer::Found(body, bytes) => found(request, body, bytes),
        Answer::Refused(status, reason) => Response::text(status, &reason),
    }
}

/// The longest a blocking reload may wait: three target durations.
fn settings_timeout(settings: &HlsSettings) -> Duration {
    Duration::from_micros(settings.target_duration.0.max(0) as u64 * 3)
}

/// A 200 (or 206 for a `Range` of a segment) with the right caching.
fn found(request: &RequestHead, body: Body, bytes: bytes::Bytes) -> Response {
    let cache_control = if body.is_immutable() {
        "max-age=3600"
    } else {
        "no-cache"
    };
    let len = bytes.len() as u64;
    let range = if body.is_immutable() {
        RangeRequest::parse(request.header("range"), len)
    } else {
        RangeRequest::Whole
    };
    match range {
        RangeRequest::Whole => Response::new(200, body.content_type(), bytes)
            .with_header("cache-control", cache_control),
        RangeRequest::Part { start, end } => Response::new(
            206,
            body.content_type(),
            bytes.slice(start as usize..=end as usize),
        )
        .with_header("cache-control", cache_control)
        .with_header("content-range", &format!("bytes {start}-{end}/{len}")),
        RangeRequest::Unsatisfiable => Response::text(416, &format!("the body has {len} bytes"))
            .with_header("content-range", &format!("bytes */{len}")),
    }
}
