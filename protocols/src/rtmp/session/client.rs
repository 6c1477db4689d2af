//! The client session: publishes or plays one stream. Used by tests and the
//! load harness.

use std::collections::VecDeque;
use std::time::Instant;

use arcly_engine::{MediaFrame, TrackKind};
use arcly_media::flv::{
    FlvTag, TagType, decode_audio, decode_script, decode_video, encode_audio_tag_body,
    encode_script_tag_body, encode_video_tag_body,
};
use bytes::{BufMut, Bytes, BytesMut};

use super::events::CloseReason;
use super::link::{Incoming, Link, encode_error};
use super::{CSID_COMMAND, CSID_CONTROL, Output, later};
use crate::amf0::{Amf0Value, Command};
use crate::rtmp::egress::{CSID_AUDIO, CSID_DATA, CSID_VIDEO, wire_timestamp};
use crate::rtmp::handshake::{ClientHandshake, HANDSHAKE_SIZE};
use crate::rtmp::message::{AUDIO, DATA_AMF0, Message, UserControl, VIDEO};
use crate::rtmp::status::{self, StatusInfo, new_command};
use crate::rtmp::timestamp::TimestampUnwrapper;
use crate::rtmp::{RtmpLimits, SessionError};

/// The AMF0 string `@setDataFrame` that wraps metadata a publisher sends.
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// Transaction id of `connect`.
const CONNECT_TID: f64 = 1.0;

/// What the client does once connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientRole {
    /// Publish a stream (as an encoder does).
    Publish,
    /// Play a stream (as a player does).
    Play,
}

/// How a [`ClientSession`] connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Publish or play.
    pub role: ClientRole,
    /// `tcUrl`: `rtmp://host:port/app`.
    pub tc_url: String,
    /// The application, `live` in `rtmp://host/live`.
    pub app: String,
    /// The stream name, with any query string (`cam1?token=s3cret`).
    pub stream: String,
    /// `flashVer` sent in `connect`.
    pub flash_ver: String,
    /// The chunk size the client sends with.
    pub chunk_size: u32,
    /// Enhanced RTMP `fourCcList` to declare in `connect`; none by default.
    pub fourcc_list: Vec<String>,
    /// Bounds on what the server may send.
    pub limits: RtmpLimits,
}

impl ClientConfig {
    /// A client for `stream` (name and query) at `tc_url`
    /// (`rtmp://host:port/app`); the app is the path of `tc_url`.
    pub fn new(role: ClientRole, tc_url: &str, stream: &str) -> ClientConfig {
        let after_scheme = tc_url.split_once("://").map_or(tc_url, |(_, rest)| rest);
        let app = after_scheme
            .split_once('/')
            .map_or("", |(_, path)| path)
            .to_owned();
        ClientConfig {
            role,
            tc_url: tc_url.to_owned(),
            app,
            stream: stream.to_owned(),
            flash_ver: match role {
                ClientRole::Publish => "FMLE/3.0 (compatible; arcly)".to_owned(),
                ClientRole::Play => "LNX 9,0,124,2".to_owned(),
            },
            chunk_size: 4096,
            fourcc_list: Vec::new(),
            limits: RtmpLimits::default(),
        }
    }
}

/// What a [`ClientSession`] tells its driver.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// `connect` succeeded.
    Connected,
    /// The server sent `NetStream.Publish.Start`: frames may be sent.
    Publishing {
        /// The message stream.
        stream_id: u32,
    },
    /// The server sent `NetStream.Play.Start`.
    Playing {
        /// The message stream.
        stream_id: u32,
    },
    /// A frame of the stream being played.
    Frame(MediaFrame),
    /// The server sent `NetStream.Play.UnpublishNotify`.
    StreamEnded,
    /// Any other status: a refusal (`_error`, or `onStatus` at level
    /// `error`) or a notice.
    Status(StatusInfo),
    /// The session is over; always the last event.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Handshaking,
    /// `connect` sent.
    Connecting,
    /// `createStream` sent with this transaction id.
    CreatingStream(f64),
    /// `publish` or `play` sent on the stream.
    Starting(u32),
    /// Publishing or playing on the stream.
    Active(u32),
    /// Connected, with no stream.
    Idle,
}

