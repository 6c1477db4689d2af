//! The operator's HTTP endpoints: health, readiness, Prometheus metrics
//! and the JSON API. Whatever shard a request lands on answers it, asking
//! the others through the mailbox (`ShardCtx::call_on`, `gather_stats`).
//!
//! | path                              | methods       | token |
//! |-----------------------------------|---------------|-------|
//! | `/healthz`                        | GET           | no    |
//! | `/readyz`                         | GET           | no    |
//! | `/metrics`                        | GET           | yes   |
//! | `/api/v1/shards`                  | GET           | yes   |
//! | `/api/v1/streams`                 | GET           | yes   |
//! | `/api/v1/streams/{app}/{stream}`  | GET, DELETE   | yes   |
//! | `/api/v1/clients`                 | GET           | yes   |
//! | `/api/v1/clients/{id}`            | GET, DELETE   | yes   |
//!
//! "Token" means: when an admin token is configured, the request must
//! carry it ([`token`]) or gets 401. HEAD is served wherever GET is.

pub(crate) mod clients;
mod hls_requests;
mod json;
mod metrics;
mod shards;
mod streams;
mod token;

use arcly_engine::StreamKey;
use arcly_protocols::http::{Method, RequestHead};

pub(crate) use self::hls_requests::count as count_hls_request;
use super::{HttpConfig, Response};
use crate::ShardCtx;
use crate::stats::Refusal;

/// An operator endpoint.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    Healthz,
    Readyz,
    Metrics,
    Shards,
    Streams,
    Stream(StreamKey),
    Clients,
    Client(u64),
    /// Under `/api/` but nothing there.
    Unknown,
}

impl Endpoint {
    /// The endpoint `path` names; `None` for paths that are not the API's.
    fn parse(path: &str) -> Option<Result<Endpoint, String>> {
        let endpoint = match path {
            "/healthz" => Endpoint::Healthz,
            "/readyz" => Endpoint::Readyz,
            "/metrics" => Endpoint::Metrics,
            "/api/v1/shards" => Endpoint::Shards,
            "/api/v1/streams" => Endpoint::Streams,
            "/api/v1/clients" => Endpoint::Clients,
            _ => {
                let api = path.strip_prefix("/api/")?;
                if let Some(key) = api.strip_prefix("v1/streams/") {
                    return Some(
                        StreamKey::parse(key)
                            .map(Endpoint::Stream)
                            .map_err(|e| format!("bad stream key: {e}")),
                    );
                }
                match api.strip_prefix("v1/clients/") {
                    Some(id) => match id.parse() {
                        Ok(id) => Endpoint::Client(id),
                        Err(_) => return Some(Err(format!("bad client id {id:?}"))),
                    },
                    None => Endpoint::Unknown,
                }
            }
        };
        Some(Ok(endpoint))
    }

    /// Whether it answers without the admin token.
    fn is_open(&self) -> bool {
        matches!(self, Endpoint::Healthz | Endpoint::Readyz)
    }

    /// The methods it serves, as `Allow` lists them.
    fn allow(&self) -> &'static str {
        match self {
            Endpoint::Stream(_) | Endpoint::Client(_) => "GET, HEAD, DELETE",
            _ => "GET, HEAD",
        }
    }
}

/// Answers `request` if its path is one of the operator's endpoints;
/// `None` otherwise (a stream, a file, or nothing at all).
pub(super) async fn respond(
    ctx: &ShardCtx,
    request: &RequestHead,
    config: &HttpConfig,
) -> Option<Response> {
    let endpoint = match Endpoint::parse(&request.path)? {
        Ok(endpoint) => endpoint,
        Err(why) => return Some(json_response(400, &json::error(&why))),
    };
    if !endpoint.is_open()
        && let Some(wanted) = config.admin_token.as_deref()
        && !token::admits(request, wanted)
    {
        let refusal = json_response(401, &json::error("this endpoint needs the admin token"))
            .with_header("www-authenticate", "Bearer realm=\"arcly\"");
        return Some(refusal);
    }
    let allowed = match request.method {
        Method::Get | Method::Head => true,
        Method::Delete => endpoint.allow().contains("DELETE"),
        _ => false,
    };
    if !allowed {
        let method = request.method.as_str();
        let refusal = json_response(405, &json::error(&format!("{method} is not served here")))
            .with_header("allow", endpoint.allow());
        return Some(refusal);
    }
    let delete = request.method == Method::Delete;
    Some(match endpoint {
        Endpoint::Healthz => Response::text(200, "ok"),
        Endpoint::Readyz => readyz(ctx).await,
        Endpoint::Metrics => {
            let stats = ctx.gather_stats().await;
            let text = metrics::render(&stats, &ctx.config().shards);
            Response::new(200, metrics::CONTENT_TYPE, text)
        }
        Endpoint::Shards => {
            let stats = ctx.gather_stats().await;
            let body = shards::shards_json(&stats, &ctx.config().shards);
            Response::new(200, "application/json", body)
        }
        Endpoint::Streams => streams::list(ctx).await,
        Endpoint::Stream(key) if delete => streams::end(ctx, &key).await,
        Endpoint::Stream(key) => streams::one(ctx, &key).await,
        Endpoint::Clients => clients::list_all(ctx).await,
        Endpoint::Client(id) if delete => clients::kick_one(ctx, id).await,
        Endpoint::Client(id) => clients::one(ctx, id).await,
        Endpoint::Unknown => json_response(
            404,
            &json::error(&format!("no such endpoint: {}", request.path)),
        ),
    })
}

/// 200 once every shard answers a counter gathering; 503 while this shard
/// stops or while any shard does not answer.
async fn readyz(ctx: &ShardCtx) -> Response {
    if ctx.is_stopping() {
        return Response::text(503, "stopping");
    }
    let answered = ctx.gather_stats().await.len();
    if answered == ctx.shards() && !ctx.is_stopping() {
        Response::text(200, "ready")
    } else {
        Response::text(
            503,
            &format!("{answered} of {} shards answered", ctx.shards()),
        )
    }
}

/// Counts an HTTP-FLV player's refusal by its status, and hands it back.
pub(super) fn count_refusal(ctx: &ShardCtx, refusal: Response) -> Response {
    let why = match refusal.head.status() {
        401 | 403 => Refusal::Unauthorized,
        404 => Refusal::NotFound,
        _ => Refusal::Other,
    };
    ctx.shard.counters.refused(why);
    refusal
}

fn json_response(status: u16, body: &str) -> Response {
    Response::new(status, "application/json", body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_operator_paths_and_leaves_the_rest() {
        let key = StreamKey::new("live", "cam").unwrap();
        assert_eq!(
            Endpoint::parse("/api/v1/streams/live/cam"),
            Some(Ok(Endpoint::Stream(key)))
        );
        assert_eq!(
            Endpoint::parse("/api/v1/clients/42"),
            Some(Ok(Endpoint::Client(42)))
        );
        assert_eq!(Endpoint::parse("/api/v2/x"), Some(Ok(Endpoint::Unknown)));
        assert!(matches!(Endpoint::parse("/api/v1/clients/x"), Some(Err(_))));
        assert!(matches!(
            Endpoint::parse("/api/v1/streams/nokey"),
            Some(Err(_))
        ));
        assert_eq!(Endpoint::parse("/live/cam.flv"), None);
        assert_eq!(Endpoint::parse("/metricsx"), None);
    }
}
