//! An RTMP client over one of our shard connections: the sans-IO
//! `ClientSession` of `arcly-protocols` driven by reads and writes.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Instant;

use anyhow::Context;
use arcly_protocols::rtmp::{
    ClientConfig, ClientEvent, ClientRole, ClientSession, CloseReason, Output,
};
use arcly_shard::{Connection, ShardCtx};
use bytes::{Bytes, BytesMut};

use crate::target::Target;

/// A connected RTMP client.
pub(crate) struct RtmpClient {
    conn: Connection,
    session: ClientSession,
    buf: BytesMut,
    out: Vec<Bytes>,
    events: VecDeque<ClientEvent>,
}

impl RtmpClient {
    /// Connects to `target` (from `local_ip` when given) and starts the
    /// handshake; publishing or playing starts with [`RtmpClient::start`].
    pub(crate) async fn connect(
        ctx: &ShardCtx,
        target: &Target,
        role: ClientRole,
        local_ip: Option<IpAddr>,
    ) -> anyhow::Result<RtmpClient> {
        let conn = ctx
            .connect(target.addr, local_ip)
            .await
            .with_context(|| format!("connect to {}", target.addr))?;
        let config = ClientConfig::new(role, &target.tc_url, &target.stream);
        Ok(RtmpClient {
            conn,
            session: ClientSession::new(config, Instant::now()),
            buf: BytesMut::with_capacity(64 << 10),
            out: Vec::new(),
            events: VecDeque::new(),
        })
    }

    /// Runs `connect`, `createStream` and `publish`/`play` until the server
    /// says the stream started; refusals and closes are errors. Events that
    /// came after the start (the first frames) stay queued.
    pub(crate) async fn start(&mut self) -> anyhow::Result<()> {
        loop {
            self.flush().await?;
            while let Some(event) = self.events.pop_front() {
                match event {
                    ClientEvent::Publishing { .. } | ClientEvent::Playing { .. } => return Ok(()),
                    ClientEvent::Status(info) if info.level == "error" => {
                        anyhow::bail!("refused: {}", info.code)
                    }
                    ClientEvent::Closed { reason } => anyhow::bail!("{}", describe(&reason)),
                    _ => {}
                }
            }
            anyhow::ensure!(self.read().await? > 0, "the server closed the connection");
        }
    }

    /// Writes what the session has to send and queues its events.
    pub(crate) async fn flush(&mut self) -> anyhow::Result<()> {
        loop {
            match self.session.poll_output() {
                Output::Transmit(bytes) => self.out.push(bytes),
                Output::Event(event) => self.events.push_back(event),
                Output::Timeout(_) => break,
            }
        }
        if !self.out.is_empty() {
            let result = self.conn.write_chunks(&self.out).await;
            self.out.clear();
            result.context("write")?;
        }
        Ok(())
    }

    /// Reads what the socket has (one large read) and feeds the session;
    /// returns the bytes read, 0 when the server closed. Protocol errors
    /// surface as a `Closed` event. Dropping it mid-way loses no bytes.
    pub(crate) async fn read(&mut self) -> anyhow::Result<usize> {
        let n = self.conn.read(&mut self.buf).await.context("read")?;
        if n > 0 {
            let _ = self.session.handle_input(&self.buf, Instant::now());
            self.buf.clear();
        }
        Ok(n)
    }

    /// The next event the session raised, if any (call after
    /// [`RtmpClient::flush`]).
    pub(crate) fn next_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The session, to send tags through.
    pub(crate) fn session(&mut self) -> &mut ClientSession {
        &mut self.session
    }

    /// Stops publishing or playing and closes our side.
    pub(crate) async fn close(mut self) {
        let _ = self.session.close_stream();
        let _ = self.flush().await;
        let _ = self.conn.close_write().await;
    }
}

/// One line for a session's end.
pub(crate) fn describe(reason: &CloseReason) -> String {
    match reason {
        CloseReason::Error(e) => format!("rtmp: {e}"),
        CloseReason::Rejected { code } => format!("rejected: {code}"),
    }
}
