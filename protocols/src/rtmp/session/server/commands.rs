//! The commands a client sends once connected, and the replies they get.

use super::{Pending, Role, ServerSession};
use crate::amf0::{Amf0Value, Command};
use crate::rtmp::SessionError;
use crate::rtmp::caps::ClientCaps;
use crate::rtmp::egress::CSID_DATA;
use crate::rtmp::session::CSID_COMMAND;
use crate::rtmp::session::events::SessionEvent;
use crate::rtmp::status::{self, LEVEL_ERROR, LEVEL_STATUS, info, new_command, on_status};

impl ServerSession {
    /// Acts on a command: replies go out at once on chunk stream 3 (or on
    /// the message stream, for stream commands); requests become events.
    pub(super) fn handle_command(
        &mut self,
        command: Command,
        stream_id: u32,
        offset: u64,
    ) -> Result<(), SessionError> {
        let unexpected = |reason| SessionError::UnexpectedCommand {
            offset,
            name: command.name.clone(),
            reason,
        };
        if command.name == "connect" {
            if self.connect_read {
                return Err(unexpected("connect was already received"));
            }
            self.on_connect(&command);
            return Ok(());
        }
        if !self.connected {
            return Err(unexpected("the first command must be connect"));
        }
        let tid = command.transaction_id;
        match command.name.as_str() {
            "createStream" => self.on_create_stream(tid),
            "releaseStream" => self.reply_result(tid, Amf0Value::Undefined),
            "FCPublish" => {
                let name = first_str(&command).to_owned();
                let notice = command_notice("onFCPublish", status::PUBLISH_START, name);
                self.link.send_command(CSID_COMMAND, 0, notice)?;
                self.reply_result(tid, Amf0Value::Undefined)
            }
            "FCUnpublish" => {
                let name = first_str(&command).to_owned();
                let notice = command_notice("onFCUnpublish", status::UNPUBLISH_SUCCESS, name);
                self.link.send_command(CSID_COMMAND, 0, notice)?;
                if let Role::Publishing { stream_id } = self.role {
                    self.stop_stream(stream_id);
                }
                self.reply_result(tid, Amf0Value::Undefined)
            }
            "publish" => self.on_publish(&command, stream_id),
            "play" => self.on_play(&command, stream_id),
            "pause" => self.on_pause(&command, stream_id),
            "closeStream" => {
                self.stop_stream(stream_id);
                Ok(())
            }
            "deleteStream" => {
                if let Some(id) = command.arg(0).and_then(stream_id_arg) {
                    self.stop_stream(id);
                    self.streams.retain(|open| *open != id);
                }
                Ok(())
            }
            "getStreamLength" => self.reply_result(tid, 0.0.into()),
            // Tolerated: a live origin sends every track to every player.
            "receiveAudio" | "receiveVideo" => Ok(()),
            // Replies and notices from the client need no answer.
            "_result" | "_error" | "onStatus" => Ok(()),
            _ if tid != 0.0 => {
                let error = new_command(
                    "_error",
                    tid,
                    Amf0Value::Null,
                    vec![info(
                        LEVEL_ERROR,
                        status::CALL_FAILED,
                        "Unknown command.".to_owned(),
                    )],
                );
                self.link.send_command(CSID_COMMAND, 0, error)
            }
            _ => Ok(()),
        }
    }

    fn on_connect(&mut self, command: &Command) {
        let object = &command.command_object;
        let text = |key| {
            object
                .get(key)
                .and_then(Amf0Value::as_str)
                .map(str::to_owned)
        };
        let raw_app = text("app").unwrap_or_default();
        let tc_url = text("tcUrl");
        let (app, app_query) = split_query(&raw_app);
        let app = app.trim_end_matches('/').to_owned();
        let query = if app_query.is_empty() {
            tc_url
                .as_deref()
                .map(|url| split_query(url).1)
                .unwrap_or_default()
        } else {
            app_query
        }
        .to_owned();
        self.caps = ClientCaps::from_connect(object);
        self.connect_read = true;
        self.app = app.clone();
        self.app_query = query.clone();
        self.pending = Some(Pending::Connect {
            transaction_id: command.transaction_id,
        });
        self.events.push_back(SessionEvent::Connected {
            app,
            tc_url,
            query,
            flash_ver: text("flashVer"),
        });
    }

