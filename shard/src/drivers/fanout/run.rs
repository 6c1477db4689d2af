//! Runs: the frames every steady viewer at the same place gets next,
//! encoded once into one buffer.
//!
//! Viewers that keep up are all at the same place in the stream when it
//! changes (with a merge window: all that wrote at the same moment before),
//! so pulling, encoding and gathering each frame for each of them repeats
//! the same work, and a write of many small parts costs the kernel a step
//! per part. Instead the fan-out builds one run per walk from the first
//! such viewer's place to the stream's end; each steady viewer at a place
//! inside it gets the run's tail in one part, and the engine moves it past
//! those frames at once ([`Subscription::advance`](crate::Subscription)).

use arcly_engine::{Seq, Stream, StreamState, TrackKind};
use bytes::{Bytes, BytesMut};

use crate::drivers::batch::{MAX_WRITE, Waiting};
use crate::drivers::egress::SharedEncoder;
use crate::pubsub::StreamWatch;

/// Runs a walk has built: few, since steady viewers share places.
const RUNS_PER_WALK: usize = 4;

/// One frame of a run.
struct RunFrame {
    /// Where its encoding ends in the run's bytes.
    end: usize,
    /// Its payload's length (the shard's byte counters count payloads).
    payload: usize,
    track: TrackKind,
}

/// Frames `from..to` of a stream copy, encoded for one wire format.
pub(super) struct Run {
    encoding: usize,
    generation: u64,
    from: Seq,
    frames: Vec<RunFrame>,
    /// GOP-starting keyframes in the run, for the delivery histogram.
    keyframes: Vec<Seq>,
    bytes: Bytes,
}

/// What a viewer at a place inside a run is written: the run's rest.
pub(super) struct Tail<'a> {
    /// The encoded frames, in one part.
    pub(super) bytes: Bytes,
    /// Whether the write would be due (see [`Waiting`]).
    pub(super) waiting: Waiting,
    /// Where the viewer is after it.
    pub(super) to: Seq,
    /// Payload bytes, for the counters.
    pub(super) payload: u64,
    /// GOP-starting keyframes in it.
    pub(super) keyframes: &'a [Seq],
}

impl Run {
    /// Encodes the frames of the copy `watch` watches from `from` to its
    /// end with `encoder`. `None` when a frame is no longer held, does not
    /// encode, or the run would pass one write's size, and once the stream
    /// has ended: the viewer's own batch deals with those (and meets the
    /// end after its last frames).
    fn build(watch: &StreamWatch, encoder: &SharedEncoder, from: Seq) -> Option<Run> {
        let generation = watch.generation();
        watch.read(|stream| Run::encode(stream, generation, encoder, from))
    }

    /// [`Run::build`] on `stream` of copy generation `generation`.
    fn encode(stream: &Stream, generation: u64, encoder: &SharedEncoder, from: Seq) -> Option<Run> {
        if stream.state() == StreamState::Ended {
            return None;
        }
        let to = stream.next_seq();
        let mut frames = Vec::with_capacity(usize::try_from(to.checked_sub(from)?).ok()?);
        let mut keyframes = Vec::new();
        let mut bytes = BytesMut::new();
        for seq in from..to {
            let frame = stream.frame(seq)?;
            let encoded = encoder.encode(seq, frame).ok()?;
            if bytes.len() + encoded.len() > MAX_WRITE {
                return None;
            }
            bytes.extend_from_slice(&encoded);
            if frame.starts_gop() {
                keyframes.push(seq);
            }
            frames.push(RunFrame {
                end: bytes.len(),
                payload: frame.len(),
                track: frame.track(),
            });
        }
        Some(Run {
            encoding: encoder.id(),
            generation,
            from,
            frames,
            keyframes,
            bytes: bytes.freeze(),
        })
    }

    /// The seq after the run's last frame.
    fn to(&self) -> Seq {
        self.from + self.frames.len() as Seq
    }

    fn holds(&self, encoding: usize, generation: u64, at: Seq) -> bool {
        self.encoding == encoding
            && self.generation == generation
            && (self.from..=self.to()).contains(&at)
    }

    /// The frames from `at` (inside the run) on.
    fn tail(&self, at: Seq) -> Tail<'_> {
        let skipped = (at - self.from) as usize;
        let start = skipped.checked_sub(1).map_or(0, |i| self.frames[i].end);
        let mut waiting = Waiting::default();
        let mut payload = 0;
        let mut begin = start;
        for frame in &self.frames[skipped..] {
            waiting.add(frame.end - begin, frame.track);
            payload += frame.payload as u64;
            begin = frame.end;
        }
        let first_key = self.keyframes.partition_point(|&seq| seq < at);
        Tail {
            bytes: self.bytes.slice(start..),
            waiting,
            to: self.to(),
            payload,
            keyframes: &self.keyframes[first_key..],
        }
    }
}

/// The runs of one walk over a group's viewers.
pub(super) struct Runs<'a> {
    watch: Option<&'a StreamWatch>,
    runs: Vec<Run>,
    /// Places no run could be built from (encoding, generation, seq), so
    /// each viewer there is not tried again.
    refused: Vec<(usize, u64, Seq)>,
}

