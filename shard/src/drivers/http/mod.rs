//! The HTTP/1.1 driver: reads request heads, routes them, writes responses.
//!
//! Keep-alive and pipelining come from the parser, which consumes exactly one
//! head and leaves what follows in the buffer. A malformed or oversized head
//! gets its 4xx with `Connection: close`, and so does a head not complete
//! within [`HEAD_TIMEOUT`] of its first byte (`408`); a client that sends
//! nothing within [`IDLE_TIMEOUT`] is closed. None of it touches any other
//! connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arcly_media::hls::HlsSettings;
use arcly_protocols::http::{
    BodyFraming, HttpError, Method, RequestHead, RequestParser, ResponseHead,
};
use bytes::{Bytes, BytesMut};

use arcly_engine::StreamKey;

use crate::drivers::batch::WriteBatching;
use crate::drivers::nodelay::TcpNoDelay;
use crate::{Connection, ShardCtx, task};

pub(crate) mod api;
mod flv;
mod hls;

/// How long a connection may sit between requests.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request head may take from its first byte to its last, so a
/// client trickling bytes (slowloris) cannot hold a connection.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long, and how many bytes, a refused client is read away for.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 256 << 10;

/// How HTTP is served.
#[derive(Clone, Debug, Default)]
pub struct HttpConfig {
    /// Media merged per HTTP-FLV write, per app; see [`WriteBatching`].
    pub write_batch: WriteBatching,
    /// Whether HTTP-FLV viewers keep `TCP_NODELAY` after their join, per
    /// app.
    pub tcp_nodelay: TcpNoDelay,
    /// How streams are cut into HLS segments and parts.
    pub hls: HlsSettings,
    /// When set, `/metrics` and `/api/*` answer only requests that carry
    /// it (`Authorization: Bearer TOKEN` or `?admin_token=TOKEN`);
    /// `/healthz` and `/readyz` stay open.
    pub admin_token: Option<String>,
}

/// A response ready to write.
pub(super) struct Response {
    head: ResponseHead,
    body: Bytes,
}

impl Response {
    pub(super) fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
        let body = body.into();
        let head = ResponseHead::new(status, BodyFraming::Length(body.len() as u64))
            .header("content-type", content_type)
            .and_then(|h| h.header("access-control-allow-origin", "*"))
            .expect("static header names and values are valid");
        Response { head, body }
    }

    /// Adds a header; `value` must be printable ASCII (ours always are).
    pub(super) fn with_header(mut self, name: &str, value: &str) -> Response {
        self.head = self
            .head
            .header(name, value)
            .expect("header names and values written here are valid");
        self
    }

    /// Closes the connection after this response, whatever the request
    /// asked: for requests no well-behaved client sends.
    pub(super) fn closing(mut self) -> Response {
        self.head = self.head.close();
        self
    }

    pub(super) fn text(status: u16, body: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", format!("{body}\n"))
    }
}

/// Serves one connection until the client closes, asks to close, times out,
/// sends something malformed, or the shard stops.
pub(crate) async fn serve(ctx: ShardCtx, mut conn: Connection, config: Arc<HttpConfig>) {
    let mut parser = RequestParser::new();
    let mut head_started: Option<Instant> = None;
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        match parser.feed(&mut buf) {
            Ok(Some(request)) => {
                head_started = None;
                let response = match route(&ctx, &request, &config).await {
                    Route::Respond(response) => response,
                    Route::Hls(key, name) => {
                        hls::respond(&ctx, &request, conn.peer_addr(), key, &name, &config.hls)
                            .await
                    }
                    Route::LiveFlv(key) => {
                        match flv::start(&ctx, &request, conn.peer_addr(), &key).await {
                            Ok(subscription) => {
                                flv::stream(&ctx, conn, &request, key, subscription, &config).await;
                                return;
                            }
                            Err(refusal) => api::count_refusal(&ctx, refusal),
                        }
                    }
                };
                let head = response.head.persist_for(&request);
                let keep = head.keeps_alive();
                let body = if request.method == Method::Head {
                    Bytes::new()
                } else {
                    response.body
                };
                if write(&mut conn, &head, &body).await.is_err() || !keep {
                    return;
                }
            }
            Ok(None) => {
                // A head in progress must be complete within HEAD_TIMEOUT of
                // its first byte, however slowly its bytes trickle in.
                let limit = if buf.is_empty() {
                    head_started = None;
                    IDLE_TIMEOUT
                } else {
                    let started = *head_started.get_or_insert_with(Instant::now);
                    (started + HEAD_TIMEOUT).saturating_duration_since(Instant::now())
                };
                let read = task::timeout(limit, conn.read(&mut buf));
                let stop = async {
                    ctx.stopping().await;
                    Some(Ok(0))
                };
                match futures_lite::future::or(read, stop).await {
                    Some(Ok(n)) if n > 0 => {}
                    None if !buf.is_empty() => {
                        let response = Response::text(408, "the request head took too long");
                        if write(&mut conn, &response.head.close(), &response.body)
                            .await
                            .is_ok()
                        {
                            linger(&mut conn, buf).await;
                        }
                        return;
                    }
                    // Closed, failed, idle or shutting down: nothing more to say.
                    _ => return,
                }
            }
            Err(error) => {
                let response = refusal(&error);
                if write(&mut conn, &response.head.close(), &response.body)
                    .await
                    .is_ok()
                {
                    linger(&mut conn, buf).await;
                }
                return;
            }
        }
    }
}

