//! What players measured, in a form that merges: across a shard's
//! players, across the harness's shards, and across worker processes
//! (encoded for a pipe, histograms with hdrhistogram's V2 serializer). A
//! [`Tally`] covers the players of one protocol; [`Tallies`] holds one per
//! protocol and the harness's own timer lag.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

use crate::player::{PlayerRecord, PlayerState, Protocol, Role};

/// Largest value a histogram tracks: an hour in µs (also fine for counts).
const HIGHEST: u64 = 3_600_000_000;

/// A histogram of µs (or counts), 3 significant digits.
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST, 3).expect("constant bounds are valid")
}

/// Counts and distributions of a set of players.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tally {
    /// Players started (connect attempted).
    pub(crate) started: u64,
    /// Players that received a keyframe.
    pub(crate) joined: u64,
    /// Players that never did (refused, failed, timed out).
    pub(crate) failed: u64,
    /// Joined players the server closed before the end of the run.
    pub(crate) dropped: u64,
    /// Media frames and their payload bytes received, whole run.
    pub(crate) frames: u64,
    pub(crate) bytes: u64,
    /// Media frames and payload bytes received in the steady window.
    pub(crate) window_frames: u64,
    pub(crate) window_bytes: u64,
    /// Frames missing from the sequence numbers, over every player.
    pub(crate) gaps: u64,
    /// Players that saw at least one gap.
    pub(crate) players_with_gaps: u64,
    /// Slow players (reading below the stream's rate; not in the counts
    /// above): joined, let go of by the server, and their gaps (skips).
    pub(crate) slow_joined: u64,
    pub(crate) slow_dropped: u64,
    pub(crate) slow_gaps: u64,
    /// Delivery latency in the steady window, µs, corrected for
    /// coordinated omission at the frame interval.
    pub(crate) latency_us: Histogram<u64>,
    /// Connect start → first keyframe, µs.
    pub(crate) join_key_us: Histogram<u64>,
    /// Connect start → last frame of the first GOP, µs.
    pub(crate) join_gop_us: Histogram<u64>,
    /// Gaps per joined player.
    pub(crate) gaps_per_player: Histogram<u64>,
    /// Why players failed or were dropped, with counts.
    pub(crate) reasons: BTreeMap<String, u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            started: 0,
            joined: 0,
            failed: 0,
            dropped: 0,
            frames: 0,
            bytes: 0,
            window_frames: 0,
            window_bytes: 0,
            gaps: 0,
            players_with_gaps: 0,
            slow_joined: 0,
            slow_dropped: 0,
            slow_gaps: 0,
            latency_us: histogram(),
            join_key_us: histogram(),
            join_gop_us: histogram(),
            gaps_per_player: histogram(),
            reasons: BTreeMap::new(),
        }
    }
}

impl Tally {
    /// Counts one player session at the end of the run; a session still
    /// joining that started less than `join_timeout` ago (a replacement
    /// under churn) is left out.
    pub(crate) fn count(&mut self, record: &PlayerRecord, join_timeout: Duration) {
        let gaps = record.gaps.get();
        let state = record.state.get();
        if state == PlayerState::Joining && record.started.elapsed() < join_timeout {
            return;
        }
        let joined = !matches!(state, PlayerState::Joining | PlayerState::Failed);
        if record.role == Role::Slow && joined {
            self.slow_joined += 1;
            self.slow_dropped += u64::from(state == PlayerState::Dropped);
            self.slow_gaps += gaps;
            return;
        }
        self.started += 1;
        if state == PlayerState::Joining {
            self.note("join: no keyframe by the end of the run".to_owned());
        }
        if !joined {
            self.failed += 1;
            return;
        }
        self.joined += 1;
        self.dropped += u64::from(state == PlayerState::Dropped);
        self.gaps += gaps;
        self.players_with_gaps += u64::from(gaps > 0);
        self.gaps_per_player.saturating_record(gaps);
    }

    /// Counts one player ending for `reason`.
    pub(crate) fn note(&mut self, reason: String) {
        *self.reasons.entry(reason).or_default() += 1;
    }

    /// Adds `other` to this tally.
    pub(crate) fn merge(&mut self, other: &Tally) -> anyhow::Result<()> {
        for (mine, theirs) in self.counters_mut().into_iter().zip(other.counters()) {
            *mine += theirs;
        }
        self.latency_us.add(&other.latency_us)?;
        self.join_key_us.add(&other.join_key_us)?;
        self.join_gop_us.add(&other.join_gop_us)?;
        self.gaps_per_player.add(&other.gaps_per_player)?;
        for (reason, n) in &other.reasons {
            *self.reasons.entry(reason.clone()).or_default() += n;
        }
        Ok(())
    }

    /// The tally as bytes for a pipe: counters, reasons, then histograms.
    pub(crate) fn encode(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        for value in self.counters() {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&(self.reasons.len() as u32).to_le_bytes());
        for (reason, n) in &self.reasons {
            put_blob(&mut out, reason.as_bytes());
            out.extend_from_slice(&n.to_le_bytes());
        }
        let mut serializer = V2Serializer::new();
        for h in self.histograms() {
            let mut blob = Vec::new();
            serializer
                .serialize(h, &mut blob)
                .map_err(|e| anyhow::anyhow!("serialize a histogram: {e:?}"))?;
            put_blob(&mut out, &blob);
        }
        Ok(out)
    }

