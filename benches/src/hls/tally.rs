//! What the HLS clients measured, per kind of client, in a form that
//! merges across the harness's shards. Rates and distributions cover the
//! steady window only; errors are counted from the clients' start to the
//! end of the window.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::tally::histogram;

/// LL-HLS clients.
#[derive(Clone, Debug)]
pub(crate) struct LlTally {
    /// Blocking reloads answered `200` with the awaited part, and parts
    /// fetched and measured after them.
    pub(crate) reloads: u64,
    pub(crate) parts: u64,
    pub(crate) part_bytes: u64,
    /// Send time of a part's last video frame → first byte of the blocking
    /// reload answer that lists it, µs.
    pub(crate) ready_us: Histogram<u64>,
    /// Blocking reload sent → first byte of its answer, µs.
    pub(crate) wait_us: Histogram<u64>,
    /// Part `GET` sent → its last byte, µs.
    pub(crate) fetch_us: Histogram<u64>,
    /// Reloads answered when parts newer than the awaited one were already
    /// listed: the client was behind, and its ready figure holds its own
    /// delay.
    pub(crate) behind: u64,
    /// Times a client lost its place (an error, a part gone from the
    /// playlist) and started again from a plain playlist.
    pub(crate) resyncs: u64,
    /// Video frames missing between consecutive parts a client measured.
    pub(crate) gaps: u64,
    /// Failures by what failed.
    pub(crate) errors: BTreeMap<String, u64>,
}

impl Default for LlTally {
    fn default() -> Self {
        LlTally {
            reloads: 0,
            parts: 0,
            part_bytes: 0,
            ready_us: histogram(),
            wait_us: histogram(),
            fetch_us: histogram(),
            behind: 0,
            resyncs: 0,
            gaps: 0,
            errors: BTreeMap::new(),
        }
    }
}

impl LlTally {
    fn merge(&mut self, other: &LlTally) -> anyhow::Result<()> {
        self.reloads += other.reloads;
        self.parts += other.parts;
        self.part_bytes += other.part_bytes;
        self.ready_us.add(&other.ready_us)?;
        self.wait_us.add(&other.wait_us)?;
        self.fetch_us.add(&other.fetch_us)?;
        self.behind += other.behind;
        self.resyncs += other.resyncs;
        self.gaps += other.gaps;
        merge_errors(&mut self.errors, &other.errors);
        Ok(())
    }
}

/// Segment clients.
#[derive(Clone, Debug)]
pub(crate) struct SegmentTally {
    /// Segment `GET`s answered `200` in the window, and their body bytes.
    pub(crate) requests: u64,
    pub(crate) bytes: u64,
    /// Segment `GET` sent → its last byte, µs.
    pub(crate) response_us: Histogram<u64>,
    /// Playlist reads in the window.
    pub(crate) playlists: u64,
    /// Failures by what failed.
    pub(crate) errors: BTreeMap<String, u64>,
}

impl Default for SegmentTally {
    fn default() -> Self {
        SegmentTally {
            requests: 0,
            bytes: 0,
            response_us: histogram(),
            playlists: 0,
            errors: BTreeMap::new(),
        }
    }
}

impl SegmentTally {
    fn merge(&mut self, other: &SegmentTally) -> anyhow::Result<()> {
        self.requests += other.requests;
        self.bytes += other.bytes;
        self.response_us.add(&other.response_us)?;
        self.playlists += other.playlists;
        merge_errors(&mut self.errors, &other.errors);
        Ok(())
    }
}

/// Everything one shard's clients measured.
#[derive(Clone, Debug)]
pub(crate) struct HlsTally {
    pub(crate) ll: LlTally,
    pub(crate) segments: SegmentTally,
    /// How late the shard woke from a 5 ms sleep in the window, µs.
    pub(crate) lag_us: Histogram<u64>,
}

impl Default for HlsTally {
    fn default() -> Self {
        HlsTally {
            ll: LlTally::default(),
            segments: SegmentTally::default(),
            lag_us: histogram(),
        }
    }
}

impl HlsTally {
    /// Adds another shard's.
    pub(crate) fn merge(&mut self, other: &HlsTally) -> anyhow::Result<()> {
        self.ll.merge(&other.ll)?;
        self.segments.merge(&other.segments)?;
        self.lag_us.add(&other.lag_us)?;
        Ok(())
    }
}

/// Counts one failure under `what`.
pub(crate) fn count_error(errors: &mut BTreeMap<String, u64>, what: String) {
    *errors.entry(what).or_default() += 1;
}

fn merge_errors(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (what, n) in from {
        *into.entry(what.clone()).or_default() += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_merge() {
        let mut a = HlsTally::default();
        a.ll.parts = 2;
        a.ll.ready_us.record(3_000).unwrap();
        count_error(&mut a.segments.errors, "segment: timed out".into());
        let mut b = a.clone();
        b.segments.requests = 5;
        count_error(&mut b.ll.errors, "part: 404 Not Found".into());
        a.merge(&b).unwrap();
        assert_eq!((a.ll.parts, a.ll.ready_us.len()), (4, 2));
        assert_eq!(a.segments.requests, 5);
        assert_eq!(a.segments.errors["segment: timed out"], 2);
        assert_eq!(a.ll.errors["part: 404 Not Found"], 1);
    }
}