    fn on_create_stream(&mut self, tid: f64) -> Result<(), SessionError> {
        if self.streams.len() >= self.config.limits.max_streams {
            let error = new_command(
                "_error",
                tid,
                Amf0Value::Null,
                vec![info(
                    LEVEL_ERROR,
                    status::CALL_FAILED,
                    format!(
                        "More than the limit of {} streams.",
                        self.config.limits.max_streams
                    ),
                )],
            );
            return self.link.send_command(CSID_COMMAND, 0, error);
        }
        // The lowest free id, so every player that opens one stream gets
        // the same id and can share egress bytes.
        let id = (1..)
            .find(|id| !self.streams.contains(id))
            .unwrap_or(u32::MAX);
        self.streams.push(id);
        self.reply_result(tid, f64::from(id).into())
    }

    fn on_publish(&mut self, command: &Command, stream_id: u32) -> Result<(), SessionError> {
        let refuse = |description: &str| {
            on_status(
                LEVEL_ERROR,
                status::PUBLISH_BAD_NAME,
                description.to_owned(),
            )
        };
        if let Some(reason) = self.stream_problem(stream_id) {
            return self.link.send_command(CSID_DATA, stream_id, refuse(reason));
        }
        let name = first_str(command);
        if name.is_empty() {
            return self
                .link
                .send_command(CSID_DATA, stream_id, refuse("No stream name."));
        }
        let (stream, query) = self.split_name(name);
        let publish_type = command
            .arg(1)
            .and_then(Amf0Value::as_str)
            .unwrap_or("live")
            .to_owned();
        self.pending = Some(Pending::Publish {
            stream_id,
            name: stream.clone(),
        });
        self.events.push_back(SessionEvent::PublishRequested {
            stream_id,
            app: self.app.clone(),
            stream,
            query,
            publish_type,
        });
        Ok(())
    }

    fn on_play(&mut self, command: &Command, stream_id: u32) -> Result<(), SessionError> {
        let refuse =
            |description: &str| on_status(LEVEL_ERROR, status::PLAY_FAILED, description.to_owned());
        if let Some(reason) = self.stream_problem(stream_id) {
            return self.link.send_command(CSID_DATA, stream_id, refuse(reason));
        }
        let name = first_str(command);
        if name.is_empty() {
            return self
                .link
                .send_command(CSID_DATA, stream_id, refuse("No stream name."));
        }
        let (stream, query) = self.split_name(name);
        let number = |index, default| {
            command
                .arg(index)
                .and_then(Amf0Value::as_f64)
                .unwrap_or(default)
        };
        let reset = match command.arg(3) {
            Some(Amf0Value::Boolean(reset)) => *reset,
            Some(Amf0Value::Number(n)) => *n != 0.0,
            _ => true,
        };
        self.pending = Some(Pending::Play {
            stream_id,
            name: stream.clone(),
            reset,
        });
        self.events.push_back(SessionEvent::PlayRequested {
            stream_id,
            app: self.app.clone(),
            stream,
            query,
            start: number(1, -2.0),
            duration: number(2, -1.0),
            reset,
        });
        Ok(())
    }

    fn on_pause(&mut self, command: &Command, stream_id: u32) -> Result<(), SessionError> {
        let Role::Playing {
            stream_id: playing,
            name,
        } = &self.role
        else {
            return Ok(());
        };
        if *playing != stream_id {
            return Ok(());
        }
        let paused = command.arg(0).and_then(Amf0Value::as_bool).unwrap_or(true);
        let (code, verb) = if paused {
            (status::PAUSE_NOTIFY, "Paused")
        } else {
            (status::UNPAUSE_NOTIFY, "Unpaused")
        };
        let notice = on_status(LEVEL_STATUS, code, format!("{verb} {name}."));
        self.link.send_command(CSID_DATA, stream_id, notice)?;
        self.events
            .push_back(SessionEvent::PauseChanged { stream_id, paused });
        Ok(())
    }

    /// Why a publish or play on `stream_id` cannot go ahead, if it cannot.
    fn stream_problem(&self, stream_id: u32) -> Option<&'static str> {
        if !self.streams.contains(&stream_id) {
            Some("The stream was not created.")
        } else if self.role != Role::Idle {
            Some("The connection already publishes or plays a stream.")
        } else {
            None
        }
    }

    /// Splits `name?query`; the query falls back to the app's.
    fn split_name(&self, name: &str) -> (String, String) {
        let (stream, query) = split_query(name);
        let query = if query.is_empty() {
            &self.app_query
        } else {
            query
        };
        (stream.to_owned(), query.to_owned())
    }

    /// `_result` with a null command object and one value, unless the
    /// client expects no answer (transaction id 0).
    fn reply_result(&mut self, tid: f64, value: Amf0Value) -> Result<(), SessionError> {
        if tid == 0.0 {
            return Ok(());
        }
        let reply = new_command("_result", tid, Amf0Value::Null, vec![value]);
        self.link.send_command(CSID_COMMAND, 0, reply)
    }
}

