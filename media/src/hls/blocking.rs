//! Blocking playlist reload (rfc8216bis §6.2.5.2) and playlist delta
//! updates (§6.2.5.1): the `_HLS_msn`, `_HLS_part` and `_HLS_skip` delivery
//! directives, and a sans-IO registry of the requests waiting on them.
//!
//! A driver handles a playlist request in three steps:
//!
//! 1. [`BlockingQuery::parse`] the query string; an error is a `400`.
//! 2. [`Timeline::check`] it against the playlist; an error is a `400`.
//! 3. If [`Timeline::satisfies`] it, render the playlist now; otherwise
//!    [`Waiters::add`] the request with a deadline of
//!    [`Timeline::blocking_timeout`] from now.
//!
//! After each part the packager publishes it renders the playlist for every
//! token [`Waiters::ready`] returns; when its timer fires (set to
//! [`Waiters::next_deadline`]) it answers every token [`Waiters::expire`]
//! returns with `503 Service Unavailable`, as §6.2.5.2 suggests.

use std::mem;

use arcly_engine::Timestamp;

use super::{HlsError, Timeline};

/// The `_HLS_skip` directive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Skip {
    /// No delta update asked for.
    #[default]
    No,
    /// `_HLS_skip=YES`: skip old segments.
    Yes,
    /// `_HLS_skip=v2`: skip old segments and date ranges (this packager
    /// writes no date ranges, so the same as [`Skip::Yes`]).
    V2,
}

/// The delivery directives of a media playlist request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BlockingQuery {
    /// `_HLS_msn`: wait for this Media Sequence Number.
    pub msn: Option<u64>,
    /// `_HLS_part`: wait for this part of segment [`msn`](Self::msn).
    pub part: Option<u32>,
    /// `_HLS_skip`: ask for a delta update.
    pub skip: Skip,
}

impl BlockingQuery {
    /// Reads the directives from a URL query (without the `?`). Other
    /// parameters, such as access tokens, are ignored. Values are plain
    /// decimal integers, as §6.2.5.2 defines them.
    pub fn parse(query: &str) -> Result<BlockingQuery, HlsError> {
        let mut out = BlockingQuery::default();
        let mut skip_seen = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "_HLS_msn" => set(&mut out.msn, "_HLS_msn", value)?,
                "_HLS_part" => set(&mut out.part, "_HLS_part", value)?,
                "_HLS_skip" => {
                    if mem::replace(&mut skip_seen, true) {
                        return Err(HlsError::DuplicateQuery { param: "_HLS_skip" });
                    }
                    out.skip = match value {
                        "YES" => Skip::Yes,
                        "v2" => Skip::V2,
                        _ => return Err(HlsError::MalformedQuery { param: "_HLS_skip" }),
                    };
                }
                _ => {}
            }
        }
        if out.part.is_some() && out.msn.is_none() {
            return Err(HlsError::PartWithoutMsn);
        }
        Ok(out)
    }

    /// Whether the request waits for media (`_HLS_msn` is present).
    pub fn is_blocking(&self) -> bool {
        self.msn.is_some()
    }

    /// Whether a delta update is asked for.
    pub fn wants_delta(&self) -> bool {
        self.skip != Skip::No
    }
}

fn set<T: std::str::FromStr>(
    slot: &mut Option<T>,
    param: &'static str,
    value: &str,
) -> Result<(), HlsError> {
    if slot.is_some() {
        return Err(HlsError::DuplicateQuery { param });
    }
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HlsError::MalformedQuery { param });
    }
    *slot = Some(
        value
            .parse()
            .map_err(|_| HlsError::MalformedQuery { param })?,
    );
    Ok(())
}

impl Timeline {
    /// The newest segment the LL-HLS playlist lists: the open one once it has
    /// a part, else the newest complete one.
    fn last_listed_msn(&self) -> Option<u64> {
        match self.open() {
            Some(open) if !open.parts.is_empty() => Some(open.msn),
            _ => self.last_complete_msn(),
        }
    }

    /// The Advance Part Limit: three seconds of parts, or three parts when
    /// the part target is a second or more.
    pub fn advance_part_limit(&self) -> u32 {
        let target = self.part_target().0.max(1);
        if target < 1_000_000 {
            3_000_000u64.div_ceil(target as u64) as u32
        } else {
            3
        }
    }

