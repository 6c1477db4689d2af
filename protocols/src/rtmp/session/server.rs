//! The server session: what encoders publish to and players play from.

mod commands;

use std::collections::VecDeque;
use std::time::Instant;

use arcly_media::flv::{decode_audio, decode_script, decode_video};
use bytes::Bytes;

use super::events::{CloseReason, PlayRejection, PublishRejection, SessionEvent};
use super::link::{Incoming, Link};
use super::{CSID_COMMAND, CSID_CONTROL, Output, later};
use crate::amf0::{Amf0Value, strip_set_data_frame};
use crate::rtmp::caps::ClientCaps;
use crate::rtmp::egress::CSID_DATA;
use crate::rtmp::handshake::{HANDSHAKE_SIZE, HandshakeInfo, ServerHandshake};
use crate::rtmp::message::{AUDIO, DATA_AMF0, Message, UserControl, VIDEO};
use crate::rtmp::status::{self, LEVEL_ERROR, LEVEL_STATUS, info, new_command, on_status};
use crate::rtmp::timestamp::TimestampUnwrapper;
use crate::rtmp::{RtmpLimits, SessionError};

/// Default [`ServerConfig::chunk_size`]: SRS's 60,000. Every message up to
/// that size goes out as one chunk.
pub const DEFAULT_OUT_CHUNK_SIZE: u32 = 60_000;

/// Default [`ServerConfig::window_ack_size`], as nginx-rtmp and SRS send.
pub const DEFAULT_WINDOW_ACK_SIZE: u32 = 2_500_000;

/// `fmsVer` in the `connect` reply: what clients written against FMS 3
/// look for.
const FMS_VERSION: &str = "FMS/3,0,1,123";

/// `capabilities` in the `connect` reply.
const FMS_CAPABILITIES: f64 = 31.0;

/// Set Peer Bandwidth limit type "dynamic".
const LIMIT_DYNAMIC: u8 = 2;

/// How a [`ServerSession`] behaves. The same for every session of a shard,
/// so that egress bytes can be shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Bounds on the connection.
    pub limits: RtmpLimits,
    /// The chunk size the server sends with (Set Chunk Size when `connect`
    /// is accepted). Egress must be encoded with it. 0 is taken as 1 and
    /// values over 2^31 - 1 as 2^31 - 1.
    pub chunk_size: u32,
    /// Window Acknowledgement Size and Set Peer Bandwidth sent when
    /// `connect` is accepted.
    pub window_ack_size: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: RtmpLimits::default(),
            chunk_size: DEFAULT_OUT_CHUNK_SIZE,
            window_ack_size: DEFAULT_WINDOW_ACK_SIZE,
        }
    }
}

/// A request waiting for the driver's answer.
#[derive(Clone, Debug)]
enum Pending {
    Connect {
        transaction_id: f64,
    },
    Publish {
        stream_id: u32,
        name: String,
    },
    Play {
        stream_id: u32,
        name: String,
        reset: bool,
    },
}

/// What the connection does with media.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Idle,
    Publishing { stream_id: u32 },
    Playing { stream_id: u32, name: String },
}