/// `name?query` split at the first `?`.
fn split_query(name: &str) -> (&str, &str) {
    name.split_once('?').unwrap_or((name, ""))
}

/// The first argument as a string, or `""`.
fn first_str(command: &Command) -> &str {
    command
        .arg(0)
        .and_then(Amf0Value::as_str)
        .unwrap_or_default()
}

/// A stream id argument: a whole number in `u32` range.
fn stream_id_arg(value: &Amf0Value) -> Option<u32> {
    let n = value.as_f64()?;
    (n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)).then_some(n as u32)
}

/// `onFCPublish` / `onFCUnpublish`: a notice with a code and the stream
/// name as its description.
fn command_notice(name: &str, code: &str, stream: String) -> Command {
    new_command(
        name,
        0.0,
        Amf0Value::Null,
        vec![Amf0Value::object([
            ("code", code.into()),
            ("description", stream.into()),
        ])],
    )
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use std::time::Instant;

    use super::*;
    use crate::rtmp::RtmpLimits;
    use crate::rtmp::chunk::{ChunkDecoder, MessageHeader, encode_message};
    use crate::rtmp::handshake::HANDSHAKE_SIZE;
    use crate::rtmp::message::COMMAND_AMF0;
    use crate::rtmp::message::{Message, UserControl};
    use crate::rtmp::session::Output;
    use crate::rtmp::session::events::CloseReason;
    use crate::rtmp::session::server::{
        DEFAULT_OUT_CHUNK_SIZE, DEFAULT_WINDOW_ACK_SIZE, FMS_VERSION, ServerConfig,
    };

    /// A session past a plain handshake, the client's chunk encoder state
    /// and a decoder for what the server sends.
    struct Harness {
        server: ServerSession,
        now: Instant,
        decoder: ChunkDecoder,
    }

    impl Harness {
        fn new(config: ServerConfig) -> Harness {
            let now = Instant::now();
            let mut server = ServerSession::new(config, now);
            let mut hello = vec![3];
            hello.extend_from_slice(&[0; 2 * HANDSHAKE_SIZE]);
            server.handle_input(&hello, now).unwrap();
            let mut harness = Harness {
                server,
                now,
                decoder: ChunkDecoder::new(&RtmpLimits::default()),
            };
            let handshake = harness.transmitted();
            assert_eq!(handshake.len(), 1 + 2 * HANDSHAKE_SIZE);
            harness
        }

        /// A session that has accepted `connect` with `object`.
        fn connected(object: Amf0Value) -> Harness {
            let mut harness = Harness::new(ServerConfig::default());
            harness.send(0, "connect", 1.0, object, vec![]);
            assert!(matches!(
                harness.events()[..],
                [SessionEvent::Connected { .. }]
            ));
            harness.server.accept_connect().unwrap();
            harness
        }

        fn send(
            &mut self,
            stream_id: u32,
            name: &str,
            tid: f64,
            object: Amf0Value,
            args: Vec<Amf0Value>,
        ) {
            let mut body = Vec::new();
            new_command(name, tid, object, args)
                .encode(&mut body)
                .unwrap();
            let mut buf = BytesMut::new();
            let header = MessageHeader {
                timestamp: 0,
                type_id: COMMAND_AMF0,
                stream_id,
            };
            encode_message(&mut buf, 3, header, &body, 128).unwrap();
            self.server.handle_input(&buf, self.now).unwrap();
        }

        fn transmitted(&mut self) -> Vec<u8> {
            let mut bytes = Vec::new();
            while let Some(chunk) = self.server.link.take_output() {
                bytes.extend_from_slice(&chunk);
            }
            bytes
        }

        /// The messages the server sent since the last call, with their
        /// message stream ids.
        fn replies(&mut self) -> Vec<(u32, Message)> {
            let mut buf = BytesMut::from(&self.transmitted()[..]);
            let mut out = Vec::new();
            while let Some(raw) = self.decoder.feed(&mut buf).unwrap() {
                let message =
                    Message::decode(raw.header.type_id, raw.payload, Default::default()).unwrap();
                if let Message::SetChunkSize(size) = message {
                    self.decoder.set_chunk_size(size).unwrap();
                }
                out.push((raw.header.stream_id, message));
            }
            out
        }

        fn commands(&mut self) -> Vec<Command> {
            self.replies()
                .into_iter()
                .filter_map(|(_, m)| match m {
                    Message::Command(command) => Some(command),
                    _ => None,
                })
                .collect()
        }

        fn events(&mut self) -> Vec<SessionEvent> {
            self.server.events.drain(..).collect()
        }
    }

    fn code(command: &Command) -> String {
        status::StatusInfo::from_info(command.arg(0).unwrap()).code
    }

    #[test]
    fn sessions_can_move_to_another_shard() {
        // A publisher is handed to its stream's owner shard mid-session.
        fn assert_send<T: Send + 'static>() {}
        assert_send::<ServerSession>();
        assert_send::<SessionEvent>();
    }

    #[test]
    fn answers_connect_as_fms_does() {
        let mut h = Harness::connected(Amf0Value::object([
            ("app", "live?token=s3cret".into()),
            ("tcUrl", "rtmp://origin/live?token=s3cret".into()),
        ]));
        let replies = h.replies();
        assert_eq!(
            replies[0].1,
            Message::WindowAckSize(DEFAULT_WINDOW_ACK_SIZE)
        );
        assert_eq!(
            replies[1].1,
            Message::SetPeerBandwidth {
                size: DEFAULT_WINDOW_ACK_SIZE,
                limit_type: 2
            }
        );
        assert_eq!(replies[2].1, Message::SetChunkSize(DEFAULT_OUT_CHUNK_SIZE));
        let Message::Command(result) = &replies[3].1 else {
            panic!("{replies:?}");
        };
        assert_eq!(
            (result.name.as_str(), result.transaction_id),
            ("_result", 1.0)
        );
        assert_eq!(
            result.property("fmsVer").and_then(Amf0Value::as_str),
            Some(FMS_VERSION)
        );
        assert_eq!(
            result.property("capabilities").and_then(Amf0Value::as_f64),
            Some(31.0)
        );
        // A legacy client gets no Enhanced RTMP properties.
        assert_eq!(result.property("capsEx"), None);
        let info = result.arg(0).unwrap();
        assert_eq!(code(result), status::CONNECT_SUCCESS);
        assert_eq!(info.get("objectEncoding"), Some(&Amf0Value::Number(0.0)));
        assert_eq!(h.server.out_chunk_size(), DEFAULT_OUT_CHUNK_SIZE);
    }

    #[test]
    fn takes_the_query_from_the_app_or_the_tc_url() {
        let mut h = Harness::new(ServerConfig::default());
        let object = Amf0Value::object([
            ("app", "live/".into()),
            ("tcUrl", "rtmp://origin/live?token=a".into()),
        ]);
        h.send(0, "connect", 1.0, object, vec![]);
        assert_eq!(
            h.events(),
            [SessionEvent::Connected {
                app: "live".into(),
                tc_url: Some("rtmp://origin/live?token=a".into()),
                query: "token=a".into(),
                flash_ver: None,
            }]
        );
        h.server.accept_connect().unwrap();
        h.send(0, "createStream", 2.0, Amf0Value::Null, vec![]);
        h.send(1, "publish", 0.0, Amf0Value::Null, vec!["cam1".into()]);
        assert!(matches!(
            &h.events()[..],
            [SessionEvent::PublishRequested { query, .. }] if query == "token=a"
        ));
    }

    #[test]
    fn echoes_enhanced_rtmp_capabilities() {
        let mut h = Harness::connected(Amf0Value::object([
            ("app", "live".into()),
            (
                "fourCcList",
                Amf0Value::StrictArray(vec!["hvc1".into(), "av01".into(), "Opus".into()]),
            ),
            ("capsEx", 4.0.into()),
        ]));
        assert!(h.server.client_caps().accepts(arcly_engine::Codec::H265));
        assert!(h.server.client_caps().accepts(arcly_engine::Codec::Opus));
        assert!(!h.server.client_caps().accepts(arcly_engine::Codec::Vp9));
        let result = h.commands().remove(0);
        let video = result.property("videoFourCcInfoMap").unwrap();
        assert_eq!(
            video.get("hvc1").and_then(Amf0Value::as_f64),
            Some(f64::from(crate::rtmp::CAN_FORWARD))
        );
        assert!(matches!(
            result.property("fourCcList"),
            Some(Amf0Value::StrictArray(list)) if list.len() == 7
        ));
        assert_eq!(
            result.property("capsEx").and_then(Amf0Value::as_f64),
            Some(f64::from(crate::rtmp::SERVER_CAPS_EX))
        );
    }

    #[test]
    fn hands_out_the_lowest_free_stream_id_within_the_limit() {
        let config = ServerConfig {
            limits: RtmpLimits {
                max_streams: 2,
                ..RtmpLimits::default()
            },
            ..ServerConfig::default()
        };
        let mut h = Harness::new(config);
        h.send(
            0,
            "connect",
            1.0,
            Amf0Value::object([("app", "a".into())]),
            vec![],
        );
        h.server.accept_connect().unwrap();
        h.commands();
        for tid in [2.0, 3.0, 4.0] {
            h.send(0, "createStream", tid, Amf0Value::Null, vec![]);
        }
        h.send(0, "deleteStream", 0.0, Amf0Value::Null, vec![1.0.into()]);
        h.send(0, "createStream", 5.0, Amf0Value::Null, vec![]);
        let got: Vec<_> = h
            .commands()
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    c.transaction_id,
                    c.arg(0).and_then(Amf0Value::as_f64),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("_result".into(), 2.0, Some(1.0)),
                ("_result".into(), 3.0, Some(2.0)),
                ("_error".into(), 4.0, None),
                ("_result".into(), 5.0, Some(1.0)),
            ]
        );
    }

    #[test]
    fn answers_the_publish_preamble() {
        let mut h = Harness::connected(Amf0Value::object([("app", "live".into())]));
        h.commands();
        h.send(
            0,
            "releaseStream",
            2.0,
            Amf0Value::Null,
            vec!["cam1".into()],
        );
        h.send(0, "FCPublish", 3.0, Amf0Value::Null, vec!["cam1".into()]);
        h.send(
            0,
            "getStreamLength",
            4.0,
            Amf0Value::Null,
            vec!["cam1".into()],
        );
        h.send(0, "receiveVideo", 0.0, Amf0Value::Null, vec![true.into()]);
        h.send(0, "noSuchCall", 5.0, Amf0Value::Null, vec![]);
        h.send(0, "noSuchNotice", 0.0, Amf0Value::Null, vec![]);
        let got: Vec<_> = h
            .commands()
            .iter()
            .map(|c| (c.name.clone(), c.transaction_id))
            .collect();
        assert_eq!(
            got,
            [
                ("_result".into(), 2.0),
                ("onFCPublish".into(), 0.0),
                ("_result".into(), 3.0),
                ("_result".into(), 4.0),
                ("_error".into(), 5.0),
            ]
        );
        assert!(h.events().is_empty());
    }

    #[test]
    fn refuses_publish_and_play_it_cannot_start() {
        let mut h = Harness::connected(Amf0Value::object([("app", "live".into())]));
        h.commands();
        // No createStream yet.
        h.send(1, "publish", 0.0, Amf0Value::Null, vec!["cam1".into()]);
        h.send(0, "createStream", 2.0, Amf0Value::Null, vec![]);
        h.send(1, "publish", 0.0, Amf0Value::Null, vec!["".into()]);
        h.send(1, "play", 0.0, Amf0Value::Null, vec![]);
        let codes: Vec<_> = h
            .commands()
            .iter()
            .filter(|c| c.name == "onStatus")
            .map(code)
            .collect();
        assert_eq!(
            codes,
            [
                status::PUBLISH_BAD_NAME,
                status::PUBLISH_BAD_NAME,
                status::PLAY_FAILED
            ]
        );
        assert!(h.events().is_empty());
        assert!(!h.server.is_closed());
    }

    #[test]
    fn a_player_holds_no_buffers_once_its_output_is_drained() {
        let mut h = Harness::connected(Amf0Value::object([("app", "live".into())]));
        h.send(0, "createStream", 2.0, Amf0Value::Null, vec![]);
        h.send(1, "play", 0.0, Amf0Value::Null, vec!["cam1".into()]);
        h.server.accept_play().unwrap();
        while !matches!(h.server.poll_output(), Output::Timeout(_)) {}
        // Thousands of idle players each kept the handshake's buffers.
        assert_eq!(h.server.link.buffer_capacity(), 0);
        assert_eq!(h.server.events.capacity(), 0);
    }

    #[test]
    fn pauses_and_stops_a_player() {
        let mut h = Harness::connected(Amf0Value::object([("app", "live".into())]));
        h.send(0, "createStream", 2.0, Amf0Value::Null, vec![]);
        h.send(
            1,
            "play",
            0.0,
            Amf0Value::Null,
            vec!["cam1".into(), (-1.0).into(), (-1.0).into(), false.into()],
        );
        assert!(matches!(
            h.events()[..],
            [SessionEvent::PlayRequested {
                start: -1.0,
                reset: false,
                ..
            }]
        ));
        h.server.accept_play().unwrap();
        let codes: Vec<_> = h
            .commands()
            .iter()
            .filter(|c| c.name == "onStatus")
            .map(code)
            .collect();
        assert_eq!(codes, [status::PLAY_START]);
        h.send(
            1,
            "pause",
            0.0,
            Amf0Value::Null,
            vec![true.into(), 1000.0.into()],
        );
        h.send(
            1,
            "pause",
            0.0,
            Amf0Value::Null,
            vec![false.into(), 1000.0.into()],
        );
        let codes: Vec<_> = h.commands().iter().map(code).collect();
        assert_eq!(codes, [status::PAUSE_NOTIFY, status::UNPAUSE_NOTIFY]);
        h.server.end_of_stream().unwrap();
        let replies = h.replies();
        assert_eq!(
            replies[0].1,
            Message::UserControl(UserControl::StreamEof(1))
        );
        assert!(
            matches!(&replies[1], (1, Message::Command(c)) if code(c) == status::PLAY_UNPUBLISH_NOTIFY)
        );
        h.send(1, "closeStream", 0.0, Amf0Value::Null, vec![]);
        assert_eq!(
            h.events(),
            [
                SessionEvent::PauseChanged {
                    stream_id: 1,
                    paused: true
                },
                SessionEvent::PauseChanged {
                    stream_id: 1,
                    paused: false
                },
                SessionEvent::PlayStopped { stream_id: 1 },
            ]
        );
        assert_eq!(h.server.playing_stream_id(), None);
    }

    #[test]
    fn wrong_calls_leave_the_session_as_it_was() {
        let mut h = Harness::connected(Amf0Value::object([("app", "live".into())]));
        assert_eq!(
            h.server.accept_publish(),
            Err(SessionError::InvalidCall {
                call: "accept_publish",
                reason: "no publish is pending"
            })
        );
        assert!(h.server.end_of_stream().is_err());
        assert!(h.server.reject_connect("late").is_err());
        assert!(!h.server.is_closed());
    }

    #[test]
    fn rejects_connect_with_an_error_and_closes() {
        let mut h = Harness::new(ServerConfig::default());
        h.send(
            0,
            "connect",
            1.0,
            Amf0Value::object([("app", "private".into())]),
            vec![],
        );
        h.events();
        h.server.reject_connect("No such application.").unwrap();
        let commands = h.commands();
        assert_eq!(commands[0].name, "_error");
        assert_eq!(code(&commands[0]), status::CONNECT_REJECTED);
        assert_eq!(
            h.events(),
            [SessionEvent::Closed {
                reason: CloseReason::Rejected {
                    code: status::CONNECT_REJECTED
                }
            }]
        );
    }

    #[test]
    fn acknowledges_each_window() {
        let mut h = Harness::connected(Amf0Value::object([("app", "live".into())]));
        h.replies();
        let send = |h: &mut Harness, type_id, payload: &[u8]| {
            let header = MessageHeader {
                timestamp: 0,
                type_id,
                stream_id: 0,
            };
            let mut buf = BytesMut::new();
            encode_message(&mut buf, 4, header, payload, 128).unwrap();
            h.server.handle_input(&buf, h.now).unwrap();
        };
        send(
            &mut h,
            crate::rtmp::message::WINDOW_ACK_SIZE,
            &5000u32.to_be_bytes(),
        );
        assert!(h.replies().is_empty());
        // Acknowledgements count every byte received, the handshake's too:
        // about 3,150 so far; an aggregate message (ignored) passes 5,000.
        send(&mut h, 22, &[0; 2000]);
        let replies = h.replies();
        let [(0, Message::Acknowledgement { sequence })] = replies[..] else {
            panic!("{replies:?}");
        };
        assert_eq!(u64::from(sequence), h.server.link.received_bytes());
        send(&mut h, 22, &[0; 100]);
        assert!(h.replies().is_empty());
    }
}