    /// Reads what [`Tally::encode`] wrote.
    pub(crate) fn decode(mut bytes: &[u8]) -> anyhow::Result<Tally> {
        let mut tally = Tally::default();
        for counter in tally.counters_mut() {
            *counter = take_u64(&mut bytes)?;
        }
        let reasons = take_u32(&mut bytes)?;
        for _ in 0..reasons {
            let reason = String::from_utf8(take_blob(&mut bytes)?.to_vec())?;
            let n = take_u64(&mut bytes)?;
            tally.reasons.insert(reason, n);
        }
        let mut deserializer = Deserializer::new();
        for h in tally.histograms_mut() {
            let mut blob = take_blob(&mut bytes)?;
            *h = deserializer
                .deserialize(&mut blob)
                .map_err(|e| anyhow::anyhow!("deserialize a histogram: {e:?}"))?;
        }
        anyhow::ensure!(bytes.is_empty(), "{} bytes after a tally", bytes.len());
        Ok(tally)
    }

    fn counters(&self) -> [u64; 13] {
        [
            self.started,
            self.joined,
            self.failed,
            self.dropped,
            self.frames,
            self.bytes,
            self.window_frames,
            self.window_bytes,
            self.gaps,
            self.players_with_gaps,
            self.slow_joined,
            self.slow_dropped,
            self.slow_gaps,
        ]
    }

    fn counters_mut(&mut self) -> [&mut u64; 13] {
        [
            &mut self.started,
            &mut self.joined,
            &mut self.failed,
            &mut self.dropped,
            &mut self.frames,
            &mut self.bytes,
            &mut self.window_frames,
            &mut self.window_bytes,
            &mut self.gaps,
            &mut self.players_with_gaps,
            &mut self.slow_joined,
            &mut self.slow_dropped,
            &mut self.slow_gaps,
        ]
    }

    fn histograms(&self) -> [&Histogram<u64>; 4] {
        [
            &self.latency_us,
            &self.join_key_us,
            &self.join_gop_us,
            &self.gaps_per_player,
        ]
    }

    fn histograms_mut(&mut self) -> [&mut Histogram<u64>; 4] {
        [
            &mut self.latency_us,
            &mut self.join_key_us,
            &mut self.join_gop_us,
            &mut self.gaps_per_player,
        ]
    }
}

/// The tallies of a set of players, one per protocol, and how late the
/// harness's shards woke from a short sleep in the steady window, µs: delay
/// the harness itself adds to what every player measures.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tallies {
    /// In [`Protocol::ALL`] order.
    by_protocol: [Tally; 2],
    pub(crate) lag_us: Histogram<u64>,
}

impl Default for Tallies {
    fn default() -> Self {
        Tallies {
            by_protocol: Default::default(),
            lag_us: histogram(),
        }
    }
}

impl Tallies {
    /// The players of `protocol`.
    pub(crate) fn of(&self, protocol: Protocol) -> &Tally {
        &self.by_protocol[protocol.index()]
    }

    /// The players of `protocol`, to add to.
    pub(crate) fn of_mut(&mut self, protocol: Protocol) -> &mut Tally {
        &mut self.by_protocol[protocol.index()]
    }

    /// Every player, whatever its protocol.
    pub(crate) fn all(&self) -> anyhow::Result<Tally> {
        let mut all = Tally::default();
        for tally in &self.by_protocol {
            all.merge(tally)?;
        }
        Ok(all)
    }

    /// Adds `other` to these tallies.
    pub(crate) fn merge(&mut self, other: &Tallies) -> anyhow::Result<()> {
        for (mine, theirs) in self.by_protocol.iter_mut().zip(&other.by_protocol) {
            mine.merge(theirs)?;
        }
        self.lag_us.add(&other.lag_us)?;
        Ok(())
    }

    /// The tallies as bytes for a pipe: each protocol's [`Tally::encode`],
    /// then the lag histogram.
    pub(crate) fn encode(&self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        for tally in &self.by_protocol {
            put_blob(&mut out, &tally.encode()?);
        }
        let mut lag = Vec::new();
        V2Serializer::new()
            .serialize(&self.lag_us, &mut lag)
            .map_err(|e| anyhow::anyhow!("serialize a histogram: {e:?}"))?;
        put_blob(&mut out, &lag);
        Ok(out)
    }

    /// Reads what [`Tallies::encode`] wrote.
    pub(crate) fn decode(mut bytes: &[u8]) -> anyhow::Result<Tallies> {
        let mut tallies = Tallies::default();
        for tally in &mut tallies.by_protocol {
            *tally = Tally::decode(take_blob(&mut bytes)?)?;
        }
        let mut lag = take_blob(&mut bytes)?;
        tallies.lag_us = Deserializer::new()
            .deserialize(&mut lag)
            .map_err(|e| anyhow::anyhow!("deserialize a histogram: {e:?}"))?;
        anyhow::ensure!(bytes.is_empty(), "{} bytes after the tallies", bytes.len());
        Ok(tallies)
    }
}