impl<'a> Runs<'a> {
    /// Runs of the copy `watch` watches, built as viewers need them.
    pub(super) fn of(watch: &'a StreamWatch) -> Runs<'a> {
        Runs {
            watch: Some(watch),
            runs: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// No runs: each viewer gathers its own frames (a lone viewer served
    /// outside the walk).
    pub(super) fn none() -> Runs<'a> {
        Runs {
            watch: None,
            runs: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// What a steady viewer at `at`, encoding with `encoder`, is written:
    /// from a run holding `at`, built now if none does.
    pub(super) fn tail(&mut self, encoder: &SharedEncoder, at: Seq) -> Option<Tail<'_>> {
        let watch = self.watch?;
        let (encoding, generation) = (encoder.id(), watch.generation());
        let found = self
            .runs
            .iter()
            .position(|run| run.holds(encoding, generation, at));
        let index = match found {
            Some(index) => index,
            None => {
                let place = (encoding, generation, at);
                if self.refused.contains(&place) {
                    return None;
                }
                let Some(run) = Run::build(watch, encoder, at) else {
                    self.refused.push(place);
                    return None;
                };
                if self.runs.len() == RUNS_PER_WALK {
                    self.runs.remove(0);
                }
                self.runs.push(run);
                self.runs.len() - 1
            }
        };
        Some(self.runs[index].tail(at))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use arcly_engine::{
        Codec, FrameFlags, MediaFrame, NoopObserver, PublishInfo, StreamKey, StreamLimits,
        Timestamp,
    };

    use super::*;
    use crate::drivers::egress::WireFormat;

    fn frame(codec: Codec, flags: FrameFlags, ms: i64, len: usize) -> MediaFrame {
        MediaFrame {
            codec,
            dts: Timestamp::from_millis(ms),
            pts: Timestamp::from_millis(ms),
            flags,
            payload: Bytes::from(vec![ms as u8; len]),
        }
    }

    fn stream(frames: &[MediaFrame]) -> Stream {
        let now = Instant::now();
        let key = StreamKey::new("live", "run").unwrap();
        let info = PublishInfo::new("rtmp", None, now);
        let limits = StreamLimits::default();
        let mut stream = Stream::new(key, info, limits, Arc::new(NoopObserver), now);
        for frame in frames {
            stream.push(frame.clone(), now);
        }
        stream
    }

    fn encoder(name: &str) -> SharedEncoder {
        SharedEncoder::new(StreamKey::new("live", name).unwrap(), WireFormat::FlvTag)
    }

    #[test]
    fn a_tail_is_the_frames_from_its_place_as_each_viewer_would_gather_them() {
        let frames = [
            frame(Codec::H264, FrameFlags::KEYFRAME, 0, 300),
            frame(Codec::Aac, FrameFlags::NONE, 10, 20),
            frame(Codec::H264, FrameFlags::NONE, 40, 100),
            frame(Codec::Aac, FrameFlags::NONE, 33, 20),
            frame(Codec::Aac, FrameFlags::NONE, 56, 20),
        ];
        let stream = stream(&frames);
        let encoder = encoder("tail");
        let run = Run::encode(&stream, 0, &encoder, 0).unwrap();
        assert_eq!(run.to(), 5);
        let each: Vec<Bytes> = (0..5)
            .map(|seq| encoder.encode(seq, &frames[seq as usize]).unwrap())
            .collect();

        let whole = run.tail(0);
        assert_eq!(whole.bytes, each.concat());
        assert_eq!(whole.keyframes, [0]);
        assert_eq!(whole.payload, 460);
        assert!(whole.waiting.has_video);

        let audio_only = run.tail(3);
        assert_eq!(audio_only.bytes, each[3..].concat());
        assert_eq!(audio_only.to, 5);
        assert!(audio_only.keyframes.is_empty());
        let gathered = Waiting {
            size: each[3].len() + each[4].len(),
            audio: 2,
            has_video: false,
        };
        assert_eq!(audio_only.waiting, gathered);
        assert!(run.tail(5).bytes.is_empty(), "nothing past the end");
    }

    #[test]
    fn runs_are_not_built_past_one_write_or_over_missing_frames() {
        let big = frame(Codec::H264, FrameFlags::KEYFRAME, 0, MAX_WRITE);
        let encoder = encoder("big");
        assert!(Run::encode(&stream(&[big]), 0, &encoder, 0).is_none());
        let small = frame(Codec::H264, FrameFlags::KEYFRAME, 0, 10);
        let stream = stream(&[small]);
        assert!(Run::encode(&stream, 0, &encoder, 0).is_some());
        assert!(
            Run::encode(&stream, 0, &encoder, 2).is_none(),
            "seq 2 is not pushed yet"
        );
    }

    #[test]
    fn an_ended_stream_has_no_runs() {
        let mut stream = stream(&[frame(Codec::Aac, FrameFlags::NONE, 0, 10)]);
        stream.end(Instant::now());
        assert!(Run::encode(&stream, 0, &encoder("ended"), 0).is_none());
    }
}
