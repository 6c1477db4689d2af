//! RTMP's 32-bit millisecond timestamps on a timeline that does not wrap.

/// Extends 32-bit timestamps to `i64` milliseconds.
///
/// Each timestamp is placed at the signed 32-bit distance from the one
/// before, so the timeline runs on past 2^32 ms (49.7 days) without a jump,
/// and a message slightly older than the last (audio and video interleave
/// out of order) lands just before it rather than 49.7 days later. The
/// first timestamp is taken as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimestampUnwrapper {
    last: Option<(u32, i64)>,
}

impl TimestampUnwrapper {
    /// The unwrapped value of `raw`.
    pub(crate) fn unwrap(&mut self, raw: u32) -> i64 {
        let value = match self.last {
            None => i64::from(raw),
            Some((last_raw, last)) => last + i64::from(raw.wrapping_sub(last_raw) as i32),
        };
        self.last = Some((raw, value));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_past_the_wrap() {
        let mut unwrapper = TimestampUnwrapper::default();
        assert_eq!(unwrapper.unwrap(u32::MAX - 10), i64::from(u32::MAX) - 10);
        assert_eq!(unwrapper.unwrap(5), (1 << 32) + 5);
        assert_eq!(unwrapper.unwrap(2), (1 << 32) + 2);
        assert_eq!(unwrapper.unwrap(u32::MAX), i64::from(u32::MAX));
    }

    #[test]
    fn starts_where_the_stream_starts() {
        let mut unwrapper = TimestampUnwrapper::default();
        assert_eq!(unwrapper.unwrap(16_777_800), 16_777_800);
        assert_eq!(unwrapper.unwrap(0), 0);
        assert_eq!(unwrapper.unwrap(40), 40);
    }
}