fn put_blob(out: &mut Vec<u8>, blob: &[u8]) {
    out.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    out.extend_from_slice(blob);
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> anyhow::Result<&'a [u8]> {
    anyhow::ensure!(bytes.len() >= n, "a tally ends early");
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn take_u64(bytes: &mut &[u8]) -> anyhow::Result<u64> {
    Ok(u64::from_le_bytes(take(bytes, 8)?.try_into()?))
}

fn take_u32(bytes: &mut &[u8]) -> anyhow::Result<u32> {
    Ok(u32::from_le_bytes(take(bytes, 4)?.try_into()?))
}

fn take_blob<'a>(bytes: &mut &'a [u8]) -> anyhow::Result<&'a [u8]> {
    let len = take_u32(bytes)? as usize;
    take(bytes, len).context("a tally's blob ends early")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(base: u64) -> Tally {
        let mut t = Tally {
            started: base,
            joined: base - 1,
            failed: 1,
            frames: 1000 * base,
            bytes: 500_000 * base,
            window_frames: 10 * base,
            gaps: 3,
            players_with_gaps: 1,
            slow_gaps: 40 * base,
            ..Tally::default()
        };
        for v in 1..=100 {
            t.latency_us.record(v * base * 10).unwrap();
        }
        t.latency_us.record_correct(200_000, 40_000).unwrap();
        t.join_key_us.record(5_000 * base).unwrap();
        t.join_gop_us.record(900_000).unwrap();
        t.gaps_per_player.record(3).unwrap();
        t.note("connect: refused".to_owned());
        t
    }

    #[test]
    fn encodes_and_decodes_exactly() {
        let t = sample(7);
        let back = Tally::decode(&t.encode().unwrap()).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            back.latency_us.value_at_quantile(0.99),
            t.latency_us.value_at_quantile(0.99)
        );
    }

    #[test]
    fn merging_decoded_tallies_equals_merging_the_originals() {
        let (a, b) = (sample(3), sample(11));
        let mut direct = a.clone();
        direct.merge(&b).unwrap();
        let mut piped = Tally::decode(&a.encode().unwrap()).unwrap();
        piped
            .merge(&Tally::decode(&b.encode().unwrap()).unwrap())
            .unwrap();
        assert_eq!(piped, direct);
        assert_eq!(direct.started, 14);
        assert_eq!(
            direct.latency_us.len(),
            a.latency_us.len() + b.latency_us.len()
        );
        assert_eq!(direct.reasons["connect: refused"], 2);
        // The corrected recording filled in the missed samples.
        assert!(a.latency_us.len() > 101);
    }

    #[test]
    fn counts_sessions_by_state_and_keeps_slow_players_apart() {
        let mut t = Tally::default();
        let session = |role, state, gaps| {
            let r = PlayerRecord::new(role);
            r.state.set(state);
            r.gaps.set(gaps);
            r
        };
        let zero = Duration::ZERO;
        t.count(&session(Role::Probe, PlayerState::Joined, 0), zero);
        t.count(&session(Role::Bulk, PlayerState::Dropped, 2), zero);
        t.count(&session(Role::Bulk, PlayerState::Failed, 0), zero);
        t.count(&session(Role::Bulk, PlayerState::Joining, 0), zero);
        t.count(&session(Role::Slow, PlayerState::Dropped, 9), zero);
        t.count(&session(Role::Slow, PlayerState::Failed, 0), zero);
        // A replacement that started just now is not a failure yet.
        let hour = Duration::from_secs(3600);
        t.count(&session(Role::Bulk, PlayerState::Joining, 0), hour);
        assert_eq!((t.started, t.joined, t.failed, t.dropped), (5, 2, 3, 1));
        assert_eq!(
            (t.gaps, t.players_with_gaps, t.gaps_per_player.len()),
            (2, 1, 2)
        );
        assert_eq!((t.slow_joined, t.slow_dropped, t.slow_gaps), (1, 1, 9));
        assert_eq!(t.reasons["join: no keyframe by the end of the run"], 1);
    }

    #[test]
    fn tallies_keep_protocols_apart_through_a_pipe() {
        let mut a = Tallies::default();
        *a.of_mut(Protocol::Rtmp) = sample(3);
        *a.of_mut(Protocol::HttpFlv) = sample(5);
        a.lag_us.record(250).unwrap();
        let back = Tallies::decode(&a.encode().unwrap()).unwrap();
        assert_eq!(back, a);
        let mut b = back.clone();
        b.merge(&a).unwrap();
        assert_eq!(b.of(Protocol::Rtmp).started, 6);
        assert_eq!(b.of(Protocol::HttpFlv).started, 10);
        assert_eq!(b.lag_us.len(), 2);
        assert_eq!(b.all().unwrap().started, 16);
        let bytes = a.encode().unwrap();
        assert!(Tallies::decode(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn refuses_truncated_bytes() {
        let bytes = sample(2).encode().unwrap();
        assert!(Tally::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(Tally::decode(&[]).is_err());
    }
}
