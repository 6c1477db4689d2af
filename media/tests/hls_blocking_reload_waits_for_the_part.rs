//! A simulated LL-HLS player against the packager on a virtual clock: it
//! always asks for the part the preload hint names (`_HLS_msn` and
//! `_HLS_part`), and each request must be released by the very push that
//! publishes that part, never before: the push of the part's last frame.
//! Requests for media that never comes expire exactly at their deadline.

use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::flv::FlvReader;
use arcly_media::hls::{BlockingQuery, HlsPackager, HlsSettings, Waiters};
use bytes::BytesMut;

const FILE: &[u8] = include_bytes!("data/ffmpeg_h264_aac.flv");

fn frames() -> Vec<MediaFrame> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::from(FILE);
    let mut frames = Vec::new();
    while let Some(tag) = reader.feed(&mut buf).unwrap() {
        frames.extend(tag.decode_frame().unwrap());
    }
    frames
}

#[test]
fn each_request_is_released_by_the_push_that_publishes_its_part() {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    let mut waiters = Waiters::new(16);
    let mut released = 0;
    let mut ready_delays = Vec::new();
    // The player's first request: the first part there will be.
    let mut wanted = (0u64, 0u32);
    let mut now = Timestamp::ZERO;
    let mut asked_at = now;
    let add = |waiters: &mut Waiters<(u64, u32)>,
               (msn, part): (u64, u32),
               now,
               packager: &HlsPackager| {
        let query = BlockingQuery::parse(&format!("_HLS_msn={msn}&_HLS_part={part}")).unwrap();
        let timeline = packager.timeline();
        timeline.check(&query).unwrap();
        assert!(!timeline.satisfies(&query));
        let timeout = timeline.blocking_timeout();
        waiters.add(query, (msn, part), now, timeout).unwrap();
    };
    add(&mut waiters, wanted, now, &packager);

    let mut aliased = 0;
    for frame in frames() {
        // Media arrives 50 ms after its decode time.
        now = now.max(Timestamp(frame.dts.0 + 50_000));
        let outcome = packager.push(&frame, now).unwrap();
        let ready = waiters.ready(packager.timeline());
        // A part past the last of a segment that ended stands for the next
        // segment's first (rfc8216bis §6.2.5.2).
        let ended_before = |(msn, index): (u64, u32)| {
            let segment = packager.timeline().segment(msn);
            segment.is_some_and(|s| s.complete && s.parts.len() as u32 == index)
        };
        match outcome.part {
            Some(part) if part == wanted || (part == (wanted.0 + 1, 0) && ended_before(wanted)) => {
                assert_eq!(ready, [wanted], "at {now:?}");
                aliased += usize::from(part != wanted);
                released += 1;
                let published = packager.timeline().part(part.0, part.1).unwrap();
                ready_delays.push(published.ready_at.0 - now.0);
                // The part is ready with its last video frame: the one
                // pushed, 40 ms before the part ends.
                assert!(frame.track() == TrackKind::Video, "{frame:?}");
                let segment = packager.timeline().segment(part.0).unwrap();
                let parts = &segment.parts[..=part.1 as usize];
                let end = segment.first_dts.0 + parts.iter().map(|p| p.duration.0).sum::<i64>();
                assert_eq!(frame.dts.0 + 40_000, end, "{part:?}");
                // The player reads the playlist and asks for the hinted part.
                wanted = packager.timeline().preload_hint();
                add(&mut waiters, wanted, now, &packager);
                asked_at = now;
            }
            _ => assert!(ready.is_empty(), "released early at {now:?}"),
        }
        assert!(waiters.expire(now).is_empty(), "expired at {now:?}");
    }
    // 4 s of 200 ms parts, each ready with its fifth frame, the last one too.
    assert_eq!(released, 20);
    assert!(ready_delays.iter().all(|&d| d == 0));
    // Only the first segment ends before a keyframe interval says where it
    // does: its hint names a part that never comes.
    assert_eq!(aliased, 1);

    // The publisher stalls: the request for the next part expires exactly
    // three target durations after it was made.
    let deadline = waiters.next_deadline().unwrap();
    assert_eq!(deadline.0 - asked_at.0, 6_000_000);
    assert!(waiters.expire(Timestamp(deadline.0 - 1)).is_empty());
    assert_eq!(waiters.expire(deadline), [wanted]);
    assert!(waiters.is_empty());

    // After the end, every request is satisfied at once.
    packager.finish(now).unwrap();
    add_after_end(&packager, wanted);
}

fn add_after_end(packager: &HlsPackager, (msn, part): (u64, u32)) {
    let query = BlockingQuery::parse(&format!("_HLS_msn={msn}&_HLS_part={part}")).unwrap();
    assert!(packager.timeline().satisfies(&query));
}

#[test]
fn requests_too_far_ahead_are_refused() {
    let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
    for frame in frames().into_iter().take(80) {
        packager.push(&frame, frame.dts).unwrap();
    }
    let timeline = packager.timeline();
    let (msn, _) = timeline.next_part();
    let far = BlockingQuery::parse(&format!("_HLS_msn={}", msn + 3)).unwrap();
    assert!(timeline.check(&far).is_err());
    let near = BlockingQuery::parse(&format!("_HLS_msn={}", msn + 2)).unwrap();
    timeline.check(&near).unwrap();
    assert!(BlockingQuery::parse("_HLS_part=1").is_err());
}
