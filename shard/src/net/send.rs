//! Writing to a socket without waiting: what the shard's fan-out uses to
//! put a frame on every caught-up viewer's socket from one task.
//!
//! The bytes go out with one `sendmsg` over the shared encoded parts (no
//! gathering copy); whatever the socket does not take is left for the
//! viewer's own task, which waits for the socket as usual.

use std::io;
use std::os::fd::RawFd;

use bytes::Bytes;

/// The parts one `sendmsg` carries at most; the rest go in the next call.
const IOVECS_PER_CALL: usize = 64;

/// Sends as much of `parts`, in order, as the socket takes now. Returns the
/// bytes sent: all of them, or fewer when the socket's buffer filled up (0
/// if it was full already). Never waits and never raises `SIGPIPE`.
///
/// `fd` must be an open, connected stream socket for the whole call.
pub(crate) fn send_now(fd: RawFd, parts: &[Bytes]) -> io::Result<usize> {
    let mut sent = 0;
    let mut rest = parts;
    while !rest.is_empty() {
        let batch = &rest[..rest.len().min(IOVECS_PER_CALL)];
        let wanted: usize = batch.iter().map(Bytes::len).sum();
        let n = send_batch(fd, batch)?;
        sent += n;
        if n < wanted {
            break;
        }
        rest = &rest[batch.len()..];
    }
    Ok(sent)
}

/// One `sendmsg` of up to [`IOVECS_PER_CALL`] parts.
fn send_batch(fd: RawFd, parts: &[Bytes]) -> io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; IOVECS_PER_CALL];
    for (slot, part) in iov.iter_mut().zip(parts) {
        slot.iov_base = part.as_ptr().cast_mut().cast();
        slot.iov_len = part.len();
    }
    // SAFETY: a zeroed `msghdr` is valid (no name, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = parts.len().min(IOVECS_PER_CALL) as _;
    loop {
        // SAFETY: every iovec points into a live `Bytes` borrowed for the
        // call, which the kernel only reads; `fd` is an open socket (the
        // caller's contract).
        let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// What is left of `parts` after the first `sent` bytes went out.
pub(crate) fn unsent(parts: Vec<Bytes>, mut sent: usize) -> Vec<Bytes> {
    let mut rest = Vec::with_capacity(parts.len());
    for part in parts {
        if sent >= part.len() {
            sent -= part.len();
        } else {
            rest.push(part.slice(sent..));
            sent = 0;
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn what_is_left_starts_mid_part() {
        let parts = vec![Bytes::from_static(b"abc"), Bytes::from_static(b"defg")];
        assert_eq!(unsent(parts.clone(), 0), parts);
        assert_eq!(unsent(parts.clone(), 3), vec![Bytes::from_static(b"defg")]);
        assert_eq!(unsent(parts.clone(), 5), vec![Bytes::from_static(b"fg")]);
        assert!(unsent(parts, 7).is_empty());
    }

    #[test]
    fn sends_many_parts_in_order_until_the_socket_is_full() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut reader, _) = listener.accept().unwrap();
        // More parts than one call carries.
        let parts: Vec<Bytes> = (0..200u8).map(|i| Bytes::from(vec![i; 10])).collect();
        assert_eq!(send_now(writer.as_raw_fd(), &parts).unwrap(), 2000);
        let mut got = vec![0; 2000];
        reader.read_exact(&mut got).unwrap();
        assert_eq!(got, parts.concat());
        // Nobody reads: the socket fills and a send takes what fits.
        let big = vec![Bytes::from(vec![0u8; 1 << 20])];
        let mut total = 0;
        loop {
            let n = send_now(writer.as_raw_fd(), &big).unwrap();
            total += n;
            if n < big[0].len() {
                break;
            }
        }
        assert!(total > 0);
        assert_eq!(send_now(writer.as_raw_fd(), &big).unwrap(), 0);
    }
}
