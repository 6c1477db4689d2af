//! HTTP-FLV: `GET /{app}/{stream}.flv` streams the FLV header, then
//! metadata, configs, the cached GOP and live tags, each tag encoded once
//! per (stream, shard) and shared with every HTTP-FLV viewer there.
//!
//! The body is chunked on HTTP/1.1 and close-delimited on HTTP/1.0. The
//! viewer gets the same write batching ([`Batch`], per-app
//! `write_batch_ms`) and lag policy as an RTMP player: a viewer that falls
//! behind jumps to the newest keyframe, and one that stops reading is let
//! go after [`WRITE_TIMEOUT`]. The stream's end closes the body.
//!
//! A `GET` is a play session: one log line when the body starts and one
//! when it ends, with the bytes sent and why it ended.

use std::fmt;
use std::time::Duration;

use arcly_engine::{AuthRequest, EvictReason, StreamKey};
use arcly_media::flv::FlvHeader;
use arcly_protocols::http::{
    BodyFraming, LAST_CHUNK, Method, RequestHead, ResponseHead, encode_chunk_prefix,
};
use bytes::{Bytes, BytesMut};
use futures_lite::future;

use super::{HttpConfig, Response};
use crate::drivers::batch::{Batch, Stop};
use crate::drivers::egress::{EncodeError, SharedEncoder, WireFormat};
use crate::drivers::http::api::clients::Role;
use crate::drivers::session::SessionLog;
use crate::{Connection, ShardCtx, SubscribeError, Subscription, ViewerEvent, task};

/// How long one write may wait for a viewer that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Authorizes the viewer and joins the stream on this shard; a refusal is
/// the response to send instead.
pub(super) async fn start(
    ctx: &ShardCtx,
    request: &RequestHead,
    key: &StreamKey,
) -> Result<Subscription, Response> {
    let query = request.query.as_deref().unwrap_or("");
    let auth = AuthRequest::new(key.app(), key.name(), query, None, "http-flv");
    if let Err(e) = ctx.authorize_play(&auth).await {
        return Err(Response::text(403, &format!("play {key} refused: {e}")));
    }
    match ctx.subscribe(key).await {
        Ok(subscription) => Ok(subscription),
        Err(SubscribeError::NotFound(_)) => {
            Err(Response::text(404, &format!("stream {key} is not live")))
        }
        Err(e) => Err(Response::text(503, &e.to_string())),
    }
}

/// What woke the streaming loop.
enum Woken {
    /// The client sent bytes (ignored) or closed (`Ok(0)`).
    Client(std::io::Result<usize>),
    Viewer(ViewerEvent),
    Stopping,
}

/// Why an HTTP-FLV body ended, for the session's end line.
#[derive(Debug)]
enum Ending {
    /// The client closed the connection.
    PeerClosed,
    /// Reading or writing the socket failed.
    Io(std::io::Error),
    /// The shard is shutting down.
    Shutdown,
    /// The stream ended.
    StreamEnded,
    /// The viewer lagged too often.
    Evicted(EvictReason),
    /// A frame could not be put on the wire.
    Encode(EncodeError),
    /// A write to a viewer that stopped reading did not finish in time.
    WriteStalled(Duration),
}

impl Ending {
    /// Whether the ending points at a problem worth a warning.
    fn is_problem(&self) -> bool {
        !matches!(
            self,
            Ending::PeerClosed | Ending::Shutdown | Ending::StreamEnded
        )
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::PeerClosed => f.write_str("peer closed the connection"),
            Ending::Io(e) => write!(f, "socket error: {e}"),
            Ending::Shutdown => f.write_str("server shutting down"),
            Ending::StreamEnded => f.write_str("stream ended"),
            Ending::Evicted(reason) => write!(f, "evicted: {reason}"),
            Ending::Encode(e) => write!(f, "cannot encode a frame: {e}"),
            Ending::WriteStalled(limit) => write!(f, "player read nothing for {limit:?}"),
        }
    }
}

