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
use std::net::SocketAddr;
use std::time::Duration;

use arcly_engine::{AuthRequest, EvictReason, StreamKey};
use arcly_media::flv::FlvHeader;
use arcly_protocols::http::{BodyFraming, Method, RequestHead, ResponseHead};
use bytes::{Bytes, BytesMut};
use futures_lite::future;

use super::{HttpConfig, Response};
use crate::drivers::batch::{Batch, Stop};
use crate::drivers::egress::{EncodeError, SharedEncoder, WireFormat};
use crate::drivers::fanout::{Framing, Handover, Outlet};
use crate::drivers::http::api::clients::Role;
use crate::drivers::session::SessionLog;
use crate::net::is_reset;
use crate::{Connection, ShardCtx, SubscribeError, Subscription, task};

/// How long one write may wait for a viewer that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Authorizes the viewer (connected from `peer`) and joins the stream on
/// this shard; a refusal is
/// the response to send instead.
pub(super) async fn start(
    ctx: &ShardCtx,
    request: &RequestHead,
    peer: SocketAddr,
    key: &StreamKey,
) -> Result<Subscription, Response> {
    let query = request.query.as_deref().unwrap_or("");
    let auth = AuthRequest::new(key.app(), key.name(), query, Some(peer), "http-flv");
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
    Handover(Handover),
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
    /// A viewer whose socket was reset (it closed with bytes unread) left:
    /// the peer closing, not a socket fault worth a warning.
    fn reset_as_closed(self) -> Ending {
        match self {
            Ending::Io(e) if is_reset(&e) => Ending::PeerClosed,
            ending => ending,
        }
    }

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
    subscription: Subscription,
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
    let egress = Egress {
        framing: Framing::from(framing),
        nodelay: config.tcp_nodelay.for_app(key.app()),
    };
    let merge = config.write_batch.for_app(key.app());
    let batch = Batch::new(SharedEncoder::new(key, WireFormat::FlvTag), merge);
    let ending = send_body(ctx, &mut conn, egress, out.freeze(), batch, subscription).await;
    session.end(&conn).log(&ending, ending.is_problem());
}

/// How a viewer's body goes out.
struct Egress {
    framing: Framing,
    /// `TCP_NODELAY` after the join (see [`TcpNoDelay`](crate::TcpNoDelay)).
    nodelay: bool,
}

/// Writes `head` and the FLV header, then lets the shard's fan-out send
/// the tags until the body ends.
async fn send_body(
    ctx: &ShardCtx,
    conn: &mut Connection,
    egress: Egress,
    head: Bytes,
    batch: Batch,
    subscription: Subscription,
) -> Ending {
    let framing = egress.framing;
    let mut flv_header = BytesMut::new();
    FlvHeader {
        has_audio: true,
        has_video: true,
    }
    .encode(&mut flv_header);
    let mut first = vec![head];
    first.extend(framing.frame(vec![flv_header.freeze()], false));
    if let Err(e) = conn.write_chunks(&first).await {
        return Ending::Io(e);
    }
    let outlet = Outlet::open(conn, subscription, batch, framing, egress.nodelay);
    let ending = serve(ctx, conn, &outlet).await.reset_as_closed();
    conn.add_sent(outlet.close());
    ending
}

/// Waits for the client to leave and for the fan-out's handovers.
async fn serve(ctx: &ShardCtx, conn: &mut Connection, outlet: &Outlet) -> Ending {
    let mut scratch = BytesMut::new();
    loop {
        let client = async { Woken::Client(conn.read(&mut scratch).await) };
        let handover = async { Woken::Handover(outlet.handover().await) };
        let stop = async {
            ctx.stopping().await;
            Woken::Stopping
        };
        let handover = match future::or(future::or(client, handover), stop).await {
            Woken::Client(Ok(n)) if n > 0 => {
                // A player may send anything after its request; drop it.
                scratch.clear();
                continue;
            }
            Woken::Client(Ok(_)) => return Ending::PeerClosed,
            Woken::Client(Err(e)) => return Ending::Io(e),
            Woken::Stopping => return Ending::Shutdown,
            Woken::Handover(handover) => handover,
        };
        if !handover.unsent.is_empty() {
            match task::timeout(WRITE_TIMEOUT, conn.write_chunks(&handover.unsent)).await {
                Some(Ok(())) => {}
                Some(Err(e)) => return Ending::Io(e),
                None => return Ending::WriteStalled(WRITE_TIMEOUT),
            }
        }
        match handover.stop {
            None => outlet.resume(),
            Some(Stop::Encode(e)) => return Ending::Encode(e),
            Some(Stop::Ended) => return Ending::StreamEnded,
            Some(Stop::Evicted(reason)) => return Ending::Evicted(reason),
            Some(Stop::Write(e)) => return Ending::Io(e),
        }
    }
}
