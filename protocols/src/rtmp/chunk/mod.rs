//! The RTMP chunk stream (RTMP 1.0, section 5.3): messages cut into chunks
//! of at most the chunk size, each chunk with a header that leaves out what
//! the previous header on the same chunk stream already said.
//!
//! - [`ChunkDecoder`] reads chunks of all four header formats, keeps per
//!   chunk stream state, reassembles messages and hands out each one whole
//!   as a [`RawMessage`]. Every message length is checked against the limit
//!   at its header, before a byte of it is buffered.
//! - [`encode_message`] writes a message as a type 0 chunk followed by
//!   type 3 continuations. It never compresses headers against earlier
//!   ones, so its output depends on nothing but its arguments: the property
//!   that lets a shard encode a frame once for every player
//!   ([`egress`](super::egress)).

mod decoder;
mod encoder;
mod header;

pub use decoder::{ChunkDecoder, RawMessage};
pub use encoder::encode_message;
pub use header::{
    DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP, MAX_CHUNK_SIZE, MAX_CSID, MAX_MESSAGE_LEN, MIN_CSID,
    MessageHeader,
};
