//! Hooks for logs, metrics and webhooks, called as a stream changes.

use crate::{EvictReason, MediaFrame, PublishInfo, StreamKey, ViewerId};

/// Receives a stream's events. Every method defaults to doing nothing.
///
/// Publish and frame events fire only on the origin copy of a stream, so
/// each happens once however many mirrors there are; viewer events fire on
/// the copy the viewer is on. Calls are made inline from the stream's
/// methods: keep them short, and never call back into the stream.
pub trait Observer: Send + Sync {
    /// A publisher started (a new stream, or a republish within the grace
    /// period).
    fn on_publish_start(&self, _key: &StreamKey, _info: &PublishInfo) {}

    /// The stream ended.
    fn on_publish_end(&self, _key: &StreamKey) {}

    /// A viewer joined.
    fn on_join(&self, _key: &StreamKey, _viewer: ViewerId) {}

    /// A viewer left on its own.
    fn on_leave(&self, _key: &StreamKey, _viewer: ViewerId) {}

    /// A lagging viewer jumped ahead, leaving out `dropped` frames.
    fn on_skip(&self, _key: &StreamKey, _viewer: ViewerId, _dropped: u64) {}

    /// A viewer was disconnected by the lag policy.
    fn on_evict(&self, _key: &StreamKey, _viewer: ViewerId, _reason: &EvictReason) {}

    /// A frame was pushed by the publisher.
    fn on_frame(&self, _key: &StreamKey, _frame: &MediaFrame) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {}
