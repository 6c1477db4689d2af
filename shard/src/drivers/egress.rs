//! Egress encoded once per (stream, shard, wire format): the wire bytes of a
//! frame (RTMP chunks, an FLV tag) are built by the first viewer on this
//! shard that needs them and shared, as `Bytes`, with every other viewer of
//! the stream on this shard that speaks the same format.
//!
//! RTMP bytes depend only on the frame, the chunk size and the message
//! stream id (every message starts with a type-0 header carrying its
//! absolute timestamp); an FLV tag only on the frame. Mirrors keep the
//! origin's seqs, which makes `seq` a good key.
//! Each cached entry also remembers the frame's dts and length, so a
//! stream that restarted under the same key (seqs from 0 again) is never
//! served stale bytes.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use arcly_engine::{MediaFrame, Seq, StreamKey, Timestamp};
use arcly_media::flv::{FlvError, FlvTag};
use arcly_protocols::rtmp::egress::{EgressError, encode_media};
use bytes::{Bytes, BytesMut};

/// Encodings kept per stream and format: every player on the shard takes
/// a frame at the live edge at about the same time, and a joiner takes the
/// cached GOP (2 s at 60 fps with audio is about 200 frames). A frame that
/// has left the cache (a longer GOP, a lagging viewer) is encoded again:
/// CPU for that viewer, never wrong bytes. 4,096 kept about a minute of
/// media per stream, more than the engine's ring and GOP cache ever serve.
const CACHED_FRAMES: usize = 512;

/// How a frame is put on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum WireFormat {
    /// Whole RTMP chunks of one message.
    Rtmp {
        /// The chunk size the player was told.
        chunk_size: u32,
        /// The message stream the player plays on.
        stream_id: u32,
    },
    /// One FLV tag with its previous-tag-size (HTTP-FLV).
    FlvTag,
}