/// The server side of one RTMP connection, sans-IO.
///
/// Bytes and time go in ([`handle_input`](Self::handle_input),
/// [`handle_timeout`](Self::handle_timeout)); bytes to send, events and
/// the next deadline come out of [`poll_output`](Self::poll_output). The
/// driver decides what the engine decides (who may publish or play) and
/// answers with the command methods.
///
/// # Driving it
///
/// 1. Create it when a connection is accepted: [`new`](Self::new).
/// 2. After every read, call [`handle_input`](Self::handle_input); when the
///    last deadline passes, call [`handle_timeout`](Self::handle_timeout).
/// 3. After each of those calls and after each command method, call
///    [`poll_output`](Self::poll_output) until it returns
///    [`Output::Timeout`], which always comes last:
///    - [`Output::Transmit`]: write the bytes whole, in order.
///    - [`Output::Event`]: act on it. [`SessionEvent::Connected`],
///      [`SessionEvent::PublishRequested`] and
///      [`SessionEvent::PlayRequested`] each wait for an answer —
///      [`accept_connect`](Self::accept_connect) or
///      [`reject_connect`](Self::reject_connect), and so on — which may
///      come later (after a hand-off to the stream's owner shard, say); the
///      session reads no further input until then, and buffers at most
///      [`RtmpLimits::max_message_len`] bytes meanwhile.
///    - [`Output::Timeout`]: nothing more for now; wake at that instant.
/// 4. [`SessionEvent::Closed`] is the last event: write what was
///    transmitted before it, close the connection, drop the session. Any
///    `Err` from a call has also queued a `Closed` event, except
///    [`SessionError::InvalidCall`], which leaves the session as it was;
///    input after the close is refused with [`SessionError::Closed`].
///
/// For a player, after [`accept_play`](Self::accept_play), the driver
/// writes metadata, configs, the GOP cache and live frames as
/// [`encode_media`](crate::rtmp::egress::encode_media) bytes shared with
/// every player (chunk size [`out_chunk_size`](Self::out_chunk_size),
/// message stream id from `PlayRequested`), interleaved with this
/// session's transmits at `Bytes` boundaries, and calls
/// [`end_of_stream`](Self::end_of_stream) when the publisher is gone.
///
/// # Timers
///
/// Until `connect` is read, [`RtmpLimits::handshake_timeout`] bounds the
/// connection (a peer trickling the handshake byte by byte is cut off).
/// After that, when nothing has arrived for half of
/// [`RtmpLimits::idle_timeout`] the session sends a Ping Request, which
/// live players answer; at the full idle timeout it closes. A player that
/// reads what the driver writes it counts as heard from
/// ([`handle_peer_reading`](Self::handle_peer_reading)).
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    handshake: ServerHandshake,
    link: Link,
    created: Instant,
    last_input: Instant,
    last_now: Instant,
    /// A Ping Request went out since the last input.
    ping_sent: bool,
    connect_read: bool,
    connected: bool,
    app: String,
    app_query: String,
    caps: ClientCaps,
    pending: Option<Pending>,
    /// Open message stream ids.
    streams: Vec<u32>,
    role: Role,
    events: VecDeque<SessionEvent>,
    /// Audio and video share a timeline; data messages (metadata at 0
    /// while media runs at its own clock) keep their own.
    media_time: TimestampUnwrapper,
    data_time: TimestampUnwrapper,
    closed: bool,
}

impl ServerSession {
    /// A session for a connection accepted at `now`.
    pub fn new(config: ServerConfig, now: Instant) -> ServerSession {
        let config = ServerConfig {
            chunk_size: config
                .chunk_size
                .clamp(1, crate::rtmp::chunk::MAX_CHUNK_SIZE),
            ..config
        };
        ServerSession {
            link: Link::new(config.limits, 1 + 2 * HANDSHAKE_SIZE as u64),
            config,
            handshake: ServerHandshake::new(),
            created: now,
            last_input: now,
            last_now: now,
            ping_sent: false,
            connect_read: false,
            connected: false,
            app: String::new(),
            app_query: String::new(),
            caps: ClientCaps::default(),
            pending: None,
            streams: Vec::new(),
            role: Role::Idle,
            events: VecDeque::new(),
            media_time: TimestampUnwrapper::default(),
            data_time: TimestampUnwrapper::default(),
            closed: false,
        }
    }

    // Getters.

    /// The chunk size of everything this session sends once `connect` is
    /// accepted: the one egress must be encoded with.
    pub fn out_chunk_size(&self) -> u32 {
        self.config.chunk_size
    }

    /// What the client declared it can decode (Enhanced RTMP), once
    /// `connect` has been read.
    pub fn client_caps(&self) -> &ClientCaps {
        &self.caps
    }

    /// What the handshake learned, once C1 has been read.
    pub fn handshake_info(&self) -> Option<HandshakeInfo> {
        self.handshake.info()
    }

    /// The stream the client plays on, once a play was accepted and until
    /// it stops.
    pub fn playing_stream_id(&self) -> Option<u32> {
        match self.role {
            Role::Playing { stream_id, .. } => Some(stream_id),
            _ => None,
        }
    }

