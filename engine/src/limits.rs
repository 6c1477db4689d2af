//! The bounds that keep one stream's memory and one slow viewer in check.

/// Per-stream bounds, the same on the origin copy and on every mirror.
///
/// Frame and byte bounds apply together: whichever is reached first drops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Most frames the GOP cache holds; `0` disables the GOP cache.
    pub gop_cache_frames: usize,
    /// Most payload bytes the GOP cache holds; `0` disables the GOP cache.
    pub gop_cache_bytes: usize,
    /// Most frames the ring holds.
    pub ring_frames: usize,
    /// Most payload bytes the ring holds.
    pub ring_bytes: usize,
    /// Unsent bytes a viewer's driver may hold before the viewer counts as
    /// lagging and jumps to the newest keyframe.
    pub viewer_queue_bytes: usize,
    /// Skips a viewer may take; the next one evicts it.
    pub max_skips: u32,
}

impl StreamLimits {
    /// Whether joiners are served the cached GOP.
    pub fn gop_cache_enabled(&self) -> bool {
        self.gop_cache_frames > 0 && self.gop_cache_bytes > 0
    }
}

impl Default for StreamLimits {
    /// Sized for a public origin: a 10-second GOP at 60 fps and 25 Mbit/s
    /// fits the GOP cache; the ring covers several seconds of lag.
    fn default() -> Self {
        StreamLimits {
            gop_cache_frames: 2048,
            gop_cache_bytes: 32 << 20,
            ring_frames: 1024,
            ring_bytes: 16 << 20,
            viewer_queue_bytes: 4 << 20,
            max_skips: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_in_either_gop_bound_disables_the_cache() {
        let on = StreamLimits::default();
        assert!(on.gop_cache_enabled());
        let frames_off = StreamLimits {
            gop_cache_frames: 0,
            ..on.clone()
        };
        assert!(!frames_off.gop_cache_enabled());
        let bytes_off = StreamLimits {
            gop_cache_bytes: 0,
            ..on
        };
        assert!(!bytes_off.gop_cache_enabled());
    }
}
