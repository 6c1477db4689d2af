//! Outbound TCP connections opened by a shard (the load harness's
//! publishers and players today; edge pulls from an origin later).
//!
//! The socket is made with socket2 so that it can be bound to a chosen
//! source address first: a load generator spreads its connections over
//! `127.0.0.x` so that one destination port is not limited to one address's
//! ephemeral ports. The connect itself never blocks the shard: it is
//! started non-blocking and completed through glommio, whose first send on
//! a connecting socket waits for the socket to become writable.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};

use futures_lite::AsyncWriteExt;
use glommio::net::TcpStream;
use socket2::{Domain, Protocol, Socket, Type};

use super::connection::Connection;
use super::listener::ListenerId;
use crate::ShardCtx;

impl ShardCtx {
    /// Opens a TCP connection to `remote` from this shard, from `local_ip`
    /// (any free port) when given, and returns it once established.
    ///
    /// Waits as long as the kernel keeps retrying the handshake (a server
    /// whose listen backlog is full drops SYNs, and Linux retries for about
    /// two minutes); callers that want a bound race it against
    /// [`ShardCtx::sleep`]. The connection has `TCP_NODELAY` set and
    /// [`ListenerId::OUTBOUND`] as its listener, so it cannot be handed to
    /// another shard's protocol handler.
    pub async fn connect(
        &self,
        remote: SocketAddr,
        local_ip: Option<IpAddr>,
    ) -> io::Result<Connection> {
        let socket = Socket::new(
            Domain::for_address(remote),
            Type::STREAM.cloexec(),
            Some(Protocol::TCP),
        )?;
        if let Some(ip) = local_ip {
            if ip.is_ipv4() {
                bind_address_no_port(&socket)?;
            }
            socket.bind(&SocketAddr::new(ip, 0).into())?;
        }
        socket.set_nonblocking(true)?;
        match socket.connect(&remote.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        // glommio reads and writes with MSG_DONTWAIT and io_uring polls, so
        // the descriptor's own mode does not matter; leave it blocking like
        // every accepted socket.
        socket.set_nonblocking(false)?;
        // SAFETY: `into_raw_fd` releases a socket nothing else owns; the
        // glommio stream takes ownership and closes it.
        let mut stream = unsafe { TcpStream::from_raw_fd(socket.into_raw_fd()) };
        // A send on a socket still in SYN_SENT fails with EAGAIN, so glommio
        // polls for POLLOUT: this returns once the handshake completed, or
        // with the error that ended it (connection refused, timed out).
        stream.write(&[]).await?;
        Connection::accepted(stream, ListenerId::OUTBOUND)
    }
}

/// Defers the choice of the local port from `bind` to `connect`
/// (`IP_BIND_ADDRESS_NO_PORT`), so a bound source address gets a port per
/// destination rather than one out of its ephemeral range for all of them.
fn bind_address_no_port(socket: &Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `socket` is an open descriptor, and the option value is a
    // live `c_int` whose size is passed along.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use bytes::BytesMut;

    use crate::{Runtime, RuntimeConfig, ShardCtx};

    #[test]
    fn connects_from_a_chosen_loopback_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let remote = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut socket, peer) = listener.accept().unwrap();
            let mut byte = [0u8; 1];
            socket.read_exact(&mut byte).unwrap();
            socket.write_all(&[byte[0] + 1]).unwrap();
            peer
        });
        let runtime = Runtime::start(RuntimeConfig::local(1)).unwrap();
        let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 7));
        let answer = runtime
            .spawn_on(0, move |ctx: ShardCtx| async move {
                let mut conn = ctx.connect(remote, Some(local)).await?;
                conn.write_all(&[41]).await?;
                let mut buf = BytesMut::new();
                conn.read(&mut buf).await?;
                Ok::<_, std::io::Error>((conn.peer_addr(), buf.to_vec()))
            })
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(answer, (remote, vec![42]));
        assert_eq!(server.join().unwrap().ip(), local);
        runtime.shutdown();
        runtime.join().unwrap();
    }

    #[test]
    fn a_refused_connection_is_an_error() {
        // Bind, learn the port, close: nothing listens there now.
        let remote = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let runtime = Runtime::start(RuntimeConfig::local(1)).unwrap();
        let result = runtime
            .spawn_on(0, move |ctx: ShardCtx| async move {
                ctx.connect(remote, None)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.kind())
            })
            .join()
            .unwrap();
        assert_eq!(result, Err(std::io::ErrorKind::ConnectionRefused));
        runtime.shutdown();
        runtime.join().unwrap();
    }
}
