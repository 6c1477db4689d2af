//! Why an RTMP connection was refused or closed.

use std::fmt;
use std::time::Duration;

use arcly_media::flv::FlvError;

use crate::amf0::Amf0Error;

/// An error in the chunk stream: a header that cannot be followed, or a
/// size over a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A header announces a message longer than the limit. Checked at the
    /// header, before anything is buffered.
    #[error("chunk stream {csid} announces a message of {len} bytes, over the limit of {limit}")]
    MessageTooLong {
        /// The chunk stream id.
        csid: u32,
        /// The announced length.
        len: u64,
        /// The limit in force.
        limit: u32,
    },
    /// A chunk opens one chunk stream more than the limit allows.
    #[error("chunk stream {csid} is one more than the limit of {limit} chunk streams")]
    TooManyChunkStreams {
        /// The chunk stream id that would be opened.
        csid: u32,
        /// The limit in force.
        limit: usize,
    },
    /// A type 1, 2 or 3 header on a chunk stream that has had no type 0
    /// header to take the missing fields from.
    #[error("chunk stream {csid} starts with a type {fmt} header instead of type 0")]
    MissingHeader {
        /// The chunk stream id.
        csid: u32,
        /// The header format, 1 to 3.
        fmt: u8,
    },
    /// A header that starts a new message (or changes its length or type)
    /// while the previous message on the chunk stream is incomplete.
    #[error("chunk stream {csid} has a type {fmt} header in the middle of a message")]
    HeaderInsideMessage {
        /// The chunk stream id.
        csid: u32,
        /// The header format.
        fmt: u8,
    },
    /// Set Chunk Size with 0 or a size over the limit (the protocol allows
    /// at most 2^31 - 1).
    #[error("chunk size {size} is outside 1..={limit}")]
    InvalidChunkSize {
        /// The size asked for.
        size: u32,
        /// The largest size accepted.
        limit: u32,
    },
    /// Partly received messages on all chunk streams together hold more
    /// bytes than the limit.
    #[error("partly received messages hold more than the limit of {limit} bytes")]
    ReassemblyLimit {
        /// The limit in force.
        limit: usize,
    },
    /// A chunk stream id outside 2..=65599 (encoding only).
    #[error("chunk stream id {csid} is outside 2..=65599")]
    BadChunkStreamId {
        /// The id asked for.
        csid: u32,
    },
}

/// A complete message whose payload does not parse as its type says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A protocol control or user control message shorter than its fields.
    #[error("{what} message of {len} bytes is shorter than the {need} it needs")]
    Truncated {
        /// The message kind.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The length its fields need.
        need: usize,
    },
    /// An AMF3 data or command message (type 15 or 17) whose format byte is
    /// not 0; arcly reads only AMF0 bodies behind that byte.
    #[error("amf3 message with format byte 0x{byte:02x}, only 0 (an amf0 body) is supported")]
    Amf3Format {
        /// The format byte.
        byte: u8,
    },
    /// The AMF0 body of a command or data message.
    #[error(transparent)]
    Amf0(#[from] Amf0Error),
}

/// The part of a session an error came from, for logs and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// C0/C1/C2 or S0/S1/S2.
    Handshake,
    /// Chunk headers and message reassembly.
    ChunkStream,
    /// A complete message's payload.
    Message,
    /// A command out of place.
    Command,
    /// An audio, video or data payload.
    Media,
    /// A timer ran out.
    Timer,
    /// A call the driver made that the session's state does not allow.
    Driver,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Handshake => "handshake",
            Stage::ChunkStream => "chunk stream",
            Stage::Message => "message",
            Stage::Command => "command",
            Stage::Media => "media",
            Stage::Timer => "timer",
            Stage::Driver => "driver",
        })
    }
}

/// Why a session failed. Every error closes the session.
///
/// Offsets count bytes received on the connection, from the first byte of
/// C0 (or S0 for a client), so a capture of the connection can be cut at
/// the byte that was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// C0 (or S0) names a protocol version other than 3: not RTMP, or
    /// RTMPE, which arcly does not speak.
    #[error("handshake version {version} at byte 0, only 3 is supported")]
    UnsupportedVersion {
        /// The version byte.
        version: u8,
    },
    /// The chunk stream could not be followed.
    #[error("chunk stream error at byte {offset}: {source}")]
    Chunk {
        /// Where the offending chunk starts.
        offset: u64,
        /// What was wrong.
        source: ChunkError,
    },
    /// A complete message did not parse.
    #[error("message type {type_id} at byte {offset}: {source}")]
    Message {
        /// Where the message's first chunk starts.
        offset: u64,
        /// The message type id.
        type_id: u8,
        /// What was wrong.
        source: MessageError,
    },
    /// A command that the session's state does not allow here.
    #[error("command {name:?} at byte {offset}: {reason}")]
    UnexpectedCommand {
        /// Where the command's first chunk starts.
        offset: u64,
        /// The command name, as sent.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An audio, video or data payload that arcly cannot read.
    #[error("media message at byte {offset}: {source}")]
    Media {
        /// Where the message's first chunk starts.
        offset: u64,
        /// What was wrong.
        source: FlvError,
    },
    /// The handshake and `connect` did not finish in time.
    #[error("handshake and connect not done within the limit of {limit:?}")]
    HandshakeTimeout {
        /// The limit in force.
        limit: Duration,
    },
    /// Nothing was received for too long.
    #[error("nothing received for the idle limit of {limit:?}")]
    IdleTimeout {
        /// The limit in force.
        limit: Duration,
    },
    /// More input arrived while the session awaited the driver's decision
    /// than it buffers.
    #[error("{len} bytes buffered while awaiting a decision, over the limit of {limit}")]
    InputOverflow {
        /// Bytes buffered.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A command method was called when the session's state does not allow
    /// it (accepting a publish nobody asked for, sending a frame before
    /// publishing started ...).
    #[error("{call} is not allowed now: {reason}")]
    InvalidCall {
        /// The method.
        call: &'static str,
        /// Why not.
        reason: &'static str,
    },
    /// A message the session built could not be encoded (a frame over the
    /// 16 MiB an RTMP message can hold, a body FLV cannot carry ...).
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error, as text.
        reason: String,
    },
    /// The session was already closed.
    #[error("session is closed")]
    Closed,
}

impl SessionError {
    /// The part of the session the error came from.
    pub fn stage(&self) -> Stage {
        match self {
            SessionError::UnsupportedVersion { .. } => Stage::Handshake,
            SessionError::Chunk { .. } => Stage::ChunkStream,
            SessionError::Message { .. } => Stage::Message,
            SessionError::UnexpectedCommand { .. } => Stage::Command,
            SessionError::Media { .. } => Stage::Media,
            SessionError::HandshakeTimeout { .. } | SessionError::IdleTimeout { .. } => {
                Stage::Timer
            }
            SessionError::InputOverflow { .. }
            | SessionError::InvalidCall { .. }
            | SessionError::Encode { .. }
            | SessionError::Closed => Stage::Driver,
        }
    }

    /// The byte offset in the received stream, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            SessionError::UnsupportedVersion { .. } => Some(0),
            SessionError::Chunk { offset, .. }
            | SessionError::Message { offset, .. }
            | SessionError::UnexpectedCommand { offset, .. }
            | SessionError::Media { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}
