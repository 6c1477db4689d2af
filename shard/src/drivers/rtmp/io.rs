//! A server session joined to its connection: writes what the session
//! transmits, reads input for it, and fires its timers.

use std::collections::VecDeque;
use std::time::Instant;

use arcly_protocols::rtmp::{Output, ServerSession, SessionEvent};
use futures_lite::future;

use super::ending::Ending;
use crate::{Connection, ShardCtx, task};

/// One RTMP connection and its sans-IO session.
///
/// Kept small, as every stage of a connection's task holds it by value
/// (often twice, as a parameter and as a local): the session lives on the
/// heap, and input is parsed straight out of the shard's read buffer, so a
/// connection holds no buffer of its own between reads.
pub(super) struct SessionIo {
    pub(super) conn: Connection,
    pub(super) session: Box<ServerSession>,
    events: VecDeque<SessionEvent>,
    deadline: Instant,
}

impl SessionIo {
    pub(super) fn new(conn: Connection, session: Box<ServerSession>) -> SessionIo {
        SessionIo {
            conn,
            session,
            events: VecDeque::new(),
            deadline: Instant::now(),
        }
    }

    /// Takes everything the session has to say: writes its bytes, keeps
    /// its events for [`SessionIo::next_event`] and its next deadline.
    /// The session keeps all its output in one buffer, so this is one
    /// write at most.
    pub(super) async fn flush(&mut self) -> Result<(), Ending> {
        loop {
            match self.session.poll_output() {
                Output::Transmit(bytes) => self.conn.write_all(&bytes).await.map_err(Ending::Io)?,
                Output::Event(event) => self.events.push_back(event),
                Output::Timeout(at) => {
                    self.deadline = at;
                    return Ok(());
                }
            }
        }
    }

    /// The next event, reading input and firing timers until there is one.
    pub(super) async fn next_event(&mut self, ctx: &ShardCtx) -> Result<SessionEvent, Ending> {
        loop {
            self.flush().await?;
            if let Some(event) = self.pop_event() {
                return Ok(event);
            }
            self.read_input(ctx).await?;
        }
    }

    /// An event already taken from the session, if any (after
    /// [`SessionIo::read_input`] and [`SessionIo::flush`]).
    ///
    /// The queue's buffer is freed as it runs dry, unless the client
    /// publishes (then frames refill it on every read): a player takes a
    /// handful of events in its life and would keep half a KiB for them.
    pub(super) fn pop_event(&mut self) -> Option<SessionEvent> {
        let event = self.events.pop_front();
        if self.events.is_empty() && self.session.publishing_stream_id().is_none() {
            self.events = VecDeque::new();
        }
        event
    }

    /// Waits for input, the session's deadline or the shard stopping, and
    /// feeds the session. Dropping it mid-way loses nothing.
    pub(super) async fn read_input(&mut self, ctx: &ShardCtx) -> Result<(), Ending> {
        let limit = self.deadline.saturating_duration_since(Instant::now());
        enum Woken {
            Read(Option<std::io::Result<Option<()>>>),
            Stopping,
        }
        let read = async {
            let session = &mut self.session;
            let feed = |bytes: &[u8]| {
                // An error has queued `Closed`, which the caller will see.
                let _ = session.handle_input(bytes, Instant::now());
            };
            Woken::Read(task::timeout(limit, self.conn.read_with(feed)).await)
        };
        let stop = async {
            ctx.stopping().await;
            Woken::Stopping
        };
        match future::or(read, stop).await {
            Woken::Read(Some(Ok(Some(())))) => Ok(()),
            Woken::Read(Some(Ok(None))) => Err(Ending::PeerClosed),
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

    /// Splits into the connection and the session (which holds any input
    /// not yet parsed), for a hand-off; only valid when no event waits.
    pub(super) fn into_parts(self) -> (Connection, Box<ServerSession>) {
        debug_assert!(self.events.is_empty());
        (self.conn, self.session)
    }
}