/// Streams `key` to the client until the stream ends, the client leaves or
/// lags out, or the shard stops. The connection is closed afterwards.
pub(super) async fn stream(
    ctx: &ShardCtx,
    mut conn: Connection,
    request: &RequestHead,
    key: StreamKey,
    mut subscription: Subscription,
    config: &HttpConfig,
) {
    let query = request.query.as_deref().unwrap_or("");
    let _play_done = ctx.play_done_hook(&key, query, Some(conn.peer_addr()), "http-flv");
    let _client = ctx.register_player(&conn, "http-flv", &key);
    let framing = BodyFraming::streaming(request.version);
    let head = ResponseHead::new(200, framing)
        .header("content-type", "video/x-flv")
        .and_then(|h| h.header("cache-control", "no-cache"))
        .and_then(|h| h.header("access-control-allow-origin", "*"))
        .expect("static header names and values are valid")
        .close();
    let mut out = BytesMut::new();
    head.encode(&mut out);
    if request.method == Method::Head {
        let _ = conn.write_all(&out).await;
        return;
    }
    let session = SessionLog::start(ctx.id(), &conn, "http-flv", Role::Play, &key);
    let merge = config.write_batch.for_app(key.app());
    let batch = Batch::new(SharedEncoder::new(key, WireFormat::FlvTag), merge);
    let ending = send_body(
        ctx,
        &mut conn,
        framing,
        out.freeze(),
        batch,
        &mut subscription,
    )
    .await;
    session.end(&conn).log(&ending, ending.is_problem());
}

/// Writes `head`, the FLV header and then the tags until the body ends.
async fn send_body(
    ctx: &ShardCtx,
    conn: &mut Connection,
    framing: BodyFraming,
    head: Bytes,
    mut batch: Batch,
    subscription: &mut Subscription,
) -> Ending {
    let mut flv_header = BytesMut::new();
    FlvHeader {
        has_audio: true,
        has_video: true,
    }
    .encode(&mut flv_header);
    let first = frame_body(framing, head, vec![flv_header.freeze()], false);
    if let Err(e) = write(conn, &first).await {
        return Ending::Io(e);
    }
    let mut scratch = BytesMut::new();
    loop {
        let client = async { Woken::Client(conn.read(&mut scratch).await) };
        let viewer = async { Woken::Viewer(subscription.next().await) };
        let stop = async {
            ctx.stopping().await;
            Woken::Stopping
        };
        // `Some` once the body ends after this write.
        let last = match future::or(future::or(client, viewer), stop).await {
            Woken::Client(Ok(n)) if n > 0 => {
                // A player may send anything after its request; drop it.
                scratch.clear();
                continue;
            }
            Woken::Client(Ok(_)) => return Ending::PeerClosed,
            Woken::Client(Err(e)) => return Ending::Io(e),
            Woken::Stopping => return Ending::Shutdown,
            Woken::Viewer(event) => {
                let wait = batch.merge_wait();
                if !wait.is_zero() {
                    task::sleep(wait).await;
                }
                match batch.gather(event, subscription) {
                    Ok(()) if !batch.is_due() => continue,
                    Ok(()) => None,
                    Err(Stop::Encode(e)) => Some(Ending::Encode(e)),
                    Err(Stop::Ended) => Some(Ending::StreamEnded),
                    Err(Stop::Evicted(reason)) => Some(Ending::Evicted(reason)),
                }
            }
        };
        let parts = frame_body(framing, Bytes::new(), batch.take(), last.is_some());
        match task::timeout(WRITE_TIMEOUT, write(conn, &parts)).await {
            Some(Ok(())) => match last {
                Some(ending) => return ending,
                None => subscription.set_queued_bytes(0),
            },
            Some(Err(e)) => return Ending::Io(e),
            None => return Ending::WriteStalled(WRITE_TIMEOUT),
        }
    }
}

/// The bytes of one write: `prefix` (a response head, or nothing), then
/// `tags` as one HTTP chunk when chunked, then the last chunk if the body
/// ends here.
fn frame_body(framing: BodyFraming, prefix: Bytes, tags: Vec<Bytes>, last: bool) -> Vec<Bytes> {
    let chunked = framing == BodyFraming::Chunked;
    let mut parts = Vec::with_capacity(tags.len() + 4);
    if !prefix.is_empty() {
        parts.push(prefix);
    }
    let len: usize = tags.iter().map(Bytes::len).sum();
    if chunked && len > 0 {
        let mut size_line = BytesMut::new();
        encode_chunk_prefix(len, &mut size_line);
        parts.push(size_line.freeze());
        parts.extend(tags);
        parts.push(Bytes::from_static(b"\r\n"));
    } else {
        parts.extend(tags);
    }
    if chunked && last {
        parts.push(Bytes::from_static(LAST_CHUNK));
    }
    parts
}

async fn write(conn: &mut Connection, parts: &[Bytes]) -> std::io::Result<()> {
    if parts.is_empty() {
        return Ok(());
    }
    conn.write_chunks(parts).await
}
