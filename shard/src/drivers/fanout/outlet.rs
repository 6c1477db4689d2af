//! One viewer's side of the fan-out: its subscription, its batch, and who
//! writes its bytes right now — the shard's fan-out task, or the viewer's
//! own task when the socket is full or the stream stops for it.

use std::cell::RefCell;
use std::future::poll_fn;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

use bytes::Bytes;

use super::Framing;
use super::group::Group;
use super::run::Runs;
use crate::drivers::batch::{Batch, Stop};
use crate::net::send::{send_now, unsent};
use crate::{Connection, Subscription};

/// What the viewer's task is handed: bytes the socket did not take, to
/// write (waiting for the socket) before anything else, and why the
/// viewer's stream stops after them, if it does.
#[derive(Debug)]
pub(crate) struct Handover {
    /// Bytes to write first, in order.
    pub(crate) unsent: Vec<Bytes>,
    /// The end of the viewer's stream; `None`: call [`Outlet::resume`]
    /// once `unsent` is written.
    pub(crate) stop: Option<Stop>,
}

/// Who writes the viewer's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writer {
    /// The fan-out task, straight to the socket.
    FanOut,
    /// The viewer's task, writing its own output (an RTMP control
    /// message); media waits.
    Held,
    /// The viewer's task, with a [`Handover`].
    Task,
}

/// What serving a viewer did.
pub(super) struct Served {
    /// Until when serving it again does nothing (its merge window).
    pub(super) rest_until: Option<Instant>,
    /// Whether bytes went to its socket.
    pub(super) wrote: bool,
}

/// What a viewer takes from the walk's run.
enum FromRun {
    /// This write.
    Write(Bytes),
    /// Nothing yet: the write would not be due.
    Wait,
    /// Nothing: it gathers its own frames.
    Gather,
}

/// The state the fan-out task and the viewer's task share.
pub(super) struct Viewer {
    /// The socket; valid while the [`Outlet`] lives (its owner keeps the
    /// connection longer than the outlet).
    fd: RawFd,
    subscription: Subscription,
    batch: Batch,
    framing: Framing,
    writer: Writer,
    /// Waiting for the viewer's task.
    handover: Option<Handover>,
    /// The viewer's task, while it waits for a handover.
    task: Option<Waker>,
    /// Bytes written straight to the socket.
    sent: u64,
}

impl Viewer {
    /// Takes every frame ready for the viewer and writes what is due at
    /// `now`, as far as the socket takes it without waiting; hands over to
    /// the viewer's task when it does not, or when the stream stops.
    pub(super) fn serve(&mut self, now: Instant, runs: &mut Runs<'_>) -> Served {
        let sent = self.sent;
        self.serve_now(now, runs);
        Served {
            rest_until: self.batch.window_end(),
            wrote: self.sent != sent,
        }
    }

    fn serve_now(&mut self, now: Instant, runs: &mut Runs<'_>) {
        if self.writer != Writer::FanOut || self.batch.in_window(now) {
            return;
        }
        match self.take_run(now, runs) {
            FromRun::Write(bytes) => {
                let parts = self.framing.frame(vec![bytes], false);
                self.write(parts);
                return;
            }
            FromRun::Wait => return,
            FromRun::Gather => {}
        }
        self.serve_gathered(now);
    }

    /// A steady viewer with nothing gathered takes the tail of the walk's
    /// run at its place, if that write is due.
    fn take_run(&mut self, now: Instant, runs: &mut Runs<'_>) -> FromRun {
        if self.batch.size() > 0 {
            return FromRun::Gather;
        }
        let Some(at) = self.subscription.steady_next() else {
            return FromRun::Gather;
        };
        let Some(tail) = runs.tail(self.batch.encoder(), at) else {
            return FromRun::Gather;
        };
        if tail.bytes.is_empty() {
            // Past the run: the stream moved on since, or ended.
            return FromRun::Gather;
        }
        if !self.batch.would_be_due(tail.waiting, now) {
            // Its frames wait in the stream, as in a merge window.
            return FromRun::Wait;
        }
        if !self
            .subscription
            .advance(at, tail.to, tail.payload, tail.keyframes)
        {
            return FromRun::Gather;
        }
        self.batch.wrote(now);
        FromRun::Write(tail.bytes)
    }

    /// Gathers the viewer's frames one by one into its batch and writes
    /// what is due: for viewers not steady (joining, skipping, lagging) or
    /// not where a run is.
    fn serve_gathered(&mut self, now: Instant) {
        while self.writer == Writer::FanOut {
            if self.batch.in_window(now) {
                // Its frames wait in the stream (which judges lag by them)
                // and are gathered once, when the window has closed.
                return;
            }
            if let Err(stop) = self.gather() {
                let last = self.framing.frame(self.batch.take(now), true);
                self.hand_over(last, Some(stop));
                return;
            }
            if !self.batch.is_due(now) {
                return;
            }
            let full = self.batch.is_full();
            let parts = self.framing.frame(self.batch.take(now), false);
            if !self.write(parts) || !full {
                return;
            }
        }
    }