    /// Refuses directives that ask too far ahead (§6.2.5.2): an `_HLS_msn`
    /// more than two past the last segment of the playlist, or an
    /// `_HLS_part` more than the Advance Part Limit past its last part.
    pub fn check(&self, query: &BlockingQuery) -> Result<(), HlsError> {
        let Some(msn) = query.msn else {
            return Ok(());
        };
        let last = self.last_listed_msn();
        let reference = last.unwrap_or(self.next_part().0);
        if msn > reference.saturating_add(2) {
            return Err(HlsError::MsnTooFarAhead { msn, last });
        }
        let Some(part) = query.part else {
            return Ok(());
        };
        let limit = self.advance_part_limit();
        let (last_msn, last_index) = match self.last_part() {
            Some((m, i)) => (m, Some(i)),
            None => (self.next_part().0, None),
        };
        // Parts past the last one: exact within its segment; for a later
        // segment, at least those up to the requested one.
        let ahead = if msn == last_msn {
            i64::from(part) - last_index.map_or(-1, i64::from)
        } else if msn > last_msn {
            i64::from(part) + 1
        } else {
            0
        };
        if ahead > i64::from(limit) {
            let last = if msn == last_msn { last_index } else { None };
            return Err(HlsError::PartTooFarAhead { part, last, limit });
        }
        Ok(())
    }

    /// Whether the playlist can be sent for this request: always without
    /// `_HLS_msn` or once the stream ended; with `_HLS_msn=M` alone, once
    /// segment `M` (or a later one) is complete; with `_HLS_part=N` too, once
    /// part `N` of segment `M`, or any later part, is published.
    pub fn satisfies(&self, query: &BlockingQuery) -> bool {
        let Some(msn) = query.msn else {
            return true;
        };
        if self.is_ended() {
            return true;
        }
        match query.part {
            None => self.last_complete_msn().is_some_and(|last| last >= msn),
            Some(part) => self.last_part().is_some_and(|last| last >= (msn, part)),
        }
    }

    /// How long a blocked request waits before a `503`: three target
    /// durations (§6.2.5.2).
    pub fn blocking_timeout(&self) -> Timestamp {
        Timestamp(self.target_duration() as i64 * 3_000_000)
    }
}

/// Requests waiting for a part or segment, each known by a driver's token
/// (a connection id, a response sender), with a deadline on the driver's
/// clock. At most `limit` wait at once.
#[derive(Debug)]
pub struct Waiters<T> {
    waiting: Vec<Waiter<T>>,
    limit: usize,
}

#[derive(Debug)]
struct Waiter<T> {
    query: BlockingQuery,
    token: T,
    deadline: Timestamp,
}

impl<T> Waiters<T> {
    /// An empty registry that holds at most `limit` requests.
    pub fn new(limit: usize) -> Waiters<T> {
        Waiters {
            waiting: Vec::new(),
            limit,
        }
    }

    /// How many requests wait.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Registers a request that the timeline does not satisfy yet, to be
    /// released by [`ready`](Self::ready) or, at `now + timeout`, by
    /// [`expire`](Self::expire). When `limit` requests already wait, hands
    /// the token back.
    pub fn add(
        &mut self,
        query: BlockingQuery,
        token: T,
        now: Timestamp,
        timeout: Timestamp,
    ) -> Result<(), T> {
        if self.waiting.len() >= self.limit {
            return Err(token);
        }
        self.waiting.push(Waiter {
            query,
            token,
            deadline: Timestamp(now.0.saturating_add(timeout.0)),
        });
        Ok(())
    }

    /// Removes and returns, in the order they came, the requests the
    /// timeline now satisfies.
    pub fn ready(&mut self, timeline: &Timeline) -> Vec<T> {
        self.drain(|w| timeline.satisfies(&w.query))
    }

    /// Removes and returns, in the order they came, the requests whose
    /// deadline is `now` or earlier.
    pub fn expire(&mut self, now: Timestamp) -> Vec<T> {
        self.drain(|w| w.deadline <= now)
    }

