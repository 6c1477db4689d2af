//! The HTTP/1.1 driver: reads request heads, routes them, writes responses.
//!
//! Keep-alive and pipelining come from the parser, which consumes exactly one
//! head and leaves what follows in the buffer. A malformed or oversized head
//! gets its 4xx with `Connection: close`; a client that sends nothing within
//! [`IDLE_TIMEOUT`] is closed. Neither touches any other connection.

use std::sync::Arc;
use std::time::Duration;

use arcly_protocols::http::{
    BodyFraming, HttpError, Method, RequestHead, RequestParser, ResponseHead,
};
use bytes::BytesMut;

use arcly_engine::StreamKey;

use crate::drivers::batch::WriteBatching;
use crate::{Connection, ShardCtx, ShardStats, task};

mod flv;

/// How long a connection may sit between requests, or mid-head.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long, and how many bytes, a refused client is read away for.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 256 << 10;

/// How HTTP is served.
#[derive(Clone, Debug, Default)]
pub struct HttpConfig {
    /// Media merged per HTTP-FLV write, per app; see [`WriteBatching`].
    pub write_batch: WriteBatching,
}

/// A response ready to write.
pub(super) struct Response {
    head: ResponseHead,
    body: Vec<u8>,
}

impl Response {
    pub(super) fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        let head = ResponseHead::new(status, BodyFraming::Length(body.len() as u64))
            .header("content-type", content_type)
            .and_then(|h| h.header("access-control-allow-origin", "*"))
            .expect("static header names and values are valid");
        Response { head, body }
    }

    pub(super) fn text(status: u16, body: &str) -> Response {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            format!("{body}\n").into_bytes(),
        )
    }
}

/// Serves one connection until the client closes, asks to close, times out,
/// sends something malformed, or the shard stops.
pub(crate) async fn serve(ctx: ShardCtx, mut conn: Connection, config: Arc<HttpConfig>) {
    let mut parser = RequestParser::new();
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        match parser.feed(&mut buf) {
            Ok(Some(request)) => {
                let response = match route(&ctx, &request).await {
                    Route::Respond(response) => response,
                    Route::LiveFlv(key) => match flv::start(&ctx, &request, &key).await {
                        Ok(subscription) => {
                            flv::stream(&ctx, conn, &request, key, subscription, &config).await;
                            return;
                        }
                        Err(refusal) => refusal,
                    },
                };
                let head = response.head.persist_for(&request);
                let keep = head.keeps_alive();
                let body = if request.method == Method::Head {
                    &[][..]
                } else {
                    &response.body[..]
                };
                if write(&mut conn, &head, body).await.is_err() || !keep {
                    return;
                }
            }
            Ok(None) => {
                let read = task::timeout(IDLE_TIMEOUT, conn.read(&mut buf));
                let stop = async {
                    ctx.stopping().await;
                    None
                };
                match futures_lite::future::or(read, stop).await {
                    Some(Ok(n)) if n > 0 => {}
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

async fn write(conn: &mut Connection, head: &ResponseHead, body: &[u8]) -> std::io::Result<()> {
    let mut out = BytesMut::with_capacity(256 + body.len());
    head.encode(&mut out);
    out.extend_from_slice(body);
    conn.write_all(&out).await
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
}

async fn route(ctx: &ShardCtx, request: &RequestHead) -> Route {
    if !matches!(request.method, Method::Get | Method::Head) {
        let method = request.method.as_str();
        return Route::Respond(Response::text(405, &format!("{method} is not served here")));
    }
    match request.path.as_str() {
        "/healthz" => Route::Respond(Response::text(200, "ok")),
        "/api/v1/shards" => {
            let stats = ctx.gather_stats().await;
            Route::Respond(Response::new(
                200,
                "application/json",
                shards_json(&stats).into_bytes(),
            ))
        }
        path => match path.strip_prefix('/').and_then(|p| p.strip_suffix(".flv")) {
            Some(key) => match StreamKey::parse(key) {
                Ok(key) => Route::LiveFlv(key),
                Err(e) => Route::Respond(Response::text(400, &format!("bad stream key: {e}"))),
            },
            None => Route::Respond(Response::text(404, &format!("no such resource: {path}"))),
        },
    }
}

/// `{"shards":[{...},...]}`, one object per shard with every counter.
fn shards_json(stats: &[ShardStats]) -> String {
    let shards: Vec<String> = stats
        .iter()
        .map(|s| {
            let fields: Vec<String> = s
                .fields()
                .iter()
                .map(|(name, value)| format!("\"{name}\":{value}"))
                .collect();
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!("{{\"shards\":[{}]}}\n", shards.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_json_lists_every_counter() {
        let stats = vec![ShardStats {
            shard: 1,
            viewers: 7,
            ..ShardStats::default()
        }];
        let json = shards_json(&stats);
        assert!(json.starts_with("{\"shards\":[{\"shard\":1,"), "{json}");
        assert!(json.contains("\"viewers\":7"), "{json}");
        assert_eq!(
            json.matches(':').count(),
            1 + ShardStats::default().fields().len()
        );
    }
}
