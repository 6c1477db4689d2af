//! RTMP messages (RTMP 1.0, sections 5.4, 6 and 7): protocol control, user
//! control, audio, video, data and commands.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::MessageError;
use crate::amf0::{Amf0Error, Amf0Limits, Command};

/// Set Chunk Size: the sender's chunks are this large from now on.
pub const SET_CHUNK_SIZE: u8 = 1;
/// Abort: drop the partial message on a chunk stream.
pub const ABORT: u8 = 2;
/// Acknowledgement: bytes received so far.
pub const ACKNOWLEDGEMENT: u8 = 3;
/// User Control: stream and ping events.
pub const USER_CONTROL: u8 = 4;
/// Window Acknowledgement Size: acknowledge every this many bytes.
pub const WINDOW_ACK_SIZE: u8 = 5;
/// Set Peer Bandwidth: the peer's output window.
pub const SET_PEER_BANDWIDTH: u8 = 6;
/// Audio: an FLV audio tag body.
pub const AUDIO: u8 = 8;
/// Video: an FLV video tag body.
pub const VIDEO: u8 = 9;
/// Data with an AMF3 format byte.
pub const DATA_AMF3: u8 = 15;
/// A command with an AMF3 format byte.
pub const COMMAND_AMF3: u8 = 17;
/// Data (`@setDataFrame`, `onMetaData` ...) in AMF0.
pub const DATA_AMF0: u8 = 18;
/// A command (`connect`, `publish`, `_result` ...) in AMF0.
pub const COMMAND_AMF0: u8 = 20;

/// User Control event types.
const STREAM_BEGIN: u16 = 0;
const STREAM_EOF: u16 = 1;
const STREAM_DRY: u16 = 2;
const SET_BUFFER_LENGTH: u16 = 3;
const STREAM_IS_RECORDED: u16 = 4;
const PING_REQUEST: u16 = 6;
const PING_RESPONSE: u16 = 7;

/// A User Control event (message type 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserControl {
    /// The server starts sending a stream's media (stream id).
    StreamBegin(u32),
    /// The stream's media has ended (stream id).
    StreamEof(u32),
    /// No more data on the stream for now (stream id).
    StreamDry(u32),
    /// The client's buffer for a stream, in milliseconds.
    SetBufferLength {
        /// The message stream.
        stream_id: u32,
        /// Buffer length in milliseconds.
        buffer_ms: u32,
    },
    /// The stream is recorded, not live (stream id).
    StreamIsRecorded(u32),
    /// A liveness probe: answer with a Ping Response carrying the value.
    PingRequest(u32),
    /// The answer to a Ping Request.
    PingResponse(u32),
    /// An event type arcly does not act on (FMS buffer events ...).
    Other {
        /// The event type.
        event_type: u16,
    },
}

impl UserControl {
    fn decode(body: &[u8]) -> Result<UserControl, MessageError> {
        let truncated = |need| MessageError::Truncated {
            what: "user control",
            len: body.len(),
            need,
        };
        let word = |at: usize| {
            body.get(at..)
                .and_then(|rest| rest.first_chunk::<4>())
                .map(|bytes| u32::from_be_bytes(*bytes))
                .ok_or(truncated(at + 4))
        };
        let event_type = body
            .first_chunk::<2>()
            .map(|bytes| u16::from_be_bytes(*bytes))
            .ok_or(truncated(2))?;
        Ok(match event_type {
            STREAM_BEGIN => UserControl::StreamBegin(word(2)?),
            STREAM_EOF => UserControl::StreamEof(word(2)?),
            STREAM_DRY => UserControl::StreamDry(word(2)?),
            SET_BUFFER_LENGTH => UserControl::SetBufferLength {
                stream_id: word(2)?,
                buffer_ms: word(6)?,
            },
            STREAM_IS_RECORDED => UserControl::StreamIsRecorded(word(2)?),
            PING_REQUEST => UserControl::PingRequest(word(2)?),
            PING_RESPONSE => UserControl::PingResponse(word(2)?),
            event_type => UserControl::Other { event_type },
        })
    }

    fn encode(&self, dst: &mut BytesMut) {
        let (event_type, value) = match *self {
            UserControl::StreamBegin(id) => (STREAM_BEGIN, id),
            UserControl::StreamEof(id) => (STREAM_EOF, id),
            UserControl::StreamDry(id) => (STREAM_DRY, id),
            UserControl::SetBufferLength {
                stream_id,
                buffer_ms,
            } => {
                dst.put_u16(SET_BUFFER_LENGTH);
                dst.put_u32(stream_id);
                dst.put_u32(buffer_ms);
                return;
            }
            UserControl::StreamIsRecorded(id) => (STREAM_IS_RECORDED, id),
            UserControl::PingRequest(time) => (PING_REQUEST, time),
            UserControl::PingResponse(time) => (PING_RESPONSE, time),
            UserControl::Other { event_type } => {
                dst.put_u16(event_type);
                return;
            }
        };
        dst.put_u16(event_type);
        dst.put_u32(value);
    }
}

