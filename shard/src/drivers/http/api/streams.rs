//! `/api/v1/streams`: what is live, described from each stream's config
//! frames and QoS meters on its owner, with its viewers counted on every
//! shard; and ending a stream.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use arcly_engine::{Codec, Stream, StreamKey, StreamState, TrackKind};
use arcly_media::codec::describe;

use super::clients::{self, Role};
use super::hls_requests;
use super::json::{self, Json};
use crate::ShardCtx;
use crate::drivers::http::Response;
use crate::owner::owner;

/// One track, from its config frame (codec string, size, audio format)
/// and the stream's QoS meter (bitrate, frame rate).
#[derive(Clone, Debug, Default)]
struct TrackReport {
    codec: Option<&'static str>,
    codec_string: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    /// Frames per second measured over the QoS window.
    fps: Option<f64>,
    /// Frames per second the encoder declared in the config (SPS timing).
    declared_fps: Option<f64>,
    sample_rate: Option<u32>,
    channels: Option<u8>,
    bitrate_bps: u64,
}

impl TrackReport {
    fn of(stream: &Stream, track: TrackKind, now: Instant) -> Option<TrackReport> {
        let media = &stream.info().media;
        let codec = match track {
            TrackKind::Video => media.video,
            _ => media.audio,
        };
        let config = stream.configs().get(track).map(|(_, frame)| frame);
        codec.or(config.map(|f| f.codec))?;
        let qos = stream.qos(now);
        let meter = match track {
            TrackKind::Video => qos.video,
            _ => qos.audio,
        };
        let mut report = TrackReport {
            codec: codec.map(Codec::name),
            bitrate_bps: meter.bitrate_bps,
            ..TrackReport::default()
        };
        if let Some(info) = config.and_then(|frame| describe(frame).ok()) {
            report.codec = Some(info.codec.name());
            report.codec_string = Some(info.codec_string);
            report.width = info.width;
            report.height = info.height;
            report.declared_fps = info.frame_rate;
            report.sample_rate = info.sample_rate;
            report.channels = info.channels;
        }
        if track == TrackKind::Video {
            report.width = report.width.or(media.width);
            report.height = report.height.or(media.height);
            report.fps = (meter.fps > 0.0).then_some(meter.fps).or(media.frame_rate);
        }
        Some(report)
    }

    fn to_json(&self, track: TrackKind) -> Json {
        let mut fields = vec![
            ("codec", Json::opt_str(self.codec)),
            ("codec_string", Json::opt_str(self.codec_string.clone())),
        ];
        if track == TrackKind::Video {
            fields.push(("width", Json::opt_int(self.width)));
            fields.push(("height", Json::opt_int(self.height)));
            fields.push(("fps", Json::opt_num(self.fps)));
            fields.push(("declared_fps", Json::opt_num(self.declared_fps)));
        } else {
            fields.push(("sample_rate", Json::opt_int(self.sample_rate)));
            fields.push(("channels", Json::opt_int(self.channels)));
        }
        fields.push(("bitrate_bps", self.bitrate_bps.into()));
        Json::Object(fields)
    }
}

/// One stream, as its owner sees it.
#[derive(Clone, Debug)]
struct StreamReport {
    key: StreamKey,
    owner: usize,
    state: StreamState,
    uptime_secs: f64,
    publisher_protocol: &'static str,
    publisher_peer: Option<SocketAddr>,
    video: Option<TrackReport>,
    audio: Option<TrackReport>,
}

impl StreamReport {
    fn of(stream: &Stream, owner: usize, now: Instant) -> StreamReport {
        let info = stream.info();
        StreamReport {
            key: stream.key().clone(),
            owner,
            state: stream.state(),
            uptime_secs: now.saturating_duration_since(info.started_at).as_secs_f64(),
            publisher_protocol: info.protocol,
            publisher_peer: info.peer,
            video: TrackReport::of(stream, TrackKind::Video, now),
            audio: TrackReport::of(stream, TrackKind::Audio, now),
        }
    }
}

