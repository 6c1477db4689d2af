//! What one RTMP connection may cost: sizes, counts and times.

use std::time::Duration;

use crate::amf0::Amf0Limits;

/// Default [`RtmpLimits::max_message_len`]: 8 MiB, several times the
/// largest keyframe of a 4K stream at a high bit rate.
pub const DEFAULT_MAX_MESSAGE_LEN: u32 = 8 << 20;

/// Default [`RtmpLimits::max_chunk_size`]: 16 MiB (2^24). The protocol
/// allows up to 2^31 - 1; no real peer goes past a few tens of KiB.
pub const DEFAULT_MAX_CHUNK_SIZE: u32 = 1 << 24;

/// Default [`RtmpLimits::max_chunk_streams`]. Encoders and players use
/// three to eight.
pub const DEFAULT_MAX_CHUNK_STREAMS: usize = 64;

/// Default [`RtmpLimits::max_streams`]. Encoders and players open one.
pub const DEFAULT_MAX_STREAMS: usize = 4;

/// Default [`RtmpLimits::handshake_timeout`].
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Default [`RtmpLimits::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Bounds on one RTMP connection, so a hostile or broken peer costs at most
/// a known amount of memory and time. The defaults suit a public origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtmpLimits {
    /// The longest message accepted, checked at its chunk header before
    /// anything is buffered. While the session awaits a decision from the
    /// driver it also buffers at most this many bytes of input.
    pub max_message_len: u32,
    /// The largest chunk size a peer may set (values over 2^31 - 1 are
    /// treated as 2^31 - 1).
    pub max_chunk_size: u32,
    /// How many chunk stream ids a peer may use.
    pub max_chunk_streams: usize,
    /// How many message streams (`createStream`) may be open at once.
    pub max_streams: usize,
    /// Bytes held for partly received messages on all chunk streams
    /// together, counted by their declared lengths (each is reserved whole
    /// when its first chunk arrives); twice `max_message_len` by default,
    /// which lets a video message and an audio message interleave at full
    /// size.
    pub max_reassembly_bytes: usize,
    /// Time from the first byte of the connection until `connect` has been
    /// read; this also bounds a peer that trickles the handshake.
    pub handshake_timeout: Duration,
    /// Time without input after which the connection is closed. A server
    /// session sends a Ping Request at half of it, so a silent player that
    /// is alive answers in time.
    pub idle_timeout: Duration,
    /// Bounds on every AMF0 body (commands, metadata).
    pub amf0: Amf0Limits,
}

impl Default for RtmpLimits {
    fn default() -> Self {
        RtmpLimits {
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            max_chunk_size: DEFAULT_MAX_CHUNK_SIZE,
            max_chunk_streams: DEFAULT_MAX_CHUNK_STREAMS,
            max_streams: DEFAULT_MAX_STREAMS,
            max_reassembly_bytes: 2 * DEFAULT_MAX_MESSAGE_LEN as usize,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            amf0: Amf0Limits::default(),
        }
    }
}