/// One RTMP message, its payload parsed as its type says.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// The sender's new chunk size (checked by the chunk decoder, not here).
    SetChunkSize(u32),
    /// Drop the partial message on this chunk stream.
    Abort {
        /// The chunk stream.
        csid: u32,
    },
    /// Bytes the sender has received, modulo 2^32.
    Acknowledgement {
        /// The byte count.
        sequence: u32,
    },
    /// A User Control event.
    UserControl(UserControl),
    /// Acknowledge every this many bytes received.
    WindowAckSize(u32),
    /// Limit the receiver's output to this window.
    SetPeerBandwidth {
        /// The window in bytes.
        size: u32,
        /// 0 hard, 1 soft, 2 dynamic.
        limit_type: u8,
    },
    /// An FLV audio tag body.
    Audio(Bytes),
    /// An FLV video tag body.
    Video(Bytes),
    /// An AMF0 data body (the AMF3 format byte of type 15 removed).
    Data(Bytes),
    /// A command (type 20, or type 17 with its format byte removed).
    Command(Command),
    /// A type arcly does not act on (shared objects, aggregates), kept raw.
    Other {
        /// The message type id.
        type_id: u8,
        /// The payload as received.
        payload: Bytes,
    },
}

impl Message {
    /// Parses the payload of a message of type `type_id`.
    ///
    /// Refused: control messages shorter than their fields, AMF3 messages
    /// whose format byte is not 0, and command bodies that are not AMF0
    /// commands.
    pub fn decode(
        type_id: u8,
        payload: Bytes,
        limits: Amf0Limits,
    ) -> Result<Message, MessageError> {
        let u32_field = |what| {
            payload
                .first_chunk::<4>()
                .map(|bytes| u32::from_be_bytes(*bytes))
                .ok_or(MessageError::Truncated {
                    what,
                    len: payload.len(),
                    need: 4,
                })
        };
        Ok(match type_id {
            SET_CHUNK_SIZE => Message::SetChunkSize(u32_field("set chunk size")?),
            ABORT => Message::Abort {
                csid: u32_field("abort")?,
            },
            ACKNOWLEDGEMENT => Message::Acknowledgement {
                sequence: u32_field("acknowledgement")?,
            },
            USER_CONTROL => Message::UserControl(UserControl::decode(&payload)?),
            WINDOW_ACK_SIZE => Message::WindowAckSize(u32_field("window acknowledgement size")?),
            SET_PEER_BANDWIDTH => {
                let size = u32_field("set peer bandwidth")?;
                let limit_type = *payload.get(4).ok_or(MessageError::Truncated {
                    what: "set peer bandwidth",
                    len: payload.len(),
                    need: 5,
                })?;
                Message::SetPeerBandwidth { size, limit_type }
            }
            AUDIO => Message::Audio(payload),
            VIDEO => Message::Video(payload),
            DATA_AMF0 => Message::Data(payload),
            DATA_AMF3 => Message::Data(amf3_body(payload)?),
            COMMAND_AMF0 => Message::Command(Command::decode_with_limits(&payload, limits)?),
            COMMAND_AMF3 => {
                let body = amf3_body(payload)?;
                Message::Command(Command::decode_with_limits(&body, limits)?)
            }
            type_id => Message::Other { type_id, payload },
        })
    }

    /// The message type id it is sent with (AMF0 types for data and
    /// commands).
    pub fn type_id(&self) -> u8 {
        match self {
            Message::SetChunkSize(_) => SET_CHUNK_SIZE,
            Message::Abort { .. } => ABORT,
            Message::Acknowledgement { .. } => ACKNOWLEDGEMENT,
            Message::UserControl(_) => USER_CONTROL,
            Message::WindowAckSize(_) => WINDOW_ACK_SIZE,
            Message::SetPeerBandwidth { .. } => SET_PEER_BANDWIDTH,
            Message::Audio(_) => AUDIO,
            Message::Video(_) => VIDEO,
            Message::Data(_) => DATA_AMF0,
            Message::Command(_) => COMMAND_AMF0,
            Message::Other { type_id, .. } => *type_id,
        }
    }

    /// Appends the payload to `dst`.
    ///
    /// Refused: a command whose AMF0 encoding fails (an object key over
    /// 65,535 bytes).
    pub fn encode_payload(&self, dst: &mut BytesMut) -> Result<(), Amf0Error> {
        match self {
            Message::SetChunkSize(value)
            | Message::Abort { csid: value }
            | Message::Acknowledgement { sequence: value }
            | Message::WindowAckSize(value) => dst.put_u32(*value),
            Message::UserControl(event) => event.encode(dst),
            Message::SetPeerBandwidth { size, limit_type } => {
                dst.put_u32(*size);
                dst.put_u8(*limit_type);
            }
            Message::Audio(body)
            | Message::Video(body)
            | Message::Data(body)
            | Message::Other { payload: body, .. } => dst.put_slice(body),
            Message::Command(command) => command.encode(dst)?,
        }
        Ok(())
    }
}

