//! Fixed-bucket histograms: a shard records into cells (a search over a
//! dozen bounds and three cell bumps), a scrape copies them out as a
//! [`HistogramSnapshot`], and the snapshots of every shard are added up.
//!
//! Fixed bounds rather than HDR histograms because Prometheus wants fixed
//! `le` buckets anyway, and because adding two snapshots with the same
//! bounds is exact.

use std::cell::Cell;

/// Join time bounds, in microseconds (5 ms to 10 s).
pub(crate) const JOIN_MICROS: &[u64] = &[
    5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000,
];

/// Delivery latency bounds, in microseconds (25 µs to 1 s).
pub(crate) const LATENCY_MICROS: &[u64] = &[
    25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000,
];

/// GOP length bounds, in video frames.
pub(crate) const GOP_FRAMES: &[u64] = &[1, 10, 25, 30, 50, 60, 90, 120, 150, 250, 300, 600];

/// GOP size bounds, in bytes (16 KiB to 32 MiB).
pub(crate) const GOP_BYTES: &[u64] = &[
    16 << 10,
    64 << 10,
    256 << 10,
    512 << 10,
    1 << 20,
    2 << 20,
    4 << 20,
    8 << 20,
    16 << 20,
    32 << 20,
];

/// A histogram one shard records into.
#[derive(Debug)]
pub(crate) struct Histogram {
    /// Upper bounds (inclusive), ascending.
    bounds: &'static [u64],
    /// One count per bound, then one for values over the last bound.
    counts: Box<[Cell<u64>]>,
    /// Sum of the values recorded.
    sum: Cell<u64>,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending).
    pub(crate) fn new(bounds: &'static [u64]) -> Histogram {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| Cell::new(0)).collect(),
            sum: Cell::new(0),
        }
    }

    /// Counts one value.
    pub(crate) fn record(&self, value: u64) {
        let bucket = self.bounds.partition_point(|&bound| bound < value);
        let cell = &self.counts[bucket];
        cell.set(cell.get() + 1);
        self.sum.set(self.sum.get().wrapping_add(value));
    }

    /// What it holds now.
    pub(crate) fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds: self.bounds,
            counts: self.counts.iter().map(Cell::get).collect(),
            sum: self.sum.get(),
        }
    }
}

/// A histogram's counts at one moment, ready to travel to another shard
/// and to be added to the snapshots of the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HistogramSnapshot {
    /// Upper bounds (inclusive), ascending.
    bounds: &'static [u64],
    /// One count per bound, then one for values over the last bound (not
    /// cumulative).
    counts: Vec<u64>,
    /// Sum of the values recorded.
    sum: u64,
}

impl HistogramSnapshot {
    /// The upper bounds of the buckets, without the last, unbounded one.
    pub(crate) fn bounds(&self) -> &[u64] {
        self.bounds
    }

    /// `(upper bound, values at or under it)` per bound, then `(None,
    /// count)` for all of them: Prometheus's cumulative `le` buckets.
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (Option<u64>, u64)> + '_ {
        let mut total = 0;
        self.counts.iter().enumerate().map(move |(i, &n)| {
            total += n;
            (self.bounds.get(i).copied(), total)
        })
    }

    /// Values recorded.
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Sum of the values recorded.
    pub(crate) fn sum(&self) -> u64 {
        self.sum
    }

    /// Adds `other`'s counts. A snapshot with other bounds (none exists:
    /// every shard uses the same constants) is ignored; an empty default
    /// takes `other`'s bounds.
    pub(crate) fn merge(&mut self, other: &HistogramSnapshot) {
        if self.counts.is_empty() {
            *self = other.clone();
        } else if self.bounds == other.bounds {
            for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
                *mine += theirs;
            }
            self.sum = self.sum.wrapping_add(other.sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        let h = Histogram::new(&[10, 20]);
        for v in [0, 10, 11, 20, 21, 1000] {
            h.record(v);
        }
        let s = h.snapshot();
        let buckets: Vec<_> = s.cumulative().collect();
        assert_eq!(buckets, [(Some(10), 2), (Some(20), 4), (None, 6)]);
        assert_eq!(s.count(), 6);
        assert_eq!(s.sum(), 1062);
    }

    #[test]
    fn snapshots_of_shards_add_up() {
        let (a, b) = (Histogram::new(GOP_FRAMES), Histogram::new(GOP_FRAMES));
        a.record(60);
        b.record(60);
        b.record(5000);
        let mut total = HistogramSnapshot::default();
        total.merge(&a.snapshot());
        total.merge(&b.snapshot());
        assert_eq!(total.count(), 3);
        assert_eq!(total.sum(), 5120);
        let at_60 = total.cumulative().find(|(le, _)| *le == Some(60)).unwrap();
        assert_eq!(at_60.1, 2);
    }
}
