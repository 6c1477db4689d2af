//! A server session joined to its connection: writes what the session
//! transmits, reads input for it, and fires its timers.

use std::collections::VecDeque;
use std::time::Instant;

use arcly_protocols::rtmp::{Output, ServerSession, SessionEvent};
use bytes::{Bytes, BytesMut};
use futures_lite::future;

use super::ending::Ending;
use crate::{Connection, ShardCtx, task};

/// One RTMP connection and its sans-IO session.
pub(super) struct SessionIo {
    pub(super) conn: Connection,
    pub(super) session: ServerSession,
    buf: BytesMut,
    events: VecDeque<SessionEvent>,
    deadline: Instant,
    out: Vec<Bytes>,
}

impl SessionIo {
    pub(super) fn new(conn: Connection, session: ServerSession) -> SessionIo {
        SessionIo {
            conn,
            session,
            // Grows on the first read that needs it: an idle player holds none.
            buf: BytesMut::new(),
            events: VecDeque::new(),
            deadline: Instant::now(),
            out: Vec::new(),
        }
    }

    /// Takes everything the session has to say: writes its bytes, keeps
    /// its events for [`SessionIo::next_event`] and its next deadline.
    pub(super) async fn flush(&mut self) -> Result<(), Ending> {
        loop {
            match self.session.poll_output() {
                Output::Transmit(bytes) => self.out.push(bytes),
                Output::Event(event) => self.events.push_back(event),
                Output::Timeout(at) => {
                    self.deadline = at;
                    break;
                }
            }
        }
        if !self.out.is_empty() {
            let result = self.conn.write_chunks(&self.out).await;
            self.out.clear();
            result.map_err(Ending::Io)?;
        }
        Ok(())
    }

    /// The next event, reading input and firing timers until there is one.
    pub(super) async fn next_event(&mut self, ctx: &ShardCtx) -> Result<SessionEvent, Ending> {
        loop {
            self.flush().await?;
            if let Some(event) = self.events.pop_front() {
                return Ok(event);
            }
            self.read_input(ctx).await?;
        }
    }

    /// An event already taken from the session, if any (after
    /// [`SessionIo::read_input`] and [`SessionIo::flush`]).
    pub(super) fn pop_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Waits for input, the session's deadline or the shard stopping, and
    /// feeds the session. Dropping it mid-way loses nothing.
    pub(super) async fn read_input(&mut self, ctx: &ShardCtx) -> Result<(), Ending> {
        let limit = self.deadline.saturating_duration_since(Instant::now());
        enum Woken {
            Read(Option<std::io::Result<usize>>),
            Stopping,
        }
        let read = async { Woken::Read(task::timeout(limit, self.conn.read(&mut self.buf)).await) };
        let stop = async {
            ctx.stopping().await;
            Woken::Stopping
        };
        match future::or(read, stop).await {
            Woken::Read(Some(Ok(0))) => Err(Ending::PeerClosed),
            Woken::Read(Some(Ok(_))) => {
                // An error has queued `Closed`, which the caller will see.
                let _ = self.session.handle_input(&self.buf, Instant::now());
                self.buf.clear();
                Ok(())
            }
            Woken::Read(Some(Err(e))) => Err(Ending::Io(e)),
            Woken::Read(None) => {
                let _ = self.session.handle_timeout(Instant::now());
                Ok(())
            }
            Woken::Stopping => Err(Ending::Shutdown),
        }
    }

    /// After a rejection: writes the refusal and waits for the session's
    /// `Closed`.
    pub(super) async fn finish(mut self, ctx: &ShardCtx) -> Ending {
        loop {
            match self.next_event(ctx).await {
                Ok(SessionEvent::Closed { reason }) => return Ending::Closed(reason),
                Ok(_) => {}
                Err(ending) => return ending,
            }
        }
    }

    /// Splits into the connection and the session, for a hand-off; only
    /// valid when no input is buffered and no event waits.
    pub(super) fn into_parts(self) -> (Connection, ServerSession, Bytes) {
        debug_assert!(self.events.is_empty());
        (self.conn, self.session, self.buf.freeze())
    }
}
