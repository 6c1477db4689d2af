//! How busy each stream's HLS is: requests per stream over the last minute,
//! per shard. HLS players hold no connection, so requests are the only
//! measure of an HLS audience the router sees.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use arcly_engine::StreamKey;

use crate::ShardCtx;
use crate::stats::bump;

/// The span counted.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// Buckets per window: the count is exact to a sixth of the window.
const BUCKETS: usize = 6;

/// Streams tracked per shard at most, so requests for made-up keys cannot
/// grow the map without bound; past it, keys quiet for a whole window are
/// dropped, and if none is, new keys are not tracked (the shard-wide
/// counter still counts them).
const MAX_KEYS: usize = 4096;

/// One stream's requests, bucketed by time.
struct Recent {
    /// `(bucket index since the tally started, requests in it)`.
    buckets: [(u64, u64); BUCKETS],
}

impl Recent {
    fn add(&mut self, index: u64) {
        let bucket = &mut self.buckets[(index % BUCKETS as u64) as usize];
        if bucket.0 != index {
            *bucket = (index, 0);
        }
        bucket.1 += 1;
    }

    fn total(&self, now: u64) -> u64 {
        let oldest = now.saturating_sub(BUCKETS as u64 - 1);
        self.buckets
            .iter()
            .filter(|(index, _)| (oldest..=now).contains(index))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Requests per stream, on one shard.
struct Tally {
    started: Instant,
    streams: HashMap<StreamKey, Recent>,
}

impl Tally {
    fn index(&self, now: Instant) -> u64 {
        let bucket = WINDOW.as_nanos() / BUCKETS as u128;
        (now.saturating_duration_since(self.started).as_nanos() / bucket) as u64
    }

    fn add(&mut self, key: &StreamKey, now: Instant) {
        let index = self.index(now);
        if let Some(recent) = self.streams.get_mut(key) {
            recent.add(index);
            return;
        }
        if self.streams.len() >= MAX_KEYS {
            self.streams.retain(|_, recent| recent.total(index) > 0);
            if self.streams.len() >= MAX_KEYS {
                return;
            }
        }
        let mut recent = Recent {
            buckets: [(u64::MAX, 0); BUCKETS],
        };
        recent.add(index);
        self.streams.insert(key.clone(), recent);
    }

    fn recent(&self, now: Instant) -> Vec<(StreamKey, u64)> {
        let index = self.index(now);
        self.streams
            .iter()
            .map(|(key, recent)| (key.clone(), recent.total(index)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

thread_local! {
    /// This shard's tally (a shard is a thread).
    static TALLY: RefCell<Tally> = RefCell::new(Tally {
        started: Instant::now(),
        streams: HashMap::new(),
    });
}

/// Counts one HLS request for `key` on this shard.
pub(crate) fn count(ctx: &ShardCtx, key: &StreamKey) {
    bump(&ctx.shard.counters.hls_requests);
    TALLY.with_borrow_mut(|tally| tally.add(key, Instant::now()));
}

/// Requests per stream on this shard over the last [`WINDOW`].
pub(crate) fn recent() -> Vec<(StreamKey, u64)> {
    TALLY.with_borrow(|tally| tally.recent(Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_last_minute_only() {
        let t0 = Instant::now();
        let mut tally = Tally {
            started: t0,
            streams: HashMap::new(),
        };
        let key = StreamKey::new("live", "cam").unwrap();
        for s in [0, 1, 30, 59] {
            tally.add(&key, t0 + Duration::from_secs(s));
        }
        assert_eq!(
            tally.recent(t0 + Duration::from_secs(59)),
            [(key.clone(), 4)]
        );
        // Two minutes on, the first requests have aged out.
        tally.add(&key, t0 + Duration::from_secs(120));
        assert_eq!(tally.recent(t0 + Duration::from_secs(121)), [(key, 1)]);
    }
}