    /// Writes `parts` as far as the socket takes them now, handing the
    /// rest to the viewer's task; returns whether all went.
    fn write(&mut self, parts: Vec<Bytes>) -> bool {
        let len: usize = parts.iter().map(Bytes::len).sum();
        match send_now(self.fd, &parts) {
            Ok(n) => {
                self.sent += n as u64;
                if n < len {
                    self.subscription.count_slow_write();
                    let rest = unsent(parts, n);
                    self.subscription.set_queued_bytes(len - n);
                    self.hand_over(rest, None);
                    return false;
                }
                self.subscription.set_queued_bytes(0);
                true
            }
            Err(e) => {
                self.hand_over(Vec::new(), Some(Stop::Write(e)));
                false
            }
        }
    }

    /// Adds every ready event to the batch, up to one write's worth.
    fn gather(&mut self) -> Result<(), Stop> {
        while !self.batch.is_full() {
            match self.subscription.try_next() {
                Some(event) => self.batch.push(event)?,
                None => break,
            }
        }
        self.subscription.set_queued_bytes(self.batch.size());
        Ok(())
    }

    fn hand_over(&mut self, unsent: Vec<Bytes>, stop: Option<Stop>) {
        self.writer = Writer::Task;
        self.handover = Some(Handover { unsent, stop });
        if let Some(task) = self.task.take() {
            task.wake();
        }
    }
}

/// A viewer served by the shard's fan-out: while the viewer keeps up, one
/// task per stream copy writes each frame to every viewer's socket, so a
/// frame costs each viewer a system call and no task wake-up.
///
/// The viewer's own task waits in [`Outlet::handover`] and writes only
/// what the socket did not take (then [`Outlet::resume`]s) or ends the
/// session when the stream stops for the viewer. Dropping the outlet
/// leaves the stream; drop it before the connection.
pub(crate) struct Outlet {
    viewer: Rc<RefCell<Viewer>>,
    group: Rc<Group>,
    slot: usize,
}

impl Outlet {
    /// Serves `subscription` over `conn`'s socket, encoding frames into
    /// `batch` and wrapping writes in `framing`. The viewer's first write
    /// (configs and GOP) goes out now, as far as the socket takes it, with
    /// `TCP_NODELAY`; then the socket keeps it only if `nodelay` (see
    /// [`TcpNoDelay`](crate::TcpNoDelay)).
    pub(crate) fn open(
        conn: &Connection,
        subscription: Subscription,
        batch: Batch,
        framing: Framing,
        nodelay: bool,
    ) -> Outlet {
        let watch = subscription.watch();
        let viewer = Rc::new(RefCell::new(Viewer {
            fd: conn.raw_fd(),
            subscription,
            batch,
            framing,
            writer: Writer::FanOut,
            handover: None,
            task: None,
            sent: 0,
        }));
        let (group, slot) = Group::join(watch, Rc::clone(&viewer));
        // A socket that refuses the option is served as it is: only the
        // cost of its segments changes, never what it receives.
        let _ = conn.set_nodelay(true);
        viewer
            .borrow_mut()
            .serve_now(Instant::now(), &mut Runs::none());
        if !nodelay {
            let _ = conn.set_nodelay(false);
        }
        Outlet {
            viewer,
            group,
            slot,
        }
    }

    /// Waits until the viewer's task has something to do.
    pub(crate) async fn handover(&self) -> Handover {
        poll_fn(|cx| {
            let mut viewer = self.viewer.borrow_mut();
            match viewer.handover.take() {
                Some(handover) => Poll::Ready(handover),
                None => {
                    if !viewer
                        .task
                        .as_ref()
                        .is_some_and(|w| w.will_wake(cx.waker()))
                    {
                        viewer.task = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// After a [`Handover`] without a stop was written: the fan-out takes
    /// over again, starting with whatever arrived meanwhile.
    pub(crate) fn resume(&self) {
        let mut viewer = self.viewer.borrow_mut();
        viewer.subscription.set_queued_bytes(0);
        viewer.writer = Writer::FanOut;
        viewer.serve_now(Instant::now(), &mut Runs::none());
    }

    /// Keeps the fan-out off the socket while the viewer's task writes its
    /// own output, until the guard is dropped.
    pub(crate) fn hold(&self) -> Hold {
        let mut viewer = self.viewer.borrow_mut();
        let held = viewer.writer == Writer::FanOut;
        if held {
            viewer.writer = Writer::Held;
        }
        Hold {
            viewer: held.then(|| Rc::clone(&self.viewer)),
        }
    }

    /// Leaves the stream; returns the bytes the fan-out wrote for the
    /// viewer, for the connection's count.
    pub(crate) fn close(self) -> u64 {
        self.viewer.borrow().sent
    }
}

impl Drop for Outlet {
    fn drop(&mut self) {
        self.group.leave(self.slot);
    }
}

/// From [`Outlet::hold`].
pub(crate) struct Hold {
    viewer: Option<Rc<RefCell<Viewer>>>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(viewer) = &self.viewer {
            let mut viewer = viewer.borrow_mut();
            if viewer.writer == Writer::Held {
                viewer.writer = Writer::FanOut;
                viewer.serve_now(Instant::now(), &mut Runs::none());
            }
        }
    }
}
