//! The clients of a shard: every RTMP and HTTP-FLV connection that
//! publishes or plays, for `GET /api/v1/clients`, the per-protocol viewer
//! counts, and `DELETE /api/v1/clients/{id}` (kick).
//!
//! A driver registers its connection once it knows what the connection
//! does and holds the [`ClientGuard`] for as long as it holds the
//! connection. Nothing is counted per frame: the byte counts come from the
//! kernel (`TCP_INFO`) when someone asks.
//!
//! A kick shuts the socket down (`shutdown(SHUT_RDWR)`) instead of
//! signalling the driver: the driver's pending read sees end-of-stream and
//! its writes fail, so it ends through the path it already has for a peer
//! that leaves, whatever it was waiting on — even a write to a player that
//! stopped reading, which no signal raced against the read would reach.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::Instant;

use arcly_engine::StreamKey;

use super::json::{self, Json};
use crate::drivers::http::Response;
use crate::stats::bump;
use crate::{Connection, ShardCtx};

/// What a client does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// It sends a stream.
    Publish,
    /// It watches a stream.
    Play,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Publish => "publish",
            Role::Play => "play",
        }
    }
}

/// One registered connection.
struct Entry {
    peer: SocketAddr,
    protocol: &'static str,
    role: Role,
    key: StreamKey,
    connected_at: Instant,
    /// The connection's socket. Valid while the entry exists: see
    /// [`ShardCtx::register_client`].
    fd: RawFd,
}

/// One shard's clients, by their number on this shard.
#[derive(Default)]
struct Registry {
    entries: HashMap<u64, Entry>,
    /// The last number handed out.
    last: u64,
    /// Live counts, kept as entries come and go so a scrape reads them
    /// without walking the map.
    publishers: Cell<u64>,
    rtmp_players: Cell<u64>,
    http_flv_players: Cell<u64>,
}

impl Registry {
    fn count(&self, entry: &Entry) -> Option<&Cell<u64>> {
        match (entry.role, entry.protocol) {
            (Role::Publish, _) => Some(&self.publishers),
            (Role::Play, "rtmp") => Some(&self.rtmp_players),
            (Role::Play, "http-flv") => Some(&self.http_flv_players),
            _ => None,
        }
    }
}

thread_local! {
    /// This shard's clients. A shard is a thread and a connection never
    /// leaves its shard while registered (a publisher is registered on the
    /// owner, after its hand-off), so the registry is thread-local like the
    /// encode-once cache.
    static CLIENTS: RefCell<Registry> = RefCell::new(Registry::default());
}

/// Keeps a connection in its shard's registry; dropping it takes it out.
/// Not `Send`: it belongs to the shard's thread.
#[must_use = "the client is unregistered when the guard is dropped"]
pub(crate) struct ClientGuard {
    number: u64,
    _shard_local: PhantomData<Rc<()>>,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        CLIENTS.with_borrow_mut(|registry| {
            if let Some(entry) = registry.entries.remove(&self.number)
                && let Some(count) = registry.count(&entry)
            {
                count.set(count.get().saturating_sub(1));
            }
        });
    }
}

impl ShardCtx {
    /// Lists `conn` as a client that publishes or plays `key` over
    /// `protocol` (`"rtmp"`, `"http-flv"`) until the guard is dropped.
    ///
    /// The guard must be dropped before `conn` is, or in the same
    /// synchronous step (no `await` between): the registry keeps the
    /// socket's descriptor to read `TCP_INFO` and to kick, and only a
    /// guard that dies with its connection guarantees the descriptor is
    /// never one the kernel has reused for another socket.
    fn register_client(
        &self,
        conn: &Connection,
        protocol: &'static str,
        role: Role,
        key: &StreamKey,
    ) -> ClientGuard {
        let entry = Entry {
            peer: conn.peer_addr(),
            protocol,
            role,
            key: key.clone(),
            connected_at: Instant::now(),
            fd: conn.raw_fd(),
        };
        let number = CLIENTS.with_borrow_mut(|registry| {
            registry.last += 1;
            if let Some(count) = registry.count(&entry) {
                count.set(count.get() + 1);
            }
            registry.entries.insert(registry.last, entry);
            registry.last
        });
        ClientGuard {
            number,
            _shard_local: PhantomData,
        }
    }

    /// [`ShardCtx::register_client`] for a player.
    pub(crate) fn register_player(
        &self,
        conn: &Connection,
        protocol: &'static str,
        key: &StreamKey,
    ) -> ClientGuard {
        self.register_client(conn, protocol, Role::Play, key)
    }