    /// The earliest deadline, for the driver's timer.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.waiting.iter().map(|w| w.deadline).min()
    }

    fn drain(&mut self, mut release: impl FnMut(&Waiter<T>) -> bool) -> Vec<T> {
        if !self.waiting.iter().any(&mut release) {
            return Vec::new();
        }
        let (out, keep): (Vec<_>, Vec<_>) = mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| release(w));
        self.waiting = keep;
        out.into_iter().map(|w| w.token).collect()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::hls::{HlsSettings, SegmentStart};

    fn query(s: &str) -> BlockingQuery {
        BlockingQuery::parse(s).unwrap()
    }

    fn part(timeline: &mut Timeline) {
        timeline
            .push_part(Timestamp(200_000), false, Bytes::new(), Timestamp(0))
            .unwrap();
    }

    /// Segments 0 and 1 complete with 10 parts each, segment 2 open with 3.
    fn timeline() -> Timeline {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        for parts in [10, 10, 3] {
            timeline.open_segment(SegmentStart::default()).unwrap();
            for _ in 0..parts {
                part(&mut timeline);
            }
            if parts == 10 {
                timeline.close_segment(Timestamp(2_000_000), None).unwrap();
            }
        }
        timeline
    }

    #[test]
    fn parses_directives() {
        assert_eq!(query(""), BlockingQuery::default());
        assert_eq!(
            query("token=abc&_HLS_msn=12&_HLS_part=3&_HLS_skip=YES"),
            BlockingQuery {
                msn: Some(12),
                part: Some(3),
                skip: Skip::Yes
            }
        );
        assert_eq!(query("_HLS_skip=v2").skip, Skip::V2);
        assert!(query("_HLS_msn=0").is_blocking());
        assert!(!query("_HLS_skip=YES").is_blocking());
        assert!(query("_HLS_skip=YES").wants_delta());
    }

    #[test]
    fn refuses_bad_directives() {
        for (q, err) in [
            ("_HLS_part=1", HlsError::PartWithoutMsn),
            (
                "_HLS_msn=-1",
                HlsError::MalformedQuery { param: "_HLS_msn" },
            ),
            ("_HLS_msn=", HlsError::MalformedQuery { param: "_HLS_msn" }),
            ("_HLS_msn", HlsError::MalformedQuery { param: "_HLS_msn" }),
            (
                "_HLS_msn=1.5",
                HlsError::MalformedQuery { param: "_HLS_msn" },
            ),
            (
                "_HLS_msn=1&_HLS_part=99999999999",
                HlsError::MalformedQuery { param: "_HLS_part" },
            ),
            (
                "_HLS_skip=yes",
                HlsError::MalformedQuery { param: "_HLS_skip" },
            ),
            (
                "_HLS_msn=1&_HLS_msn=2",
                HlsError::DuplicateQuery { param: "_HLS_msn" },
            ),
            (
                "_HLS_skip=YES&_HLS_skip=YES",
                HlsError::DuplicateQuery { param: "_HLS_skip" },
            ),
        ] {
            assert_eq!(BlockingQuery::parse(q), Err(err), "{q}");
        }
    }

    #[test]
    fn refuses_requests_too_far_ahead() {
        let timeline = timeline();
        assert_eq!(timeline.advance_part_limit(), 15);
        timeline.check(&query("_HLS_msn=4")).unwrap();
        assert_eq!(
            timeline.check(&query("_HLS_msn=5")),
            Err(HlsError::MsnTooFarAhead {
                msn: 5,
                last: Some(2)
            })
        );
        // The last part is 2.2; 2.17 is 15 ahead.
        timeline.check(&query("_HLS_msn=2&_HLS_part=17")).unwrap();
        assert_eq!(
            timeline.check(&query("_HLS_msn=2&_HLS_part=18")),
            Err(HlsError::PartTooFarAhead {
                part: 18,
                last: Some(2),
                limit: 15
            })
        );
        timeline.check(&query("_HLS_msn=3&_HLS_part=14")).unwrap();
        assert!(timeline.check(&query("_HLS_msn=3&_HLS_part=15")).is_err());
        timeline.check(&query("_HLS_msn=0&_HLS_part=900")).unwrap();
    }

    #[test]
    fn satisfied_by_that_part_or_a_later_one() {
        let timeline = timeline();
        assert!(timeline.satisfies(&query("")));
        assert!(timeline.satisfies(&query("_HLS_msn=1")));
        assert!(!timeline.satisfies(&query("_HLS_msn=2")));
        assert!(timeline.satisfies(&query("_HLS_msn=2&_HLS_part=2")));
        assert!(!timeline.satisfies(&query("_HLS_msn=2&_HLS_part=3")));
        // Segment 1 had parts 0 to 9; part 10 never comes, but 2.0 is later.
        assert!(timeline.satisfies(&query("_HLS_msn=1&_HLS_part=10")));
        assert!(!timeline.satisfies(&query("_HLS_msn=3&_HLS_part=0")));
    }

    #[test]
    fn ended_stream_satisfies_everything() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        assert!(!timeline.satisfies(&query("_HLS_msn=0")));
        timeline.end().unwrap();
        assert!(timeline.satisfies(&query("_HLS_msn=2&_HLS_part=5")));
    }

    #[test]
    fn part_request_is_released_exactly_when_the_part_arrives() {
        let mut timeline = timeline();
        let mut waiters = Waiters::new(8);
        let timeout = timeline.blocking_timeout();
        assert_eq!(timeout, Timestamp(6_000_000));
        waiters
            .add(query("_HLS_msn=2&_HLS_part=4"), "b", Timestamp(0), timeout)
            .unwrap();
        waiters
            .add(query("_HLS_msn=2&_HLS_part=3"), "a", Timestamp(0), timeout)
            .unwrap();
        waiters
            .add(query("_HLS_msn=3"), "segment", Timestamp(0), timeout)
            .unwrap();
        assert!(waiters.ready(&timeline).is_empty());

        part(&mut timeline); // 2.3
        assert_eq!(waiters.ready(&timeline), ["a"]);
        assert!(waiters.ready(&timeline).is_empty());
        part(&mut timeline); // 2.4
        assert_eq!(waiters.ready(&timeline), ["b"]);

        // A whole segment waits for the segment to close, not its parts.
        timeline.close_segment(Timestamp(1_000_000), None).unwrap();
        timeline.open_segment(SegmentStart::default()).unwrap();
        for _ in 0..10 {
            part(&mut timeline);
            assert!(waiters.ready(&timeline).is_empty());
        }
        timeline.close_segment(Timestamp(2_000_000), None).unwrap();
        assert_eq!(waiters.ready(&timeline), ["segment"]);
        assert!(waiters.is_empty());
    }

    #[test]
    fn requests_expire_at_their_deadline() {
        let timeline = timeline();
        let mut waiters = Waiters::new(8);
        assert_eq!(waiters.next_deadline(), None);
        let q = query("_HLS_msn=4");
        waiters
            .add(q, 1, Timestamp(100), Timestamp(6_000_000))
            .unwrap();
        waiters
            .add(q, 2, Timestamp(50), Timestamp(6_000_000))
            .unwrap();
        assert_eq!(waiters.next_deadline(), Some(Timestamp(6_000_050)));
        assert!(waiters.expire(Timestamp(6_000_049)).is_empty());
        assert_eq!(waiters.expire(Timestamp(6_000_050)), [2]);
        assert_eq!(waiters.next_deadline(), Some(Timestamp(6_000_100)));
        assert!(waiters.ready(&timeline).is_empty());
        assert_eq!(waiters.expire(Timestamp(i64::MAX)), [1]);
        assert_eq!(waiters.next_deadline(), None);
    }

    #[test]
    fn refuses_beyond_the_limit() {
        let mut waiters = Waiters::new(2);
        let q = query("_HLS_msn=4");
        waiters.add(q, 1, Timestamp(0), Timestamp(1)).unwrap();
        waiters.add(q, 2, Timestamp(0), Timestamp(1)).unwrap();
        assert_eq!(waiters.add(q, 3, Timestamp(0), Timestamp(1)), Err(3));
        assert_eq!(waiters.len(), 2);
        assert_eq!(waiters.expire(Timestamp(1)), [1, 2]);
        waiters.add(q, 3, Timestamp(0), Timestamp(1)).unwrap();
    }
}
