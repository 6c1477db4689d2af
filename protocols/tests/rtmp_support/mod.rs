//! Helpers the RTMP tests share: driving sessions in memory on a virtual
//! clock, and the FLV file ffmpeg wrote.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use arcly_engine::MediaFrame;
use arcly_media::flv::{FlvReader, FlvTag};
use arcly_protocols::rtmp::{
    ClientConfig, ClientEvent, ClientRole, ClientSession, Output, ServerConfig, ServerSession,
    SessionError, SessionEvent,
};
use bytes::{Bytes, BytesMut};

/// 4 s of H.264 + AAC as ffmpeg writes FLV (see media/tests/data/README.md).
pub const FLV_FILE: &[u8] = include_bytes!("../../../media/tests/data/ffmpeg_h264_aac.flv");

/// The tags of [`FLV_FILE`].
pub fn flv_tags() -> Vec<FlvTag> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::from(FLV_FILE);
    let mut tags = Vec::new();
    while let Some(tag) = reader.feed(&mut buf).unwrap() {
        tags.push(tag);
    }
    tags
}

/// The frames of [`FLV_FILE`], as the FLV decoders read them.
pub fn flv_frames() -> Vec<MediaFrame> {
    flv_tags()
        .iter()
        .filter_map(|tag| tag.decode_frame().unwrap())
        .collect()
}

/// Everything a server session has to say right now.
#[derive(Debug, Default)]
pub struct ServerOutput {
    pub bytes: Vec<u8>,
    pub events: Vec<SessionEvent>,
    pub deadline: Option<Instant>,
}

/// Polls `server` until `Timeout`.
pub fn drain_server(server: &mut ServerSession) -> ServerOutput {
    let mut out = ServerOutput::default();
    loop {
        match server.poll_output() {
            Output::Transmit(bytes) => out.bytes.extend_from_slice(&bytes),
            Output::Event(event) => out.events.push(event),
            Output::Timeout(deadline) => {
                out.deadline = Some(deadline);
                return out;
            }
        }
    }
}

/// What the test does with each request the server raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decisions {
    /// Accept connect, publish and play at once.
    AcceptAll,
    /// Leave them pending.
    Wait,
}

/// Feeds `input` to a fresh server in pieces of `piece` bytes, accepting
/// every request, and returns every event (frames included) and the
/// first error.
pub fn replay(input: &[u8], piece: usize) -> (Vec<SessionEvent>, Option<SessionError>) {
    let now = Instant::now();
    let mut server = ServerSession::new(ServerConfig::default(), now);
    let mut events = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        if let Err(error) = server.handle_input(chunk, now) {
            events.extend(drain_and_decide(&mut server, Decisions::AcceptAll));
            return (events, Some(error));
        }
        events.extend(drain_and_decide(&mut server, Decisions::AcceptAll));
    }
    (events, None)
}

/// Drains `server`, answering requests as `decisions` says, until it has
/// nothing more to say.
pub fn drain_and_decide(server: &mut ServerSession, decisions: Decisions) -> Vec<SessionEvent> {
    let mut events = Vec::new();
    loop {
        let out = drain_server(server);
        let mut decided = false;
        for event in &out.events {
            if decisions == Decisions::AcceptAll {
                let answer = match event {
                    SessionEvent::Connected { .. } => Some(server.accept_connect()),
                    SessionEvent::PublishRequested { .. } => Some(server.accept_publish()),
                    SessionEvent::PlayRequested { .. } => Some(server.accept_play()),
                    _ => None,
                };
                // An answer reads on; bytes after the request may be bad,
                // and then the session closes, which the next drain shows.
                if answer.is_some() {
                    decided = true;
                }
            }
        }
        events.extend(out.events);
        if !decided {
            return events;
        }
    }
}

/// A client and a server joined by memory, on a virtual clock.
pub struct Pair {
    pub client: ClientSession,
    pub server: ServerSession,
    pub now: Instant,
    pub decisions: Decisions,
    pub client_events: Vec<ClientEvent>,
    pub server_events: Vec<SessionEvent>,
    /// Bytes the server sent, in order, as the client got them.
    pub to_client: Vec<u8>,
}

impl Pair {
    pub fn new(role: ClientRole, stream: &str) -> Pair {
        let now = Instant::now();
        let config = ClientConfig::new(role, "rtmp://127.0.0.1:1935/live", stream);
        Pair {
            client: ClientSession::new(config, now),
            server: ServerSession::new(ServerConfig::default(), now),
            now,
            decisions: Decisions::AcceptAll,
            client_events: Vec::new(),
            server_events: Vec::new(),
            to_client: Vec::new(),
        }
    }

    /// Moves bytes both ways and answers requests until both sides are
    /// quiet.
    pub fn run(&mut self) {
        loop {
            let mut moved = false;
            loop {
                match self.client.poll_output() {
                    Output::Transmit(bytes) => {
                        moved = true;
                        let _ = self.server.handle_input(&bytes, self.now);
                    }
                    Output::Event(event) => self.client_events.push(event),
                    Output::Timeout(_) => break,
                }
            }
            let events = drain_and_decide_into(self);
            moved |= events;
            if !moved {
                return;
            }
        }
    }

    /// Advances the virtual clock and fires both sides' timers.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        let _ = self.server.handle_timeout(self.now);
        let _ = self.client.handle_timeout(self.now);
        self.run();
    }

    /// Feeds bytes built by the server side's driver (egress) to the
    /// client.
    pub fn deliver(&mut self, bytes: &Bytes) {
        self.to_client.extend_from_slice(bytes);
        self.client.handle_input(bytes, self.now).unwrap();
        self.run();
    }

    /// The frames the server raised.
    pub fn server_frames(&self) -> Vec<MediaFrame> {
        self.server_events
            .iter()
            .filter_map(|event| match event {
                SessionEvent::Frame(frame) => Some(frame.clone()),
                _ => None,
            })
            .collect()
    }

    /// The frames the client raised.
    pub fn client_frames(&self) -> Vec<MediaFrame> {
        self.client_events
            .iter()
            .filter_map(|event| match event {
                ClientEvent::Frame(frame) => Some(frame.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Drains the server into the pair; returns whether any bytes moved.
fn drain_and_decide_into(pair: &mut Pair) -> bool {
    let mut moved = false;
    loop {
        let out = drain_server(&mut pair.server);
        if !out.bytes.is_empty() {
            moved = true;
            pair.to_client.extend_from_slice(&out.bytes);
            let _ = pair.client.handle_input(&out.bytes, pair.now);
        }
        let mut decided = false;
        for event in &out.events {
            if pair.decisions == Decisions::AcceptAll {
                let answer = match event {
                    SessionEvent::Connected { .. } => Some(pair.server.accept_connect()),
                    SessionEvent::PublishRequested { .. } => Some(pair.server.accept_publish()),
                    SessionEvent::PlayRequested { .. } => Some(pair.server.accept_play()),
                    _ => None,
                };
                // An answer reads on; bytes after the request may be bad,
                // and then the session closes, which the next drain shows.
                if answer.is_some() {
                    decided = true;
                }
            }
        }
        pair.server_events.extend(out.events);
        if !decided && out.bytes.is_empty() {
            return moved;
        }
    }
}
