//! Listening on a TCP address on every shard at once (`SO_REUSEPORT`: the
//! kernel spreads new connections over the shards), and running a
//! protocol's handler for each connection.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_lite::future;
use glommio::net::TcpListener;
use socket2::{Domain, Protocol, Socket, Type};

use super::connection::Connection;
use crate::stats::bump;
use crate::{Runtime, ShardCtx, ShardError, task};

/// How long an accept loop pauses after an accept error (out of file
/// descriptors, for example) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Pending connections the kernel queues per shard.
const BACKLOG: i32 = 1024;

/// Identifies one listener (one protocol on one address) on every shard,
/// so a connection handed to another shard reaches the same protocol there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

impl ListenerId {
    /// The listener of connections a shard opened itself
    /// ([`ShardCtx::connect`]): no handler is ever installed for it, so
    /// such a connection handed to another shard is closed there.
    pub const OUTBOUND: ListenerId = ListenerId(0);
}

/// How a connection reached the handler.
pub enum Arrival {
    /// This shard accepted it.
    Accepted,
    /// Another shard handed it over, with the protocol's state.
    HandedOff {
        /// The shard that had it.
        from: usize,
        /// Whatever the protocol sent along (its session state).
        state: Box<dyn Any + Send>,
    },
}

/// A protocol's handler on one shard.
type Handler = Rc<dyn Fn(ShardCtx, Connection, Arrival) -> Pin<Box<dyn Future<Output = ()>>>>;

/// The protocol handlers installed on one shard, by listener.
#[derive(Default)]
pub(crate) struct Listeners {
    /// The handlers.
    handlers: RefCell<HashMap<ListenerId, Handler>>,
    /// Accept loops still running.
    accepting: Cell<usize>,
}

impl Listeners {
    /// Starts `handler` on `conn` in a new task, if `id` is installed here;
    /// otherwise the connection is dropped (closed). Returns whether it ran.
    pub(crate) fn serve(
        &self,
        ctx: &ShardCtx,
        id: ListenerId,
        conn: Connection,
        arrival: Arrival,
    ) -> bool {
        let handler = self.handlers.borrow().get(&id).cloned();
        match handler {
            Some(handler) => {
                ctx.spawn(handler(ctx.clone(), conn, arrival)).detach();
                true
            }
            None => false,
        }
    }

    /// Accept loops still running on this shard.
    pub(crate) fn accepting(&self) -> usize {
        self.accepting.get()
    }
}

/// Listener ids, unique in the process (0 is [`ListenerId::OUTBOUND`]).
static NEXT_LISTENER: AtomicU64 = AtomicU64::new(1);

impl Runtime {
    /// Listens on `addr` on every shard with `SO_REUSEPORT`, so the kernel
    /// spreads connections over the shards, and runs `handler` in a new
    /// task on the accepting shard for each connection (and for each
    /// connection handed to a shard with [`ShardCtx::hand_off`]). Port 0
    /// picks a free port, the same for every shard. Returns the address
    /// bound. Blocks until every shard listens; call from a thread that is
    /// not a shard.
    ///
    /// The shards stop accepting when they are asked to stop.
    pub fn listen<A, H, Fut>(&self, addr: A, handler: H) -> Result<SocketAddr, ShardError>
    where
        A: ToSocketAddrs,
        H: Fn(ShardCtx, Connection, Arrival) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let addr = addr
            .to_socket_addrs()
            .map_err(|e| ShardError::io("resolve the listen address", e))?
            .next()
            .ok_or(ShardError::BadConfig(
                "the listen address resolves to nothing",
            ))?;
        let id = ListenerId(NEXT_LISTENER.fetch_add(1, Ordering::Relaxed));
        let first = bind(addr).map_err(|e| ShardError::io("bind the listen address", e))?;
        let bound =
            first
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .ok_or(ShardError::BadConfig(
                    "the bound address is not an inet address",
                ))?;
        let mut sockets = vec![first];
        for _ in 1..self.shards() {
            sockets.push(bind(bound).map_err(|e| ShardError::io("bind the listen address", e))?);
        }
        let handles: Vec<_> = sockets
            .into_iter()
            .enumerate()
            .map(|(shard, socket)| {
                let handler = handler.clone();
                self.spawn_on(shard, move |ctx: ShardCtx| async move {
                    install(&ctx, id, socket, handler)
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()?
                .map_err(|e| ShardError::io("listen on a shard", e))?;
        }
        Ok(bound)
    }
}

/// A listening socket in the `SO_REUSEPORT` group of `addr`.
fn bind(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.cloexec(),
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket)
}

/// Registers the handler on this shard and starts its accept loop.
fn install<H, Fut>(ctx: &ShardCtx, id: ListenerId, socket: Socket, handler: H) -> io::Result<()>
where
    H: Fn(ShardCtx, Connection, Arrival) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let handler: Handler = Rc::new(move |ctx, conn, arrival| Box::pin(handler(ctx, conn, arrival)));
    let fd = socket.into_raw_fd();
    // SAFETY: `into_raw_fd` released a listening socket nothing else owns;
    // the glommio listener takes ownership and closes it.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    let listeners = &ctx.shard.listeners;
    listeners.handlers.borrow_mut().insert(id, handler);
    listeners.accepting.set(listeners.accepting.get() + 1);
    ctx.spawn(accept_loop(ctx.clone(), id, listener, fd))
        .detach();
    Ok(())
}

/// Accepts until the shard stops, then stops the listening socket (`fd`,
/// owned by `listener`).
async fn accept_loop(ctx: ShardCtx, id: ListenerId, listener: TcpListener, fd: RawFd) {
    loop {
        let accepted = future::or(async { Some(listener.accept().await) }, async {
            ctx.stopping().await;
            None
        })
        .await;
        match accepted {
            None => break,
            Some(Ok(stream)) => {
                bump(&ctx.shard.counters.connections_accepted);
                // A connection reset before we could ask its address is
                // simply gone.
                if let Ok(conn) = Connection::accepted(stream, id) {
                    ctx.shard.listeners.serve(&ctx, id, conn, Arrival::Accepted);
                }
            }
            // Out of descriptors, for example: pause rather than spin, and
            // keep accepting.
            Some(Err(_)) => task::sleep(ACCEPT_ERROR_PAUSE).await,
        }
    }
    // Closing alone is not enough: the cancelled io_uring accept keeps the
    // socket alive until the ring processes the cancellation, which a
    // stopping executor may never do. Shutting a listening socket down
    // takes it out of the listening state at once, so new connections are
    // refused from here on.
    // SAFETY: `fd` is the listening socket `listener` owns and has not
    // closed yet; `shutdown` does not close or invalidate it.
    unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
    drop(listener);
    let listeners = &ctx.shard.listeners;
    listeners.accepting.set(listeners.accepting.get() - 1);
}
