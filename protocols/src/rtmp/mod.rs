//! RTMP and Enhanced RTMP, sans-IO: the handshake, the chunk stream, the
//! messages and the sessions of a live origin (Adobe RTMP 1.0, Veovera
//! Enhanced RTMP v2).
//!
//! - [`handshake`]: C0 C1 C2 and S0 S1 S2, plain and digest.
//! - [`chunk`]: the chunk stream decoder and encoder.
//! - [`message`]: protocol control, user control, media, data and command
//!   messages.
//! - [`ServerSession`]: one encoder's or player's connection; bytes and time
//!   in, bytes, [`SessionEvent`]s and deadlines out, with the driver
//!   contract on its doc.
//! - [`ClientSession`]: publishes or plays one stream, for tests and the
//!   load harness.
//! - [`egress`]: frames to chunk bytes built once and shared by every
//!   player of a stream on a shard.
//! - [`ClientCaps`]: what a client declared it can decode (Enhanced RTMP
//!   `fourCcList`, `videoFourCcInfoMap`, `audioFourCcInfoMap`, `capsEx`).
//! - [`status`]: the `onStatus` codes players expect.
//!
//! Every size the peer announces is checked against [`RtmpLimits`] before
//! anything is allocated for it, and every failure is a [`SessionError`]
//! naming the stage and the byte offset.

mod caps;
pub mod chunk;
pub mod egress;
mod error;
pub mod handshake;
mod limits;
pub mod message;
mod session;
pub mod status;
mod timestamp;

pub use caps::{
    CAN_DECODE, CAN_ENCODE, CAN_FORWARD, CAPS_EX_MOD_EX, CAPS_EX_MULTITRACK, CAPS_EX_RECONNECT,
    CAPS_EX_TIMESTAMP_NANO_OFFSET, ClientCaps, SERVER_CAPS_EX,
};
pub use error::{ChunkError, MessageError, SessionError, Stage};
pub use limits::{
    DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CHUNK_SIZE,
    DEFAULT_MAX_CHUNK_STREAMS, DEFAULT_MAX_MESSAGE_LEN, DEFAULT_MAX_STREAMS, RtmpLimits,
};
pub use session::{
    ClientConfig, ClientEvent, ClientRole, ClientSession, CloseReason, DEFAULT_OUT_CHUNK_SIZE,
    DEFAULT_WINDOW_ACK_SIZE, Output, PlayRejection, PublishRejection, ServerConfig, ServerSession,
    SessionEvent,
};