    /// [`ShardCtx::register_client`] for a publisher.
    pub(crate) fn register_publisher(
        &self,
        conn: &Connection,
        protocol: &'static str,
        key: &StreamKey,
    ) -> ClientGuard {
        self.register_client(conn, protocol, Role::Publish, key)
    }
}

/// This shard's live client counts, for its [`ShardStats`](crate::ShardStats).
pub(crate) struct ClientCounts {
    pub(crate) publishers: u64,
    pub(crate) rtmp_players: u64,
    pub(crate) http_flv_players: u64,
}

/// This shard's live client counts.
pub(crate) fn counts() -> ClientCounts {
    CLIENTS.with_borrow(|registry| ClientCounts {
        publishers: registry.publishers.get(),
        rtmp_players: registry.rtmp_players.get(),
        http_flv_players: registry.http_flv_players.get(),
    })
}

/// A client as the API shows it; built on its shard, sent to the one
/// answering the request.
#[derive(Clone, Debug)]
pub(crate) struct ClientReport {
    /// Unique across the process: `number * shards + shard`.
    pub(crate) id: u64,
    pub(crate) shard: usize,
    pub(crate) peer: SocketAddr,
    pub(crate) protocol: &'static str,
    pub(crate) role: Role,
    pub(crate) key: StreamKey,
    pub(crate) connected_secs: f64,
    /// Bytes the peer acknowledged, and bytes received from it, per the
    /// kernel (`None` if `TCP_INFO` could not be read).
    pub(crate) bytes_sent: Option<u64>,
    pub(crate) bytes_received: Option<u64>,
    /// Smoothed round-trip time.
    pub(crate) rtt_micros: Option<u64>,
}

impl ClientReport {
    pub(crate) fn to_json(&self) -> Json {
        Json::Object(vec![
            ("id", self.id.into()),
            ("shard", self.shard.into()),
            ("peer", self.peer.to_string().into()),
            ("protocol", self.protocol.into()),
            ("role", self.role.as_str().into()),
            ("stream", self.key.as_str().into()),
            ("connected_secs", Json::Num(self.connected_secs)),
            ("bytes_sent", Json::opt_int(self.bytes_sent)),
            ("bytes_received", Json::opt_int(self.bytes_received)),
            (
                "rtt_ms",
                Json::opt_num(self.rtt_micros.map(|us| us as f64 / 1000.0)),
            ),
        ])
    }
}

/// The shard a client id lives on.
pub(crate) fn shard_of(id: u64, shards: usize) -> usize {
    (id % shards as u64) as usize
}

fn global_id(ctx: &ShardCtx, number: u64) -> u64 {
    number * ctx.shards() as u64 + ctx.id() as u64
}

fn report(ctx: &ShardCtx, number: u64, entry: &Entry, now: Instant) -> ClientReport {
    let tcp = tcp_info(entry.fd);
    ClientReport {
        id: global_id(ctx, number),
        shard: ctx.id(),
        peer: entry.peer,
        protocol: entry.protocol,
        role: entry.role,
        key: entry.key.clone(),
        connected_secs: now
            .saturating_duration_since(entry.connected_at)
            .as_secs_f64(),
        bytes_sent: tcp.map(|t| t.tcpi_bytes_acked),
        bytes_received: tcp.map(|t| t.tcpi_bytes_received),
        rtt_micros: tcp.map(|t| u64::from(t.tcpi_rtt)),
    }
}

/// Every client of this shard, oldest first.
pub(crate) fn list(ctx: &ShardCtx) -> Vec<ClientReport> {
    let now = Instant::now();
    CLIENTS.with_borrow(|registry| {
        let mut numbers: Vec<u64> = registry.entries.keys().copied().collect();
        numbers.sort_unstable();
        numbers
            .into_iter()
            .map(|n| report(ctx, n, &registry.entries[&n], now))
            .collect()
    })
}

