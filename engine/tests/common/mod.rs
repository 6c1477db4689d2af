//! Frames, streams and a recording observer shared by the scenario tests.
// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use arcly_engine::{
    Codec, EvictReason, FrameFlags, MediaFrame, NoopObserver, Observer, PublishInfo, Pull, Stream,
    StreamKey, StreamLimits, Timestamp, ViewerId,
};
use bytes::Bytes;

pub(crate) fn frame(codec: Codec, flags: FrameFlags, ms: i64, payload: &str) -> MediaFrame {
    MediaFrame {
        codec,
        dts: Timestamp::from_millis(ms),
        pts: Timestamp::from_millis(ms),
        flags,
        payload: Bytes::from(payload.to_owned()),
    }
}

/// An H.264 sequence header.
pub(crate) fn vconfig(payload: &str) -> MediaFrame {
    frame(
        Codec::H264,
        FrameFlags::CONFIG | FrameFlags::KEYFRAME,
        0,
        payload,
    )
}

/// An AAC AudioSpecificConfig.
pub(crate) fn aconfig(payload: &str) -> MediaFrame {
    frame(Codec::Aac, FrameFlags::CONFIG, 0, payload)
}

/// An `onMetaData` message.
pub(crate) fn meta(payload: &str) -> MediaFrame {
    frame(Codec::Script, FrameFlags::NONE, 0, payload)
}

/// A GOP-starting video keyframe.
pub(crate) fn key(ms: i64, payload: &str) -> MediaFrame {
    frame(Codec::H264, FrameFlags::KEYFRAME, ms, payload)
}

/// A video frame that depends on earlier ones.
pub(crate) fn delta(ms: i64, payload: &str) -> MediaFrame {
    frame(Codec::H264, FrameFlags::NONE, ms, payload)
}

/// An AAC frame.
pub(crate) fn audio(ms: i64, payload: &str) -> MediaFrame {
    frame(Codec::Aac, FrameFlags::NONE, ms, payload)
}

pub(crate) fn stream_key() -> StreamKey {
    StreamKey::new("live", "cam").unwrap()
}

pub(crate) fn origin_with(limits: StreamLimits, observer: Arc<dyn Observer>) -> Stream {
    let now = Instant::now();
    Stream::new(
        stream_key(),
        PublishInfo::new("rtmp", None, now),
        limits,
        observer,
        now,
    )
}

pub(crate) fn origin(limits: StreamLimits) -> Stream {
    origin_with(limits, Arc::new(NoopObserver))
}

pub(crate) fn push_all(stream: &mut Stream, frames: impl IntoIterator<Item = MediaFrame>) {
    for f in frames {
        stream.push(f, Instant::now());
    }
}

/// One pull, written as the payload of a frame or the name of the outcome.
pub(crate) fn describe(pull: &Pull) -> String {
    match pull {
        Pull::Frame { frame, .. } => String::from_utf8_lossy(&frame.payload).into_owned(),
        Pull::Skipped { dropped } => format!("skipped {dropped}"),
        Pull::Evicted(reason) => format!("evicted: {reason}"),
        Pull::Ended => "ended".into(),
        Pull::Pending => "pending".into(),
    }
}

/// Pulls until nothing is left, and describes every item (the final
/// `pending` not included; `ended` and `evicted` included).
pub(crate) fn drain(stream: &mut Stream, id: ViewerId, queued_bytes: usize) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let pull = stream.pull(id, queued_bytes);
        if pull == Pull::Pending {
            return got;
        }
        let last = !matches!(pull, Pull::Frame { .. } | Pull::Skipped { .. });
        got.push(describe(&pull));
        if last {
            return got;
        }
    }
}

/// An observer that writes every event down.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) events: Mutex<Vec<String>>,
}

impl Recorder {
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }

    fn note(&self, event: String) {
        self.events.lock().unwrap().push(event);
    }
}

impl Observer for Recorder {
    fn on_publish_start(&self, key: &StreamKey, info: &PublishInfo) {
        self.note(format!("publish {key} {}", info.protocol));
    }
    fn on_publish_end(&self, key: &StreamKey) {
        self.note(format!("end {key}"));
    }
    fn on_join(&self, _key: &StreamKey, viewer: ViewerId) {
        self.note(format!("join {viewer}"));
    }
    fn on_leave(&self, _key: &StreamKey, viewer: ViewerId) {
        self.note(format!("leave {viewer}"));
    }
    fn on_skip(&self, _key: &StreamKey, viewer: ViewerId, dropped: u64) {
        self.note(format!("skip {viewer} {dropped}"));
    }
    fn on_evict(&self, _key: &StreamKey, viewer: ViewerId, reason: &EvictReason) {
        self.note(format!("evict {viewer}: {reason}"));
    }
    fn on_frame(&self, _key: &StreamKey, frame: &MediaFrame) {
        self.note(format!("frame {}", String::from_utf8_lossy(&frame.payload)));
    }
}
