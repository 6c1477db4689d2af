//! A TCP connection owned by one shard.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use super::listener::ListenerId;

/// How much a read asks the kernel for at most.
const READ_CHUNK: usize = 64 << 10;

thread_local! {
    /// The shard's read buffer: every read lands here first and is copied
    /// out at once, so no connection keeps a buffer of its own while idle.
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// A connected socket on this shard, with the bytes it brought along.
///
/// A connection that was handed over from another shard first returns the
/// bytes that shard had read but not used, then continues with the socket:
/// the protocol sees every byte once and in order.
pub struct Connection {
    /// The socket.
    stream: TcpStream,
    /// The remote address.
    peer: SocketAddr,
    /// Bytes received before the socket came to this shard, not yet read.
    unread: Bytes,
    /// The listener (protocol) it came through, for hand-offs.
    listener: ListenerId,
    /// Bytes read and written on this shard, for the session log lines:
    /// one addition per system call, never per frame.
    received: u64,
    sent: u64,
}

/// A socket let go of by its shard, ready to travel to another.
pub(crate) struct Released {
    /// The duplicated descriptor.
    pub(crate) fd: OwnedFd,
    /// The remote address.
    pub(crate) peer: SocketAddr,
    /// Bytes received but not yet read by the protocol.
    pub(crate) unread: Bytes,
    /// The listener it came through.
    pub(crate) listener: ListenerId,
}

impl Connection {
    /// Wraps a socket accepted by `listener` on this shard.
    pub(crate) fn accepted(stream: TcpStream, listener: ListenerId) -> io::Result<Connection> {
        let peer = stream.peer_addr()?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            peer,
            unread: Bytes::new(),
            listener,
            received: 0,
            sent: 0,
        })
    }

    /// Rebuilds a connection from a socket another shard (or this one, on a
    /// refused hand-off) let go of. Must run on the shard that will own it.
    pub(crate) fn from_fd(
        fd: OwnedFd,
        peer: SocketAddr,
        unread: Bytes,
        listener: ListenerId,
    ) -> Connection {
        // SAFETY: `into_raw_fd` releases an open socket that nothing else
        // owns or uses (the old stream was dropped after the dup); the new
        // stream takes ownership and closes it.
        let stream = unsafe { TcpStream::from_raw_fd(fd.into_raw_fd()) };
        Connection {
            stream,
            peer,
            unread,
            listener,
            received: 0,
            sent: 0,
        }
    }

    /// Duplicates the socket's descriptor, the first step of a hand-off.
    pub(crate) fn dup_fd(&self) -> io::Result<OwnedFd> {
        // SAFETY: `fcntl(F_DUPFD_CLOEXEC)` on a descriptor we own returns a
        // new descriptor (or -1), which we own from here on.
        let fd = unsafe { libc::fcntl(self.stream.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh, open descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Lets go of the socket so another shard can take it through `fd`
    /// (from [`Connection::dup_fd`]): drops this shard's stream, which has
    /// no read in flight (a read here either completed or was dropped, and
    /// glommio only polls for readiness between reads, so no bytes are
    /// taken off the socket behind our back).
    pub(crate) fn release(self, fd: OwnedFd) -> Released {
        Released {
            fd,
            peer: self.peer,
            unread: self.unread,
            listener: self.listener,
        }
    }

    /// The remote address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The socket's descriptor, for the admin API (`TCP_INFO`, kicks);
    /// valid while the connection lives.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// The listener this connection came through.
    pub fn listener(&self) -> ListenerId {
        self.listener
    }

    /// Bytes read from the peer on this shard (a handed-over connection
    /// counts from the bytes it brought along).
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// Bytes written to the peer on this shard.
    pub fn bytes_sent(&self) -> u64 {
        self.sent
    }

    /// Reads what is available (at least one byte, unless the peer closed)
    /// and appends it to `buf`. Returns how many bytes were appended; 0
    /// means the peer closed its side. Dropping the future mid-way loses no
    /// bytes and leaves `buf` as it was.
    ///
    /// Most connections (players above all) are idle readers that wait far
    /// more than they read, and a waiting read used to hold, and zero, a
    /// 16 KiB buffer per connection. So the wait holds one byte; what else
    /// is ready is then taken in one non-blocking `recv` through a buffer
    /// shared by the whole shard, never held across an `await`.
    pub async fn read(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        let read = self
            .read_with(|bytes| {
                buf.extend_from_slice(bytes);
                bytes.len()
            })
            .await?;
        Ok(read.unwrap_or(0))
    }

    /// [`Connection::read`] for a reader that parses the bytes at once: it
    /// lends them to `take` (at least one byte) and returns its answer,
    /// `None` when the peer closed its side. The bytes stay in the shard's
    /// scratch buffer, so the reader needs no buffer of its own; `take`
    /// must not read from a connection. Dropping the future mid-way loses
    /// no bytes.
    pub async fn read_with<T>(&mut self, take: impl FnOnce(&[u8]) -> T) -> io::Result<Option<T>> {
        if !self.unread.is_empty() {
            let unread = std::mem::take(&mut self.unread);
            self.received += unread.len() as u64;
            return Ok(Some(take(&unread)));
        }
        let mut first = [0u8; 1];
        if self.stream.read(&mut first).await? == 0 {
            return Ok(None);
        }
        SCRATCH.with_borrow_mut(|scratch| {
            scratch[0] = first[0];
            let n = 1 + self.read_ready(&mut scratch[1..])?;
            self.received += n as u64;
            Ok(Some(take(&scratch[..n])))
        })
    }

    /// Fills the front of `buf` with what the socket holds right now,
    /// without waiting: one `recv`. 0 when nothing is ready (or the peer
    /// closed, which the next read reports).
    fn read_ready(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `recv` writes at most `buf.len()` bytes into `buf`, which
        // we borrow mutably, and the descriptor is our open socket.
        let n = unsafe {
            libc::recv(
                self.stream.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(e),
        }
    }

    /// Turns `TCP_NODELAY` on or off (see
    /// [`TcpNoDelay`](crate::TcpNoDelay)); turning it on sends what waits.
    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.stream.set_nodelay(on).map_err(io::Error::from)
    }

    /// Counts `n` bytes written to the socket outside this connection (by
    /// the shard's fan-out, straight to the descriptor).
    pub(crate) fn add_sent(&mut self, n: u64) {
        self.sent += n;
    }

    /// Writes all of `data`.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data).await?;
        self.sent += data.len() as u64;
        Ok(())
    }

    /// Writes the chunks in order (shared encoded frames, for example).
    ///
    /// glommio 0.9 has no vectored write, and a system call per chunk costs
    /// far more than copying a few KiB, so chunks are gathered into one
    /// buffer (up to 256 KiB per write) and written together.
    pub async fn write_chunks(&mut self, chunks: &[Bytes]) -> io::Result<()> {
        if let [only] = chunks {
            return self.write_all(only).await;
        }
        let mut rest = chunks;
        while !rest.is_empty() {
            let mut take = 0;
            let mut len = 0;
            while take < rest.len() && (take == 0 || len + rest[take].len() <= GATHER_LIMIT) {
                len += rest[take].len();
                take += 1;
            }
            let mut gathered = Vec::with_capacity(len);
            for chunk in &rest[..take] {
                gathered.extend_from_slice(chunk);
            }
            self.write_all(&gathered).await?;
            rest = &rest[take..];
        }
        Ok(())
    }

    /// Closes the writing side; the peer reads end-of-stream.
    pub async fn close_write(&mut self) -> io::Result<()> {
        self.stream
            .shutdown(std::net::Shutdown::Write)
            .await
            .map_err(io::Error::from)
    }
}

/// The most bytes [`Connection::write_chunks`] copies into one write.
const GATHER_LIMIT: usize = 256 << 10;