/// Players of each stream on this shard, by protocol: `(key, protocol,
/// count)`.
pub(crate) fn players_by_stream() -> Vec<(StreamKey, &'static str, u64)> {
    CLIENTS.with_borrow(|registry| {
        let mut counts: HashMap<(StreamKey, &'static str), u64> = HashMap::new();
        for entry in registry.entries.values() {
            if entry.role == Role::Play {
                *counts
                    .entry((entry.key.clone(), entry.protocol))
                    .or_default() += 1;
            }
        }
        counts
            .into_iter()
            .map(|((key, protocol), n)| (key, protocol, n))
            .collect()
    })
}

/// Closes client `id` if it is on this shard; returns what it was.
pub(crate) fn kick(ctx: &ShardCtx, id: u64) -> Option<ClientReport> {
    let shards = ctx.shards() as u64;
    if id % shards != ctx.id() as u64 {
        return None;
    }
    let number = id / shards;
    let kicked = CLIENTS.with_borrow(|registry| {
        let entry = registry.entries.get(&number)?;
        let kicked = report(ctx, number, entry, Instant::now());
        shut_down(entry.fd);
        Some(kicked)
    })?;
    bump(&ctx.shard.counters.kicks);
    tracing::info!(
        shard = ctx.id(),
        peer = %kicked.peer,
        protocol = %kicked.protocol,
        key = %kicked.key,
        "api: {} kicked by the admin api (client {id})",
        kicked.role.as_str(),
    );
    Some(kicked)
}

/// Closes every client of this shard that does `role` on `key`; returns
/// how many.
pub(crate) fn kick_stream(ctx: &ShardCtx, key: &StreamKey, role: Role) -> usize {
    let ids: Vec<u64> = CLIENTS.with_borrow(|registry| {
        registry
            .entries
            .iter()
            .filter(|(_, e)| e.role == role && &e.key == key)
            .map(|(&n, _)| global_id(ctx, n))
            .collect()
    });
    ids.into_iter()
        .filter(|&id| kick(ctx, id).is_some())
        .count()
}

/// Shuts both directions of a registered socket down: the driver's read
/// sees end-of-stream and its writes fail, so it ends as if the peer left.
fn shut_down(fd: RawFd) {
    // SAFETY: `fd` is the open socket of a registered connection: entries
    // leave the registry when their guard drops, which happens before (or
    // in the same synchronous step as) the connection closing, and this
    // runs on the connection's own shard thread. `shutdown` neither closes
    // nor frees the descriptor; on error nothing happened.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// The kernel's view of a registered socket.
fn tcp_info(fd: RawFd) -> Option<libc::tcp_info> {
    let mut info = std::mem::MaybeUninit::<libc::tcp_info>::zeroed();
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `fd` is an open socket (see `shut_down`); the kernel writes
    // at most `len` bytes into `info`, which has room for them, and an
    // older kernel writing fewer leaves the rest zeroed, which is a valid
    // `tcp_info` (plain integers).
    let ok = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    } == 0;
    // SAFETY: zero-initialised plain integers, partly filled in by the kernel.
    ok.then(|| unsafe { info.assume_init() })
}

/// `GET /api/v1/clients`: every shard's clients, by shard.
pub(super) async fn list_all(ctx: &ShardCtx) -> Response {
    let limit = ctx.config().request_timeout;
    let shards = ctx
        .call_on_all(limit, |there: ShardCtx| async move { list(&there) })
        .await;
    let clients: Vec<Json> = shards
        .iter()
        .flatten()
        .flatten()
        .map(ClientReport::to_json)
        .collect();
    let body = Json::Object(vec![("clients", Json::Array(clients))]);
    Response::new(200, "application/json", body.to_body())
}

/// `GET /api/v1/clients/{id}`.
pub(super) async fn one(ctx: &ShardCtx, id: u64) -> Response {
    let limit = ctx.config().request_timeout;
    let found = ctx
        .call_on(
            shard_of(id, ctx.shards()),
            limit,
            move |there: ShardCtx| async move { list(&there).into_iter().find(|c| c.id == id) },
        )
        .await;
    match found {
        Some(Some(client)) => Response::new(200, "application/json", client.to_json().to_body()),
        Some(None) => no_client(id),
        None => shard_silent(shard_of(id, ctx.shards())),
    }
}

/// `DELETE /api/v1/clients/{id}`: the client's shard closes its connection.
pub(super) async fn kick_one(ctx: &ShardCtx, id: u64) -> Response {
    let limit = ctx.config().request_timeout;
    let shard = shard_of(id, ctx.shards());
    let kicked = ctx
        .call_on(shard, limit, move |there: ShardCtx| async move {
            kick(&there, id)
        })
        .await;
    match kicked {
        Some(Some(client)) => {
            let body = Json::Object(vec![("kicked", client.to_json())]);
            Response::new(200, "application/json", body.to_body())
        }
        Some(None) => no_client(id),
        None => shard_silent(shard),
    }
}

fn no_client(id: u64) -> Response {
    Response::new(
        404,
        "application/json",
        json::error(&format!("no client {id}")),
    )
}

fn shard_silent(shard: usize) -> Response {
    Response::new(
        503,
        "application/json",
        json::error(&format!("shard {shard} did not answer")),
    )
}