    /// The stream the client publishes on, once a publish was accepted and
    /// until it stops.
    pub fn publishing_stream_id(&self) -> Option<u32> {
        match self.role {
            Role::Publishing { stream_id } => Some(stream_id),
            _ => None,
        }
    }

    /// Whether a request waits for the driver's answer.
    pub fn is_awaiting_decision(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    // Inputs.

    /// Takes bytes read from the connection at `now`.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), SessionError> {
        if self.closed {
            return Err(SessionError::Closed);
        }
        self.last_now = now;
        self.last_input = now;
        self.ping_sent = false;
        self.link.push_input(bytes);
        let limit = self.config.limits.max_message_len as usize;
        if self.pending.is_some() && self.link.buffered() > limit {
            let len = self.link.buffered();
            return Err(self.fail(SessionError::InputOverflow { len, limit }));
        }
        self.run()
    }

    /// Tells the session, at `now`, that the peer has just read bytes the
    /// driver sent it outside the session (media from a fan-out). A player
    /// busy reading a backlog is alive even while its answer to a ping
    /// waits behind that backlog, so the idle limit starts over, as after
    /// input. Lag is the stream's business (it skips or evicts the player),
    /// not the idle timer's.
    pub fn handle_peer_reading(&mut self, now: Instant) {
        self.last_now = now;
        self.last_input = now;
        self.ping_sent = false;
    }

