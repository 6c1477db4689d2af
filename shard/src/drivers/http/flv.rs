//! HTTP-FLV: `GET /{app}/{stream}.flv` streams the FLV header, then
//! metadata, configs, the cached GOP and live tags, each tag encoded once
//! per (stream, shard) and shared with every HTTP-FLV viewer there.
//!
//! The body is chunked on HTTP/1.1 and close-delimited on HTTP/1.0. The
//! viewer gets the same lag policy as an RTMP player: everything ready goes
//! out in one write (≤ 256 KiB), a viewer that falls behind jumps to the
//! newest keyframe, and one that stops reading is let go after
//! [`WRITE_TIMEOUT`]. The stream's end closes the body.

use std::time::Duration;

use arcly_engine::{AuthRequest, StreamKey};
use arcly_media::flv::FlvHeader;
use arcly_protocols::http::{
    BodyFraming, LAST_CHUNK, Method, RequestHead, ResponseHead, encode_chunk_prefix,
};
use bytes::{Bytes, BytesMut};
use futures_lite::future;

use super::Response;
use crate::drivers::egress::{SharedEncoder, WireFormat};
use crate::{Connection, ShardCtx, SubscribeError, Subscription, ViewerEvent, task};

/// The most bytes gathered into one socket write.
const MAX_WRITE: usize = 256 << 10;

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
    if let Err(e) = ctx.config().authenticator.authorize_play(&auth) {
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

/// Streams `key` to the client until the stream ends, the client leaves or
/// lags out, or the shard stops. The connection is closed afterwards.
pub(super) async fn stream(
    ctx: &ShardCtx,
    mut conn: Connection,
    request: &RequestHead,
    key: StreamKey,
    mut subscription: Subscription,
) {
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
    let mut flv_header = BytesMut::new();
    FlvHeader {
        has_audio: true,
        has_video: true,
    }
    .encode(&mut flv_header);
    let mut body = Body {
        framing,
        parts: Vec::new(),
        finished: false,
    };
    body.push(flv_header.freeze());
    let first = body.take(out.freeze());
    if write(&mut conn, &first).await.is_err() {
        return;
    }
    let encoder = SharedEncoder::new(key, WireFormat::FlvTag);
    let mut scratch = BytesMut::with_capacity(512);
    loop {
        let client = async { Woken::Client(conn.read(&mut scratch).await) };
        let viewer = async { Woken::Viewer(subscription.next().await) };
        let stop = async {
            ctx.stopping().await;
            Woken::Stopping
        };
        let mut next = match future::or(future::or(client, viewer), stop).await {
            Woken::Client(Ok(n)) if n > 0 => {
                // A player may send anything after its request; drop it.
                scratch.clear();
                continue;
            }
            Woken::Client(_) | Woken::Stopping => break,
            Woken::Viewer(event) => Some(event),
        };
        let mut ended = false;
        while let Some(event) = next.take() {
            match event {
                ViewerEvent::Frame { seq, frame } => match encoder.encode(seq, &frame) {
                    Ok(tag) => body.push(tag),
                    Err(e) => {
                        eprintln!("shard={} http-flv: cannot encode a frame: {e}", ctx.id());
                        ended = true;
                    }
                },
                ViewerEvent::Skipped { .. } => {}
                ViewerEvent::Evicted(_) | ViewerEvent::Ended => ended = true,
            }
            if !ended && body.size() < MAX_WRITE {
                next = subscription.try_next();
            }
        }
        if ended {
            body.finish();
        }
        subscription.set_queued_bytes(body.size());
        let parts = body.take(Bytes::new());
        match task::timeout(WRITE_TIMEOUT, write(&mut conn, &parts)).await {
            Some(Ok(())) if !ended => subscription.set_queued_bytes(0),
            _ => break,
        }
    }
}

/// Tags gathered for one write, with the body framing around them.
struct Body {
    framing: BodyFraming,
    parts: Vec<Bytes>,
    /// The body ends after these parts.
    finished: bool,
}

impl Body {
    fn push(&mut self, part: Bytes) {
        self.parts.push(part);
    }

    fn size(&self) -> usize {
        self.parts.iter().map(Bytes::len).sum()
    }

    /// Marks the end of the body: the next [`Body::take`] closes it.
    fn finish(&mut self) {
        self.finished = true;
    }

    /// The parts to write, after `prefix` (a response head, or nothing):
    /// one HTTP chunk when chunked, and the last chunk once finished.
    fn take(&mut self, prefix: Bytes) -> Vec<Bytes> {
        let mut parts = Vec::with_capacity(self.parts.len() + 4);
        if !prefix.is_empty() {
            parts.push(prefix);
        }
        let chunked = self.framing == BodyFraming::Chunked;
        let len = self.size();
        if chunked && len > 0 {
            let mut size_line = BytesMut::new();
            encode_chunk_prefix(len, &mut size_line);
            parts.push(size_line.freeze());
            parts.append(&mut self.parts);
            parts.push(Bytes::from_static(b"\r\n"));
        } else {
            parts.append(&mut self.parts);
        }
        if chunked && self.finished {
            parts.push(Bytes::from_static(LAST_CHUNK));
        }
        parts
    }
}

async fn write(conn: &mut Connection, parts: &[Bytes]) -> std::io::Result<()> {
    if parts.is_empty() {
        return Ok(());
    }
    conn.write_chunks(parts).await
}