/// The AMF0 body behind an AMF3 message's format byte.
fn amf3_body(mut payload: Bytes) -> Result<Bytes, MessageError> {
    match payload.first() {
        Some(0) => {
            payload.advance(1);
            Ok(payload)
        }
        Some(&byte) => Err(MessageError::Amf3Format { byte }),
        None => Err(MessageError::Truncated {
            what: "amf3",
            len: 0,
            need: 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amf0::Amf0Value;

    fn round_trip(message: Message) {
        let mut buf = BytesMut::new();
        message.encode_payload(&mut buf).unwrap();
        let back = Message::decode(message.type_id(), buf.freeze(), Amf0Limits::default());
        assert_eq!(back, Ok(message));
    }

    #[test]
    fn round_trips_control_messages() {
        round_trip(Message::SetChunkSize(4096));
        round_trip(Message::Abort { csid: 6 });
        round_trip(Message::Acknowledgement { sequence: 1 << 31 });
        round_trip(Message::WindowAckSize(2_500_000));
        round_trip(Message::SetPeerBandwidth {
            size: 2_500_000,
            limit_type: 2,
        });
        for event in [
            UserControl::StreamBegin(1),
            UserControl::StreamEof(1),
            UserControl::StreamDry(1),
            UserControl::SetBufferLength {
                stream_id: 1,
                buffer_ms: 3000,
            },
            UserControl::StreamIsRecorded(1),
            UserControl::PingRequest(12345),
            UserControl::PingResponse(12345),
            UserControl::Other { event_type: 31 },
        ] {
            round_trip(Message::UserControl(event));
        }
    }

    #[test]
    fn writes_control_messages_as_the_specification_does() {
        let mut buf = BytesMut::new();
        Message::UserControl(UserControl::StreamBegin(1))
            .encode_payload(&mut buf)
            .unwrap();
        assert_eq!(&buf[..], &[0, 0, 0, 0, 0, 1]);
        buf.clear();
        Message::SetPeerBandwidth {
            size: 0x0026_25a0,
            limit_type: 2,
        }
        .encode_payload(&mut buf)
        .unwrap();
        assert_eq!(&buf[..], &[0x00, 0x26, 0x25, 0xa0, 0x02]);
    }

    #[test]
    fn reads_amf3_commands_behind_their_format_byte() {
        let command = Command {
            name: "play".into(),
            transaction_id: 0.0,
            command_object: Amf0Value::Null,
            args: vec!["cam".into()],
        };
        let mut body = BytesMut::from(&[0u8][..]);
        command.encode(&mut body).unwrap();
        let message = Message::decode(COMMAND_AMF3, body.freeze(), Amf0Limits::default());
        assert_eq!(message, Ok(Message::Command(command)));
        assert_eq!(
            Message::decode(
                DATA_AMF3,
                Bytes::from_static(b"\x11\x06"),
                Amf0Limits::default()
            ),
            Err(MessageError::Amf3Format { byte: 0x11 })
        );
        assert_eq!(
            Message::decode(
                DATA_AMF3,
                Bytes::from_static(b"\x00\x05"),
                Amf0Limits::default()
            ),
            Ok(Message::Data(Bytes::from_static(b"\x05")))
        );
    }

    #[test]
    fn refuses_short_control_messages() {
        let limits = Amf0Limits::default();
        assert_eq!(
            Message::decode(SET_CHUNK_SIZE, Bytes::from_static(&[0, 0, 1]), limits),
            Err(MessageError::Truncated {
                what: "set chunk size",
                len: 3,
                need: 4
            })
        );
        assert_eq!(
            Message::decode(
                USER_CONTROL,
                Bytes::from_static(&[0, 3, 0, 0, 0, 1]),
                limits
            ),
            Err(MessageError::Truncated {
                what: "user control",
                len: 6,
                need: 10
            })
        );
        assert_eq!(
            Message::decode(USER_CONTROL, Bytes::from_static(&[0]), limits),
            Err(MessageError::Truncated {
                what: "user control",
                len: 1,
                need: 2
            })
        );
        assert!(matches!(
            Message::decode(
                COMMAND_AMF0,
                Bytes::from_static(b"\x02\x00\x09conn"),
                limits
            ),
            Err(MessageError::Amf0(Amf0Error::Truncated { .. }))
        ));
    }

    #[test]
    fn keeps_other_types_raw() {
        let message = Message::decode(22, Bytes::from_static(b"agg"), Amf0Limits::default());
        assert_eq!(
            message,
            Ok(Message::Other {
                type_id: 22,
                payload: Bytes::from_static(b"agg")
            })
        );
    }
}