/// The client side of one RTMP connection, sans-IO: connects, creates a
/// stream, then publishes or plays it.
///
/// It is driven like [`ServerSession`](super::ServerSession): feed bytes
/// with [`handle_input`](Self::handle_input), call
/// [`handle_timeout`](Self::handle_timeout) at the deadline, and drain
/// [`poll_output`](Self::poll_output) until it returns [`Output::Timeout`]
/// after every call. [`new`](Self::new) queues C0 and C1 at once. A
/// publisher sends frames with [`send_frame`](Self::send_frame) or
/// [`send_tag`](Self::send_tag) after [`ClientEvent::Publishing`]; a player
/// gets [`ClientEvent::Frame`]s after [`ClientEvent::Playing`].
///
/// The handshake is the plain one. The client answers Ping Requests and
/// acknowledges what it receives as the server's window asks. Until
/// `connect` succeeds [`RtmpLimits::handshake_timeout`] applies; a player
/// that gets nothing for [`RtmpLimits::idle_timeout`] closes.
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    handshake: ClientHandshake,
    link: Link,
    state: State,
    events: VecDeque<ClientEvent>,
    /// Audio and video share a timeline; data messages (metadata at 0
    /// while media runs at its own clock) keep their own.
    media_time: TimestampUnwrapper,
    data_time: TimestampUnwrapper,
    created: Instant,
    last_input: Instant,
    last_now: Instant,
    next_tid: f64,
    closed: bool,
}

impl ClientSession {
    /// A session whose connection opened at `now`; C0 and C1 are queued.
    pub fn new(config: ClientConfig, now: Instant) -> ClientSession {
        let mut link = Link::new(config.limits, 1 + 2 * HANDSHAKE_SIZE as u64);
        let (_, output) = link.buffers();
        let handshake = ClientHandshake::start(output);
        ClientSession {
            config,
            handshake,
            link,
            state: State::Handshaking,
            events: VecDeque::new(),
            media_time: TimestampUnwrapper::default(),
            data_time: TimestampUnwrapper::default(),
            created: now,
            last_input: now,
            last_now: now,
            next_tid: CONNECT_TID + 1.0,
            closed: false,
        }
    }

    /// The message stream being published or played, once started.
    pub fn stream_id(&self) -> Option<u32> {
        match self.state {
            State::Active(id) => Some(id),
            _ => None,
        }
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Takes bytes read from the connection at `now`.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), SessionError> {
        if self.closed {
            return Err(SessionError::Closed);
        }
        self.last_now = now;
        self.last_input = now;
        self.link.push_input(bytes);
        match self.process() {
            Ok(()) => Ok(()),
            Err(error) => Err(self.fail(error)),
        }
    }

