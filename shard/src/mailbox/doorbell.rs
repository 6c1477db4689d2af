//! The doorbell: how another thread wakes a parked shard.
//!
//! A shard that finds all its inbound queues empty *arms* its doorbell and
//! waits for a byte on one end of a Unix socket pair, with the read going
//! through its own io_uring like any other socket. A sender that pushes into
//! one of the shard's queues then *rings*: only if the bell was armed (one
//! atomic swap) does it write one byte to the other end, which completes the
//! shard's pending read and wakes it. While the shard is awake and draining,
//! senders see the bell disarmed and make no system call at all. So a burst
//! of batches from any number of peers costs at most one wake, and a busy
//! shard costs its peers nothing.
//!
//! The ordering argument (a Dekker pair): the shard stores `armed = true`,
//! fences, then looks at its queues; a sender pushes, fences, then swaps
//! `armed` to false. At least one of them sees the other's write, so either
//! the shard finds the message before it sleeps or the sender rings.

use std::io;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::atomic::{AtomicBool, Ordering, fence};

use futures_lite::AsyncReadExt;
use socket2::{Domain, Socket, Type};

/// The sending side of one shard's doorbell, shared by every thread that can
/// put a message in that shard's queues.
#[derive(Debug)]
pub(crate) struct Doorbell {
    /// Whether the shard is (about to be) asleep waiting for a ring.
    armed: AtomicBool,
    /// Our end of the socket pair; non-blocking, so ringing never blocks.
    bell: Socket,
}

/// The shard's side of its doorbell; lives on the shard's thread.
pub(crate) struct DoorbellReceiver {
    /// The other end of the pair, read through glommio.
    stream: glommio::net::UnixStream,
}

/// The receiving end before it is attached to an executor (it is `Send`).
#[derive(Debug)]
pub(crate) struct DoorbellEnd(Socket);

impl Doorbell {
    /// Creates a doorbell and the end its shard will listen on.
    pub(crate) fn new() -> io::Result<(Doorbell, DoorbellEnd)> {
        let (bell, end) = Socket::pair(Domain::UNIX, Type::STREAM.cloexec(), None)?;
        bell.set_nonblocking(true)?;
        end.set_nonblocking(true)?;
        Ok((
            Doorbell {
                armed: AtomicBool::new(false),
                bell,
            },
            DoorbellEnd(end),
        ))
    }

    /// Wakes the shard if it is parked; call after pushing into one of its
    /// queues. Returns whether a wake-up was actually sent.
    pub(crate) fn ring(&self) -> bool {
        fence(Ordering::SeqCst);
        if !self.armed.swap(false, Ordering::SeqCst) {
            return false;
        }
        // A full socket buffer (`EAGAIN`) means unread rings are already
        // waiting, and a closed peer means the shard is gone: neither needs
        // another byte, so the result is deliberately not an error.
        let _ = self
            .bell
            .send_with_flags(&[1], libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT);
        true
    }

    /// Marks the shard as about to park. The caller must look at its queues
    /// once more afterwards and [`Doorbell::disarm`] if it finds work.
    pub(crate) fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Marks the shard as awake again.
    pub(crate) fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }
}

impl DoorbellEnd {
    /// Attaches the end to the calling shard's executor.
    pub(crate) fn attach(self) -> DoorbellReceiver {
        let fd = self.0.into_raw_fd();
        // SAFETY: `fd` was just released by `into_raw_fd`, so it is an open
        // socket that nothing else owns; the glommio stream takes ownership.
        let stream = unsafe { glommio::net::UnixStream::from_raw_fd(fd) };
        DoorbellReceiver { stream }
    }
}

impl DoorbellReceiver {
    /// Waits until the doorbell rings (the caller armed it). Rings that came
    /// in while the shard was awake are consumed together.
    pub(crate) async fn wait(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 64];
        match self.stream.read(&mut buf).await? {
            0 => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "doorbell closed",
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_only_when_armed_and_once() {
        let (bell, DoorbellEnd(end)) = Doorbell::new().unwrap();
        assert!(!bell.ring(), "not armed: no wake");
        bell.arm();
        assert!(bell.ring());
        assert!(!bell.ring(), "the first ring disarms");
        let mut buf = [std::mem::MaybeUninit::new(0u8); 8];
        assert_eq!(end.recv(&mut buf).unwrap(), 1, "exactly one byte written");
        bell.arm();
        bell.disarm();
        assert!(!bell.ring());
    }
}