/// What one shard knows: its origins in full, and the viewers of every
/// copy it holds.
struct ShardStreams {
    origins: Vec<StreamReport>,
    /// Subscriptions per copy (origin or mirror).
    subscriptions: Vec<(StreamKey, u64)>,
    /// Players per stream and protocol.
    players: Vec<(StreamKey, &'static str, u64)>,
    /// HLS requests per stream over the last minute.
    hls: Vec<(StreamKey, u64)>,
}

fn local(ctx: &ShardCtx) -> ShardStreams {
    let now = Instant::now();
    let mut origins = Vec::new();
    let mut subscriptions = Vec::new();
    for (hub, is_origin) in ctx.shard.streams.copies() {
        hub.with(|stream| {
            if is_origin {
                origins.push(StreamReport::of(stream, ctx.id(), now));
            }
            subscriptions.push((stream.key().clone(), stream.viewer_count() as u64));
        });
    }
    ShardStreams {
        origins,
        subscriptions,
        players: clients::players_by_stream(),
        hls: hls_requests::recent(),
    }
}

/// Every shard's view, merged: one entry per stream with an origin.
async fn gather(ctx: &ShardCtx) -> Vec<(StreamReport, Viewers)> {
    let limit = ctx.config().request_timeout;
    let shards = ctx
        .call_on_all(limit, |there: ShardCtx| async move { local(&there) })
        .await;
    let mut streams: BTreeMap<StreamKey, (StreamReport, Viewers)> = BTreeMap::new();
    let shards: Vec<ShardStreams> = shards.into_iter().flatten().collect();
    for shard in &shards {
        for origin in &shard.origins {
            streams.insert(origin.key.clone(), (origin.clone(), Viewers::default()));
        }
    }
    for shard in shards {
        for (key, n) in shard.subscriptions {
            if let Some((_, v)) = streams.get_mut(&key) {
                v.subscriptions += n;
            }
        }
        for (key, protocol, n) in shard.players {
            if let Some((_, v)) = streams.get_mut(&key) {
                match protocol {
                    "rtmp" => v.rtmp += n,
                    "http-flv" => v.http_flv += n,
                    _ => {}
                }
            }
        }
        for (key, n) in shard.hls {
            if let Some((_, v)) = streams.get_mut(&key) {
                v.hls_requests += n;
            }
        }
    }
    streams.into_values().collect()
}

/// A stream's audience, summed over the shards.
#[derive(Clone, Copy, Debug, Default)]
struct Viewers {
    rtmp: u64,
    http_flv: u64,
    /// HLS requests over the last minute.
    hls_requests: u64,
    /// Every subscription to the stream: players, and consumers inside
    /// the server such as the HLS packager.
    subscriptions: u64,
}

fn to_json(report: &StreamReport, viewers: &Viewers) -> Json {
    let state = match report.state {
        StreamState::Live => "live",
        StreamState::Unpublished => "unpublished",
        StreamState::Ended => "ended",
    };
    let bitrate = [&report.video, &report.audio]
        .into_iter()
        .flatten()
        .map(|t| t.bitrate_bps)
        .sum::<u64>();
    Json::Object(vec![
        ("key", report.key.as_str().into()),
        ("app", report.key.app().into()),
        ("stream", report.key.name().into()),
        ("state", state.into()),
        ("owner_shard", report.owner.into()),
        ("uptime_secs", Json::Num(report.uptime_secs)),
        (
            "publisher",
            Json::Object(vec![
                ("protocol", report.publisher_protocol.into()),
                (
                    "peer",
                    Json::opt_str(report.publisher_peer.map(|p| p.to_string())),
                ),
            ]),
        ),
        (
            "video",
            report
                .video
                .as_ref()
                .map_or(Json::Null, |t| t.to_json(TrackKind::Video)),
        ),
        (
            "audio",
            report
                .audio
                .as_ref()
                .map_or(Json::Null, |t| t.to_json(TrackKind::Audio)),
        ),
        ("bitrate_bps", bitrate.into()),
        (
            "viewers",
            Json::Object(vec![
                ("rtmp", viewers.rtmp.into()),
                ("http_flv", viewers.http_flv.into()),
                ("hls_requests_last_minute", viewers.hls_requests.into()),
                ("subscriptions", viewers.subscriptions.into()),
            ]),
        ),
    ])
}

/// `GET /api/v1/streams`.
pub(super) async fn list(ctx: &ShardCtx) -> Response {
    let streams = gather(ctx).await;
    let body = Json::Object(vec![(
        "streams",
        Json::Array(streams.iter().map(|(r, v)| to_json(r, v)).collect()),
    )]);
    Response::new(200, "application/json", body.to_body())
}

/// `GET /api/v1/streams/{app}/{stream}`.
pub(super) async fn one(ctx: &ShardCtx, key: &StreamKey) -> Response {
    match gather(ctx).await.iter().find(|(r, _)| &r.key == key) {
        Some((report, viewers)) => {
            Response::new(200, "application/json", to_json(report, viewers).to_body())
        }
        None => not_found(key),
    }
}

/// `DELETE /api/v1/streams/{app}/{stream}`: the owner ends the stream (its
/// viewers drain and see the end) and closes its publisher's connection.
pub(super) async fn end(ctx: &ShardCtx, key: &StreamKey) -> Response {
    let owner = owner(key, ctx.shards());
    let limit = ctx.config().request_timeout;
    let wanted = key.clone();
    let ended = ctx
        .call_on(owner, limit, move |there: ShardCtx| async move {
            let origin = there.shard.streams.origin(&wanted)?;
            origin.end(&there);
            let kicked = clients::kick_stream(&there, &wanted, Role::Publish);
            tracing::info!(
                shard = there.id(),
                key = %wanted,
                "api: stream ended by the admin api ({kicked} publisher connection(s) closed)"
            );
            Some(kicked)
        })
        .await;
    match ended {
        Some(Some(publishers)) => {
            let body = Json::Object(vec![
                ("ended", key.as_str().into()),
                ("publishers_closed", publishers.into()),
            ]);
            Response::new(200, "application/json", body.to_body())
        }
        Some(None) => not_found(key),
        None => Response::new(
            503,
            "application/json",
            json::error(&format!("owner shard {owner} did not answer")),
        ),
    }
}

fn not_found(key: &StreamKey) -> Response {
    Response::new(
        404,
        "application/json",
        json::error(&format!("no stream {key}")),
    )
}