    /// Lets the session act on its timers at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), SessionError> {
        if self.closed {
            return Ok(());
        }
        self.last_now = now;
        let limits = self.config.limits;
        if self.connecting() && now >= later(self.created, limits.handshake_timeout) {
            let limit = limits.handshake_timeout;
            return Err(self.fail(SessionError::HandshakeTimeout { limit }));
        }
        if self.playing() && now >= later(self.last_input, limits.idle_timeout) {
            let limit = limits.idle_timeout;
            return Err(self.fail(SessionError::IdleTimeout { limit }));
        }
        Ok(())
    }

    /// Sends a frame of the stream being published: its FLV body (script
    /// frames wrapped in `@setDataFrame`) at its `dts` in milliseconds.
    pub fn send_frame(&mut self, frame: &MediaFrame) -> Result<(), SessionError> {
        let body = match frame.track() {
            TrackKind::Audio => encode_audio_tag_body(frame),
            TrackKind::Video => encode_video_tag_body(frame),
            TrackKind::Data => encode_script_tag_body(frame),
        }
        .map_err(|e| encode_error("a frame", e))?;
        let tag = FlvTag {
            tag_type: TagType::for_track(frame.track()),
            timestamp_ms: wire_timestamp(frame.dts),
            body,
        };
        self.send_tag(&tag)
    }

    /// Sends an FLV tag of the stream being published as it is (a script
    /// tag wrapped in `@setDataFrame`), as an encoder replaying a file does.
    pub fn send_tag(&mut self, tag: &FlvTag) -> Result<(), SessionError> {
        let State::Active(stream_id) = self.state else {
            return Err(invalid("send_tag", "publishing has not started"));
        };
        if self.config.role != ClientRole::Publish {
            return Err(invalid("send_tag", "the client plays"));
        }
        let (csid, type_id, body) = match tag.tag_type {
            TagType::Audio => (CSID_AUDIO, AUDIO, tag.body.clone()),
            TagType::Video => (CSID_VIDEO, VIDEO, tag.body.clone()),
            TagType::Script => {
                let mut wrapped = BytesMut::with_capacity(SET_DATA_FRAME.len() + tag.body.len());
                wrapped.put_slice(SET_DATA_FRAME);
                wrapped.put_slice(&tag.body);
                (CSID_DATA, DATA_AMF0, wrapped.freeze())
            }
        };
        let sent = self
            .link
            .send_payload(csid, stream_id, tag.timestamp_ms, type_id, &body);
        self.after_command(sent)
    }

    /// Stops publishing (`FCUnpublish` and `deleteStream`) or playing
    /// (`deleteStream`); the connection stays open.
    pub fn close_stream(&mut self) -> Result<(), SessionError> {
        let State::Active(stream_id) = self.state else {
            return Err(invalid("close_stream", "no stream is active"));
        };
        self.state = State::Idle;
        let mut sent = Ok(());
        if self.config.role == ClientRole::Publish {
            let unpublish = self.call("FCUnpublish", vec![self.config.stream.as_str().into()]);
            sent = self.link.send_command(CSID_COMMAND, 0, unpublish);
        }
        let delete = self.call("deleteStream", vec![f64::from(stream_id).into()]);
        let sent = sent.and_then(|()| self.link.send_command(CSID_COMMAND, 0, delete));
        self.after_command(sent)
    }

    /// The next thing for the driver: bytes to send, then events, then the
    /// next deadline (always last).
    pub fn poll_output(&mut self) -> Output<ClientEvent> {
        if let Some(bytes) = self.link.take_output() {
            return Output::Transmit(bytes);
        }
        if let Some(event) = self.events.pop_front() {
            return Output::Event(event);
        }
        let limits = self.config.limits;
        let deadline = if self.closed {
            later(self.last_now, limits.idle_timeout)
        } else if self.connecting() {
            later(self.created, limits.handshake_timeout)
        } else if self.playing() {
            later(self.last_input, limits.idle_timeout)
        } else {
            // No timer runs: a harmless wake-up.
            later(self.last_now, limits.idle_timeout)
        };
        Output::Timeout(deadline)
    }

    fn connecting(&self) -> bool {
        matches!(self.state, State::Handshaking | State::Connecting)
    }

    fn playing(&self) -> bool {
        self.config.role == ClientRole::Play && matches!(self.state, State::Active(_))
    }

    fn process(&mut self) -> Result<(), SessionError> {
        if !self.handshake.is_done() {
            let (input, output) = self.link.buffers();
            if !self.handshake.feed(input, output)? {
                return Ok(());
            }
            self.link
                .set_out_chunk_size(self.config.chunk_size.max(1))?;
            let connect = self.connect_command();
            self.link.send_command(CSID_COMMAND, 0, connect)?;
            self.state = State::Connecting;
        }
        while !self.closed {
            let Some(incoming) = self.link.next_message()? else {
                break;
            };
            self.handle_message(incoming)?;
        }
        self.link.acknowledge()
    }

    fn connect_command(&self) -> Command {
        let config = &self.config;
        let mut object = vec![
            ("app".to_owned(), config.app.as_str().into()),
            ("type".to_owned(), "nonprivate".into()),
            ("flashVer".to_owned(), config.flash_ver.as_str().into()),
            ("tcUrl".to_owned(), config.tc_url.as_str().into()),
        ];
        if config.role == ClientRole::Play {
            object.extend([
                ("fpad".to_owned(), false.into()),
                ("capabilities".to_owned(), 15.0.into()),
                ("audioCodecs".to_owned(), 4071.0.into()),
                ("videoCodecs".to_owned(), 252.0.into()),
                ("videoFunction".to_owned(), 1.0.into()),
                ("objectEncoding".to_owned(), 0.0.into()),
            ]);
        }
        if !config.fourcc_list.is_empty() {
            let list = config
                .fourcc_list
                .iter()
                .map(|f| Amf0Value::String(f.clone()))
                .collect();
            object.push(("fourCcList".to_owned(), Amf0Value::StrictArray(list)));
        }
        new_command("connect", CONNECT_TID, Amf0Value::Object(object), vec![])
    }

    /// A command with the next transaction id and a null command object.
    fn call(&mut self, name: &str, args: Vec<Amf0Value>) -> Command {
        let tid = self.next_tid;
        self.next_tid += 1.0;
        new_command(name, tid, Amf0Value::Null, args)
    }

    fn handle_message(&mut self, incoming: Incoming) -> Result<(), SessionError> {
        let Incoming {
            header,
            offset,
            message,
        } = incoming;
        match message {
            Message::Command(command) => self.handle_command(command),
            Message::UserControl(UserControl::StreamEof(_)) => Ok(()),
            Message::Audio(body) | Message::Video(body) | Message::Data(body) if self.playing() => {
                self.handle_media(header.type_id, header.timestamp, body, offset)
            }
            _ => Ok(()),
        }
    }

    fn handle_media(
        &mut self,
        type_id: u8,
        timestamp: u32,
        body: Bytes,
        offset: u64,
    ) -> Result<(), SessionError> {
        let decoded = match type_id {
            AUDIO => decode_audio(self.media_time.unwrap(timestamp), body),
            VIDEO => decode_video(self.media_time.unwrap(timestamp), body),
            // `|RtmpSampleAccess` and `onStatus` data messages are for the
            // player, not frames of the stream.
            _ if body.starts_with(b"\x02\x00\x11|RtmpSampleAccess")
                || body.starts_with(b"\x02\x00\x08onStatus") =>
            {
                Ok(None)
            }
            _ => Ok(decode_script(self.data_time.unwrap(timestamp), body)),
        };
        match decoded {
            Ok(Some(frame)) => self.events.push_back(ClientEvent::Frame(frame)),
            Ok(None) => {}
            Err(source) => return Err(SessionError::Media { offset, source }),
        }
        Ok(())
    }

    fn handle_command(&mut self, command: Command) -> Result<(), SessionError> {
        let tid = command.transaction_id;
        let info = || {
            command
                .arg(0)
                .map(StatusInfo::from_info)
                .unwrap_or_default()
        };
        match (command.name.as_str(), self.state) {
            ("_result", State::Connecting) if tid == CONNECT_TID => {
                self.events.push_back(ClientEvent::Connected);
                let stream: Amf0Value = self.config.stream.as_str().into();
                if self.config.role == ClientRole::Publish {
                    let release = self.call("releaseStream", vec![stream.clone()]);
                    let fc_publish = self.call("FCPublish", vec![stream]);
                    self.link.send_command(CSID_COMMAND, 0, release)?;
                    self.link.send_command(CSID_COMMAND, 0, fc_publish)?;
                }
                let create = self.call("createStream", vec![]);
                self.state = State::CreatingStream(create.transaction_id);
                self.link.send_command(CSID_COMMAND, 0, create)
            }
            ("_result", State::CreatingStream(create)) if tid == create => {
                let Some(stream_id) = command.arg(0).and_then(Amf0Value::as_f64) else {
                    self.events.push_back(ClientEvent::Status(info()));
                    return Ok(());
                };
                let stream_id = stream_id.clamp(0.0, f64::from(u32::MAX)) as u32;
                self.state = State::Starting(stream_id);
                let stream: Amf0Value = self.config.stream.as_str().into();
                let start = match self.config.role {
                    ClientRole::Publish => {
                        new_command("publish", 0.0, Amf0Value::Null, vec![stream, "live".into()])
                    }
                    ClientRole::Play => {
                        new_command("play", 0.0, Amf0Value::Null, vec![stream, (-2.0).into()])
                    }
                };
                self.link.send_command(CSID_DATA, stream_id, start)?;
                if self.config.role == ClientRole::Play {
                    let buffer = UserControl::SetBufferLength {
                        stream_id,
                        buffer_ms: 1000,
                    };
                    self.link
                        .send(CSID_CONTROL, 0, 0, &Message::UserControl(buffer))?;
                }
                Ok(())
            }
            ("_error", _) => {
                self.events.push_back(ClientEvent::Status(info()));
                Ok(())
            }
            ("onStatus", state) => {
                let info = info();
                let event = match (info.code.as_str(), state) {
                    (status::PUBLISH_START, State::Starting(stream_id)) => {
                        self.state = State::Active(stream_id);
                        ClientEvent::Publishing { stream_id }
                    }
                    (status::PLAY_START, State::Starting(stream_id)) => {
                        self.state = State::Active(stream_id);
                        ClientEvent::Playing { stream_id }
                    }
                    (status::PLAY_UNPUBLISH_NOTIFY, _) => ClientEvent::StreamEnded,
                    _ => ClientEvent::Status(info),
                };
                self.events.push_back(event);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn after_command(&mut self, sent: Result<(), SessionError>) -> Result<(), SessionError> {
        sent.map_err(|error| self.fail(error))
    }

    fn fail(&mut self, error: SessionError) -> SessionError {
        if !self.closed {
            self.closed = true;
            self.events.push_back(ClientEvent::Closed {
                reason: CloseReason::Error(error.clone()),
            });
        }
        error
    }
}

fn invalid(call: &'static str, reason: &'static str) -> SessionError {
    SessionError::InvalidCall { call, reason }
}
