//! What a shard needs to start a mirror of a stream it does not own.

use std::sync::Arc;

use crate::{ConfigSet, MediaFrame, PublishInfo, Seq, StreamKey, StreamState};

/// A stream's state at one push, from [`Stream::snapshot`](crate::Stream::snapshot),
/// for [`Stream::from_snapshot`](crate::Stream::from_snapshot) on another
/// shard. Payloads are shared, not copied; it is `Send`, so it travels
/// through the mailbox as it is.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub(crate) key: StreamKey,
    pub(crate) info: PublishInfo,
    pub(crate) state: StreamState,
    pub(crate) configs: Arc<ConfigSet>,
    pub(crate) gop_configs: Arc<ConfigSet>,
    pub(crate) gop_start: Option<Seq>,
    pub(crate) gop_frames: Vec<MediaFrame>,
    pub(crate) next_seq: Seq,
}

impl Snapshot {
    /// The stream's key.
    pub fn key(&self) -> &StreamKey {
        &self.key
    }

    /// Publisher and media information.
    pub fn info(&self) -> &PublishInfo {
        &self.info
    }

    /// The stream's state.
    pub fn state(&self) -> StreamState {
        self.state
    }

    /// The configs and metadata in force.
    pub fn configs(&self) -> &ConfigSet {
        &self.configs
    }

    /// The cached GOP's frames, keyframe first (empty when none is cached).
    pub fn gop_frames(&self) -> &[MediaFrame] {
        &self.gop_frames
    }

    /// The seq of the first frame the mirror must be pushed after this.
    pub fn next_seq(&self) -> Seq {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn travels_between_threads() {
        fn sendable<T: Send + Sync + Clone + 'static>() {}
        sendable::<Snapshot>();
    }
}