/// Why a frame could not be encoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EncodeError {
    /// As RTMP chunks.
    #[error(transparent)]
    Rtmp(#[from] EgressError),
    /// As an FLV tag.
    #[error(transparent)]
    Flv(#[from] FlvError),
}

impl WireFormat {
    fn encode(self, frame: &MediaFrame) -> Result<Bytes, EncodeError> {
        match self {
            WireFormat::Rtmp {
                chunk_size,
                stream_id,
            } => Ok(encode_media(frame, chunk_size, stream_id)?),
            WireFormat::FlvTag => {
                let tag = FlvTag::from_frame(frame)?;
                let mut out = BytesMut::with_capacity(tag.encoded_len());
                tag.encode(&mut out)?;
                Ok(out.freeze())
            }
        }
    }
}

/// Which encoding: the stream and the format.
type EncodingKey = (StreamKey, WireFormat);

/// One encoded frame.
struct Encoded {
    seq: Seq,
    dts: Timestamp,
    len: usize,
    bytes: Bytes,
}

/// The encodings of one stream and format on this shard, ascending by seq.
struct StreamEncodings {
    key: EncodingKey,
    frames: VecDeque<Encoded>,
}

impl StreamEncodings {
    /// Where `seq` is (`Ok`) or would go (`Err`). Seqs are consecutive
    /// unless a stream restarted, so the place is first looked up by its
    /// distance from the oldest, in constant time.
    fn position(&self, seq: Seq) -> Result<usize, usize> {
        let Some(first) = self.frames.front() else {
            return Err(0);
        };
        let guess = seq
            .checked_sub(first.seq)
            .and_then(|d| usize::try_from(d).ok());
        match guess.and_then(|i| self.frames.get(i).map(|e| (i, e.seq))) {
            Some((i, found)) if found == seq => Ok(i),
            _ if self.frames.back().is_some_and(|last| last.seq < seq) => Err(self.frames.len()),
            _ => self.frames.binary_search_by_key(&seq, |e| e.seq),
        }
    }
}

/// One per shard: the encodings viewers of each stream and format share.
type Registry = HashMap<EncodingKey, Rc<RefCell<StreamEncodings>>>;

thread_local! {
    /// One per shard thread: the shard's shared encodings.
    static ENCODINGS: RefCell<Registry> = RefCell::new(HashMap::new());
}

/// A viewer's handle on the shared encodings of its stream; dropping the
/// last handle of a stream and format frees its encodings. The handle
/// holds the encodings themselves, so encoding a frame looks up nothing.
pub(crate) struct SharedEncoder {
    format: WireFormat,
    cache: Rc<RefCell<StreamEncodings>>,
}

impl SharedEncoder {
    pub(crate) fn new(stream: StreamKey, format: WireFormat) -> SharedEncoder {
        let key = (stream, format);
        let cache = ENCODINGS.with_borrow_mut(|all| {
            let cache = all.entry(key.clone()).or_insert_with(|| {
                Rc::new(RefCell::new(StreamEncodings {
                    key,
                    frames: VecDeque::new(),
                }))
            });
            Rc::clone(cache)
        });
        SharedEncoder { format, cache }
    }

    /// Equal for encoders of the same stream and wire format on this
    /// shard, which encode every frame to the same bytes.
    pub(crate) fn id(&self) -> usize {
        Rc::as_ptr(&self.cache) as usize
    }

    /// The wire bytes of `frame` (stream position `seq`), encoded now if no
    /// player on this shard has needed them yet.
    pub(crate) fn encode(&self, seq: Seq, frame: &MediaFrame) -> Result<Bytes, EncodeError> {
        let mut cache = self.cache.borrow_mut();
        let at = cache.position(seq);
        if let Ok(i) = at {
            let hit = &cache.frames[i];
            if hit.dts == frame.dts && hit.len == frame.len() {
                return Ok(hit.bytes.clone());
            }
        }
        let bytes = self.format.encode(frame)?;
        let encoded = Encoded {
            seq,
            dts: frame.dts,
            len: frame.len(),
            bytes: bytes.clone(),
        };
        match at {
            Ok(i) => cache.frames[i] = encoded,
            Err(i) => cache.frames.insert(i, encoded),
        }
        if cache.frames.len() > CACHED_FRAMES {
            cache.frames.pop_front();
        }
        Ok(bytes)
    }
}

impl Drop for SharedEncoder {
    fn drop(&mut self) {
        // The registry's and this handle's: the last handle is going.
        if Rc::strong_count(&self.cache) == 2 {
            let key = self.cache.borrow().key.clone();
            ENCODINGS.with_borrow_mut(|all| all.remove(&key));
        }
    }
}

#[cfg(test)]
mod tests {
    use arcly_engine::{Codec, FrameFlags};

    use super::*;

    fn frame(ms: i64, payload: &'static [u8]) -> MediaFrame {
        MediaFrame {
            codec: Codec::Aac,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms),
            flags: FrameFlags::KEYFRAME,
            payload: Bytes::from_static(payload),
        }
    }

    #[test]
    fn players_share_one_encoding_per_frame() {
        let key = StreamKey::new("live", "shared").unwrap();
        let rtmp = WireFormat::Rtmp {
            chunk_size: 4096,
            stream_id: 1,
        };
        let a = SharedEncoder::new(key.clone(), rtmp);
        let b = SharedEncoder::new(key.clone(), rtmp);
        let flv = SharedEncoder::new(key.clone(), WireFormat::FlvTag);
        let tag = flv.encode(7, &frame(40, b"abc")).unwrap();
        let first = a.encode(7, &frame(40, b"abc")).unwrap();
        let second = b.encode(7, &frame(40, b"abc")).unwrap();
        // The same allocation, not an equal copy.
        assert_eq!(first.as_ptr(), second.as_ptr());
        // Another format of the same frame is its own encoding.
        assert_ne!(tag, first);
        // A restarted stream reusing seq 7 gets fresh bytes.
        let restarted = b.encode(7, &frame(0, b"xyz")).unwrap();
        assert_ne!(restarted, first);
        drop((a, b, flv));
        ENCODINGS.with(|all| assert!(all.borrow().is_empty()));
    }

    #[test]
    fn frames_are_found_by_seq_across_gaps() {
        let key = StreamKey::new("live", "gaps").unwrap();
        let encoder = SharedEncoder::new(key, WireFormat::FlvTag);
        // Consecutive seqs, then a jump (a restarted stream), then one
        // filled in before the jump.
        for seq in [3, 4, 5, 9, 10, 7] {
            encoder.encode(seq, &frame(seq as i64, b"x")).unwrap();
        }
        let cache = encoder.cache.borrow();
        let seqs: Vec<Seq> = cache.frames.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5, 7, 9, 10]);
        assert_eq!(cache.position(5), Ok(2));
        assert_eq!(cache.position(9), Ok(4));
        assert_eq!(cache.position(8), Err(4));
        assert_eq!(cache.position(11), Err(6));
        assert_eq!(cache.position(1), Err(0));
    }
}