/// Half-closes and reads away what the client is still sending, for a
/// bounded time and amount, so that closing with unread bytes does not turn
/// into a reset that destroys the error response before the client reads it
/// (what nginx calls a lingering close).
async fn linger(conn: &mut Connection, mut buf: BytesMut) {
    if conn.close_write().await.is_err() {
        return;
    }
    let mut discarded = 0;
    while discarded < LINGER_BYTES {
        buf.clear();
        match task::timeout(LINGER_TIME, conn.read(&mut buf)).await {
            Some(Ok(n)) if n > 0 => discarded += n,
            _ => return,
        }
    }
}

/// Writes a response: small bodies with their head in one write, large
/// ones (segments) straight from their shared buffer.
async fn write(conn: &mut Connection, head: &ResponseHead, body: &Bytes) -> std::io::Result<()> {
    let mut out = BytesMut::with_capacity(256);
    head.encode(&mut out);
    if body.is_empty() {
        return conn.write_all(&out).await;
    }
    conn.write_chunks(&[out.freeze(), body.clone()]).await
}

/// The response for a request the parser refused.
fn refusal(error: &HttpError) -> Response {
    Response::text(error.status(), &error.to_string())
}

/// What a request asks for.
enum Route {
    /// A complete response.
    Respond(Response),
    /// A live stream as HTTP-FLV.
    LiveFlv(StreamKey),
    /// A file of a stream's HLS presentation.
    Hls(StreamKey, String),
}

/// What `request` asks for: the operator's endpoints (health, metrics,
/// the JSON API; see [`api`]) first, then streams, GET and HEAD only.
async fn route(ctx: &ShardCtx, request: &RequestHead, config: &HttpConfig) -> Route {
    if let Some(response) = api::respond(ctx, request, config).await {
        return Route::Respond(response);
    }
    if !matches!(request.method, Method::Get | Method::Head) {
        let method = request.method.as_str();
        return Route::Respond(Response::text(405, &format!("{method} is not served here")));
    }
    let route = stream_route(&request.path);
    if let Route::Hls(key, _) = &route {
        api::count_hls_request(ctx, key);
    }
    route
}

/// `/{app}/{stream}.flv` or `/{app}/{stream}/{file}`.
fn stream_route(path: &str) -> Route {
    let not_found = || Route::Respond(Response::text(404, &format!("no such resource: {path}")));
    let Some(rest) = path.strip_prefix('/') else {
        return not_found();
    };
    if rest
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        let refusal = Response::text(400, "dot segments (`..`, `.`) are not allowed in paths");
        return Route::Respond(refusal.closing());
    }
    let (key, hls_file) = match rest.strip_suffix(".flv") {
        Some(key) if key.matches('/').count() == 1 => (key, None),
        _ => match rest.rsplit_once('/') {
            Some((key, file)) if key.matches('/').count() == 1 => (key, Some(file)),
            _ => return not_found(),
        },
    };
    match (StreamKey::parse(key), hls_file) {
        (Ok(key), None) => Route::LiveFlv(key),
        (Ok(key), Some(file)) => Route::Hls(key, file.to_owned()),
        (Err(e), _) => Route::Respond(Response::text(400, &format!("bad stream key: {e}"))),
    }
}