    /// Lets the session act on its timers at `now`: closes a connection
    /// whose handshake or idle limit ran out, pings a quiet one.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), SessionError> {
        if self.closed {
            return Ok(());
        }
        self.last_now = now;
        let limits = self.config.limits;
        if !self.connect_read && now >= later(self.created, limits.handshake_timeout) {
            let limit = limits.handshake_timeout;
            return Err(self.fail(SessionError::HandshakeTimeout { limit }));
        }
        if now >= later(self.last_input, limits.idle_timeout) {
            let limit = limits.idle_timeout;
            return Err(self.fail(SessionError::IdleTimeout { limit }));
        }
        if self.ping_deadline().is_some_and(|ping_at| now >= ping_at) {
            self.ping_sent = true;
            // Milliseconds since the connection opened, as FMS sends.
            let elapsed = now.saturating_duration_since(self.created).as_millis() as u32;
            let ping = Message::UserControl(UserControl::PingRequest(elapsed));
            if let Err(error) = self.link.send(CSID_CONTROL, 0, 0, &ping) {
                return Err(self.fail(error));
            }
        }
        Ok(())
    }

    // Commands.

    /// Accepts the pending `connect`: sends Window Acknowledgement Size,
    /// Set Peer Bandwidth, Set Chunk Size and the `_result` with
    /// `NetConnection.Connect.Success` (and Enhanced RTMP capabilities for
    /// a client that declared its own), then reads on.
    pub fn accept_connect(&mut self) -> Result<(), SessionError> {
        let Some(Pending::Connect { transaction_id }) = self.pending else {
            return Err(invalid("accept_connect", "no connect is pending"));
        };
        self.pending = None;
        self.connected = true;
        let window = self.config.window_ack_size;
        let mut properties = vec![
            ("fmsVer".to_owned(), FMS_VERSION.into()),
            ("capabilities".to_owned(), FMS_CAPABILITIES.into()),
            ("mode".to_owned(), 1.0.into()),
        ];
        properties.extend(self.caps.server_reply());
        let mut info = info(
            LEVEL_STATUS,
            status::CONNECT_SUCCESS,
            "Connection succeeded.".to_owned(),
        );
        if let Amf0Value::Object(fields) = &mut info {
            fields.push(("objectEncoding".to_owned(), 0.0.into()));
        }
        let reply = new_command(
            "_result",
            transaction_id,
            Amf0Value::Object(properties),
            vec![info],
        );
        let sent = self
            .link
            .send(CSID_CONTROL, 0, 0, &Message::WindowAckSize(window))
            .and_then(|()| {
                let bandwidth = Message::SetPeerBandwidth {
                    size: window,
                    limit_type: LIMIT_DYNAMIC,
                };
                self.link.send(CSID_CONTROL, 0, 0, &bandwidth)
            })
            .and_then(|()| self.link.set_out_chunk_size(self.config.chunk_size))
            .and_then(|()| self.link.send_command(CSID_COMMAND, 0, reply));
        self.after_command(sent)
    }

    /// Refuses the pending `connect`: sends `_error` with
    /// `NetConnection.Connect.Rejected` and `description`, then closes.
    pub fn reject_connect(&mut self, description: &str) -> Result<(), SessionError> {
        let Some(Pending::Connect { transaction_id }) = self.pending else {
            return Err(invalid("reject_connect", "no connect is pending"));
        };
        self.pending = None;
        let reply = new_command(
            "_error",
            transaction_id,
            Amf0Value::Null,
            vec![info(
                LEVEL_ERROR,
                status::CONNECT_REJECTED,
                description.to_owned(),
            )],
        );
        let sent = self.link.send_command(CSID_COMMAND, 0, reply);
        self.close_rejected(sent, status::CONNECT_REJECTED)
    }

    /// Accepts the pending publish: sends Stream Begin and
    /// `NetStream.Publish.Start`, then reads on; media arrives as
    /// [`SessionEvent::Frame`]s.
    pub fn accept_publish(&mut self) -> Result<(), SessionError> {
        let Some(Pending::Publish { stream_id, name }) = self.pending.take_if(is_publish) else {
            return Err(invalid("accept_publish", "no publish is pending"));
        };
        self.role = Role::Publishing { stream_id };
        let begin = Message::UserControl(UserControl::StreamBegin(stream_id));
        let start = on_status(
            LEVEL_STATUS,
            status::PUBLISH_START,
            format!("{name} is now published."),
        );
        let sent = self
            .link
            .send(CSID_CONTROL, 0, 0, &begin)
            .and_then(|()| self.link.send_command(CSID_DATA, stream_id, start));
        self.after_command(sent)
    }

    /// Refuses the pending publish with the status code of `reason`, then
    /// closes.
    pub fn reject_publish(&mut self, reason: PublishRejection) -> Result<(), SessionError> {
        let Some(Pending::Publish { stream_id, .. }) = self.pending.take_if(is_publish) else {
            return Err(invalid("reject_publish", "no publish is pending"));
        };
        let (code, description) = reason.status();
        let reply = on_status(LEVEL_ERROR, code, description);
        let sent = self.link.send_command(CSID_DATA, stream_id, reply);
        self.close_rejected(sent, code)
    }

    /// Accepts the pending play: sends Stream Begin, `NetStream.Play.Reset`
    /// (if the player asked to reset), `NetStream.Play.Start` and
    /// `|RtmpSampleAccess`, then reads on. The driver then writes egress
    /// bytes.
    pub fn accept_play(&mut self) -> Result<(), SessionError> {
        let Some(Pending::Play {
            stream_id,
            name,
            reset,
        }) = self.pending.take_if(|p| matches!(p, Pending::Play { .. }))
        else {
            return Err(invalid("accept_play", "no play is pending"));
        };
        let sent = self.start_play(stream_id, &name, reset);
        self.role = Role::Playing { stream_id, name };
        self.after_command(sent)
    }

    /// Refuses the pending play with the status code of `reason`, then
    /// closes.
    pub fn reject_play(&mut self, reason: PlayRejection) -> Result<(), SessionError> {
        let Some(Pending::Play { stream_id, .. }) =
            self.pending.take_if(|p| matches!(p, Pending::Play { .. }))
        else {
            return Err(invalid("reject_play", "no play is pending"));
        };
        let (code, description) = reason.status();
        let reply = on_status(LEVEL_ERROR, code, description);
        let sent = self.link.send_command(CSID_DATA, stream_id, reply);
        self.close_rejected(sent, code)
    }

    /// Tells the player that the stream it plays has ended: Stream EOF and
    /// `NetStream.Play.UnpublishNotify`. The player stays connected.
    pub fn end_of_stream(&mut self) -> Result<(), SessionError> {
        let Role::Playing { stream_id, name } = &self.role else {
            return Err(invalid("end_of_stream", "the client is not playing"));
        };
        let stream_id = *stream_id;
        let notify = on_status(
            LEVEL_STATUS,
            status::PLAY_UNPUBLISH_NOTIFY,
            format!("{name} is now unpublished."),
        );
        let eof = Message::UserControl(UserControl::StreamEof(stream_id));
        let sent = self
            .link
            .send(CSID_CONTROL, 0, 0, &eof)
            .and_then(|()| self.link.send_command(CSID_DATA, stream_id, notify));
        self.after_command(sent)
    }

    // Outputs.

    /// The next thing for the driver: bytes to send, then events, then the
    /// next deadline (always last).
    pub fn poll_output(&mut self) -> Output {
        if let Some(bytes) = self.link.take_output() {
            return Output::Transmit(bytes);
        }
        if let Some(event) = self.events.pop_front() {
            return Output::Event(event);
        }
        self.release_idle_buffers();
        Output::Timeout(self.next_deadline())
    }

    // Internals.

    /// Frees the input buffer and the event queue once drained, unless the
    /// client publishes: a publisher refills both on every read, while a
    /// player (most connections) reads a few small messages a minute and
    /// would otherwise hold about 4 KiB of handshake and command buffers
    /// for its whole life.
    fn release_idle_buffers(&mut self) {
        if matches!(self.role, Role::Publishing { .. }) {
            return;
        }
        self.link.release_input();
        // Empty: `Timeout` comes after the last event.
        self.events = VecDeque::new();
    }

    fn next_deadline(&self) -> Instant {
        let limits = self.config.limits;
        let idle = later(self.last_input, limits.idle_timeout);
        if self.closed {
            return later(self.last_now, limits.idle_timeout);
        }
        let handshake = (!self.connect_read).then(|| later(self.created, limits.handshake_timeout));
        [Some(idle), handshake, self.ping_deadline()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(idle)
    }

    /// When to ping, if a ping is due at all.
    fn ping_deadline(&self) -> Option<Instant> {
        (self.handshake.is_done() && !self.ping_sent)
            .then(|| later(self.last_input, self.config.limits.idle_timeout / 2))
    }

    /// Reads as far as the input and any pending decision allow.
    fn run(&mut self) -> Result<(), SessionError> {
        match self.process() {
            Ok(()) => Ok(()),
            Err(error) => Err(self.fail(error)),
        }
    }

    fn process(&mut self) -> Result<(), SessionError> {
        if !self.handshake.is_done() {
            let (input, output) = self.link.buffers();
            if !self.handshake.feed(input, output)? {
                return Ok(());
            }
        }
        while self.pending.is_none() && !self.closed {
            let Some(incoming) = self.link.next_message()? else {
                break;
            };
            self.handle_message(incoming)?;
        }
        self.link.acknowledge()
    }

    fn handle_message(&mut self, incoming: Incoming) -> Result<(), SessionError> {
        let Incoming {
            header,
            offset,
            message,
        } = incoming;
        match message {
            Message::Command(command) => self.handle_command(command, header.stream_id, offset),
            Message::Audio(body) => self.handle_media(AUDIO, header.timestamp, body, offset),
            Message::Video(body) => self.handle_media(VIDEO, header.timestamp, body, offset),
            Message::Data(body) => self.handle_media(DATA_AMF0, header.timestamp, body, offset),
            // Set Buffer Length, Ping Response, shared objects, aggregates:
            // nothing to do for a live origin.
            _ => Ok(()),
        }
    }

    /// Turns a publisher's audio, video or data message into a frame.
    /// Media on a connection that is not publishing is dropped.
    fn handle_media(
        &mut self,
        type_id: u8,
        timestamp: u32,
        body: Bytes,
        offset: u64,
    ) -> Result<(), SessionError> {
        if !matches!(self.role, Role::Publishing { .. }) {
            return Ok(());
        }
        let decoded = match type_id {
            AUDIO => decode_audio(self.media_time.unwrap(timestamp), body),
            VIDEO => decode_video(self.media_time.unwrap(timestamp), body),
            _ => Ok(match leading_string(&body) {
                Some("@setDataFrame") => decode_script(
                    self.data_time.unwrap(timestamp),
                    strip_set_data_frame(&body),
                ),
                // `@clearDataFrame` and other server directives carry no
                // data for players.
                Some(name) if name.starts_with('@') => None,
                _ => decode_script(self.data_time.unwrap(timestamp), body),
            }),
        };
        match decoded {
            Ok(Some(frame)) => self.events.push_back(SessionEvent::Frame(frame)),
            Ok(None) => {}
            Err(source) => return Err(SessionError::Media { offset, source }),
        }
        Ok(())
    }

    fn start_play(&mut self, stream_id: u32, name: &str, reset: bool) -> Result<(), SessionError> {
        if self.link.out_chunk_size() != self.config.chunk_size {
            self.link.set_out_chunk_size(self.config.chunk_size)?;
        }
        let begin = Message::UserControl(UserControl::StreamBegin(stream_id));
        self.link.send(CSID_CONTROL, 0, 0, &begin)?;
        if reset {
            let reset = on_status(
                LEVEL_STATUS,
                status::PLAY_RESET,
                format!("Playing and resetting {name}."),
            );
            self.link.send_command(CSID_DATA, stream_id, reset)?;
        }
        let start = on_status(
            LEVEL_STATUS,
            status::PLAY_START,
            format!("Started playing {name}."),
        );
        self.link.send_command(CSID_DATA, stream_id, start)?;
        // Lets Flash players read the decoded audio and video.
        let mut access = bytes::BytesMut::new();
        crate::amf0::encode_all(
            &["|RtmpSampleAccess".into(), true.into(), true.into()],
            &mut access,
        )
        .map_err(|e| super::link::encode_error("|RtmpSampleAccess", e))?;
        self.link
            .send_payload(CSID_DATA, stream_id, 0, DATA_AMF0, &access)
    }

    /// Ends publishing or playing on `stream_id`, with the event that says
    /// so.
    fn stop_stream(&mut self, stream_id: u32) {
        let event = match self.role {
            Role::Publishing { stream_id: id } if id == stream_id => {
                SessionEvent::Unpublished { stream_id }
            }
            Role::Playing { stream_id: id, .. } if id == stream_id => {
                SessionEvent::PlayStopped { stream_id }
            }
            _ => return,
        };
        self.role = Role::Idle;
        self.events.push_back(event);
    }

    /// Finishes a command method: on success reads on, on failure closes.
    fn after_command(&mut self, sent: Result<(), SessionError>) -> Result<(), SessionError> {
        match sent {
            Ok(()) => self.run(),
            Err(error) => Err(self.fail(error)),
        }
    }

    /// Closes after a rejection was sent.
    fn close_rejected(
        &mut self,
        sent: Result<(), SessionError>,
        code: &'static str,
    ) -> Result<(), SessionError> {
        if let Err(error) = sent {
            return Err(self.fail(error));
        }
        self.closed = true;
        self.events.push_back(SessionEvent::Closed {
            reason: CloseReason::Rejected { code },
        });
        Ok(())
    }

    /// Closes with an error; returns it for the caller.
    fn fail(&mut self, error: SessionError) -> SessionError {
        if !self.closed {
            self.closed = true;
            self.pending = None;
            self.events.push_back(SessionEvent::Closed {
                reason: CloseReason::Error(error.clone()),
            });
        }
        error
    }
}

fn is_publish(pending: &mut Pending) -> bool {
    matches!(pending, Pending::Publish { .. })
}

fn invalid(call: &'static str, reason: &'static str) -> SessionError {
    SessionError::InvalidCall { call, reason }
}

/// The first AMF0 value of a data body, when it is a short string: the
/// handler name (`@setDataFrame`, `onMetaData` ...).
fn leading_string(body: &[u8]) -> Option<&str> {
    let [0x02, high, low, rest @ ..] = body else {
        return None;
    };
    let len = usize::from(u16::from_be_bytes([*high, *low]));
    std::str::from_utf8(rest.get(..len)?).ok()
}
