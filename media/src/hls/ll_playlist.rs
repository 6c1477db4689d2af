//! The LL-HLS fMP4 media playlist (`ll.m3u8`), per draft-pantos-hls-rfc8216bis.
//!
//! The same playlist serves players without LL-HLS: they ignore
//! `EXT-X-SERVER-CONTROL`, `EXT-X-PART-INF`, `EXT-X-PART` and
//! `EXT-X-PRELOAD-HINT`, and play the complete `seg{msn}.m4s` segments.
//!
//! - `EXT-X-VERSION` is 6 (the lowest with `EXT-X-MAP` in a media playlist),
//!   or 9 in a delta update, the lowest with `EXT-X-SKIP` (§8).
//! - `EXT-X-PART` tags are listed for the open segment and for the complete
//!   segments that end less than three target durations before the end of
//!   the playlist (§4.4.4.9 asks servers to drop older ones).
//! - `CAN-SKIP-UNTIL` is six target durations, the minimum (§4.4.3.8). A delta
//!   update skips the oldest segments that end more than that before the end
//!   of the playlist, but never one that starts a discontinuity, since its
//!   `EXT-X-DISCONTINUITY` tag would go with it.
//! - `EXT-X-PRELOAD-HINT` names the part after the last one, or the next
//!   segment's first when the open segment is expected to end before another
//!   part (see [`Timeline::preload_hint`]).

use std::fmt::Write;

use arcly_engine::Timestamp;

use super::playlist::{seconds, write_extinf, write_segment_tags, write_sequences};
use super::{Resource, Segment, Timeline};

/// Digits after the point for part durations and the part target: whole
/// frames of 90 kHz or 48 kHz media are not round milliseconds.
const PART_DECIMALS: u32 = 5;

/// Renders `ll.m3u8`; `skip` (`_HLS_skip=YES` or `v2`) asks for a Playlist
/// Delta Update, which is produced when
/// [`delta_updates`](super::HlsSettings::delta_updates) is on.
pub fn ll_media_playlist(timeline: &Timeline, skip: bool) -> String {
    let settings = timeline.settings();
    let target = timeline.target_duration();
    let target_us = Timestamp(target as i64 * 1_000_000);
    let skip_boundary = Timestamp(target_us.0 * 6);
    let part_target = timeline.part_target();

    let all = timeline.segments();
    let first = all.len().saturating_sub(settings.listed_segments());
    let listed: Vec<&Segment> = timeline.segments().skip(first).collect();
    let open = timeline.open().filter(|_| !timeline.is_ended());

    // Distance from the end of each listed segment to the end of the
    // playlist, newest first.
    let mut after = vec![Timestamp::ZERO; listed.len()];
    let mut acc = open.map_or(0, |s| s.duration.0);
    for (i, segment) in listed.iter().enumerate().rev() {
        after[i] = Timestamp(acc);
        acc += segment.duration.0;
    }

    let skipped = if skip && settings.delta_updates {
        listed
            .iter()
            .zip(&after)
            .enumerate()
            .take_while(|(i, (s, after))| **after > skip_boundary && !(*i > 0 && s.discontinuity))
            .count()
    } else {
        0
    };

    let mut out = String::with_capacity(256 + 64 * listed.len());
    out.push_str("#EXTM3U\n");
    let _ = writeln!(out, "#EXT-X-VERSION:{}", if skipped > 0 { 9 } else { 6 });
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
    out.push_str("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES");
    if settings.delta_updates {
        let _ = write!(out, ",CAN-SKIP-UNTIL={}", seconds(skip_boundary, 3));
    }
    let hold_back = settings.part_hold_back_duration(part_target);
    let _ = writeln!(out, ",PART-HOLD-BACK={}", seconds(hold_back, PART_DECIMALS));
    let _ = writeln!(
        out,
        "#EXT-X-PART-INF:PART-TARGET={}",
        seconds(part_target, PART_DECIMALS)
    );
    let next_msn = open.map_or(timeline.next_msn(), |s| s.msn);
    write_sequences(&mut out, &listed, next_msn);
    out.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
    let mut init = listed
        .first()
        .copied()
        .or(open)
        .map_or(timeline.init_version(), |s| s.init);
    let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", Resource::Init(init));
    if skipped > 0 {
        let _ = writeln!(out, "#EXT-X-SKIP:SKIPPED-SEGMENTS={skipped}");
    }

    let parts_horizon = Timestamp(target_us.0 * 3);
    for (i, segment) in listed.iter().enumerate().skip(skipped) {
        write_head(&mut out, segment, i == 0, &mut init);
        if after[i] < parts_horizon {
            write_parts(&mut out, segment);
        }
        write_extinf(&mut out, segment, Resource::Fmp4Segment(segment.msn));
    }
    if let Some(open) = open {
        write_head(&mut out, open, listed.is_empty(), &mut init);
        write_parts(&mut out, open);
    }
    if timeline.is_ended() {
        out.push_str("#EXT-X-ENDLIST\n");
    } else {
        let (msn, index) = timeline.preload_hint();
        let _ = writeln!(
            out,
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{}\"",
            Resource::Part(msn, index)
        );
    }
    out
}

/// Discontinuity, init segment change and date before a segment.
fn write_head(out: &mut String, segment: &Segment, first: bool, init: &mut u32) {
    write_segment_tags(out, segment, first);
    if segment.init != *init {
        *init = segment.init;
        let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", Resource::Init(segment.init));
    }
}

fn write_parts(out: &mut String, segment: &Segment) {
    for part in &segment.parts {
        let _ = write!(
            out,
            "#EXT-X-PART:DURATION={},URI=\"{}\"",
            seconds(part.duration, PART_DECIMALS),
            Resource::Part(segment.msn, part.index)
        );
        out.push_str(if part.independent {
            ",INDEPENDENT=YES\n"
        } else {
            "\n"
        });
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::hls::{HlsSettings, SegmentStart};

    /// Adds a segment of `parts` 200 ms parts, the first independent;
    /// `close` completes it.
    fn add(timeline: &mut Timeline, parts: u32, close: bool) {
        timeline.open_segment(SegmentStart::default()).unwrap();
        for i in 0..parts {
            timeline
                .push_part(Timestamp(200_000), i == 0, Bytes::new(), Timestamp(0))
                .unwrap();
        }
        if close {
            let duration = Timestamp(200_000 * i64::from(parts));
            timeline
                .close_segment(duration, Some(Bytes::new()))
                .unwrap();
        }
    }

    #[test]
    fn live_playlist_from_the_start() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        add(&mut timeline, 10, true);
        add(&mut timeline, 2, false);
        let text = ll_media_playlist(&timeline, false);
        let mut expected = String::from(
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,\
             PART-HOLD-BACK=0.60000\n\
             #EXT-X-PART-INF:PART-TARGET=0.20000\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n",
        );
        for i in 0..10 {
            let independent = if i == 0 { ",INDEPENDENT=YES" } else { "" };
            let _ = writeln!(
                expected,
                "#EXT-X-PART:DURATION=0.20000,URI=\"part0.{i}.m4s\"{independent}"
            );
        }
        expected.push_str("#EXTINF:2.000,\nseg0.m4s\n");
        expected.push_str(
            "#EXT-X-PART:DURATION=0.20000,URI=\"part1.0.m4s\",INDEPENDENT=YES\n\
             #EXT-X-PART:DURATION=0.20000,URI=\"part1.1.m4s\"\n\
             #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part1.2.m4s\"\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn nothing_yet() {
        let timeline = Timeline::new(HlsSettings::default()).unwrap();
        let text = ll_media_playlist(&timeline, false);
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:0\n"));
        assert!(text.ends_with("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part0.0.m4s\"\n"));
    }

    #[test]
    fn parts_only_near_the_live_edge() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        for _ in 0..5 {
            add(&mut timeline, 10, true);
        }
        add(&mut timeline, 3, false);
        let text = ll_media_playlist(&timeline, false);
        // Open: 0.6 s; seg4 ends 0.6 s before the end, seg3 2.6 s, seg2 4.6 s
        // and seg1 6.6 s: parts of 2 to 4 and of the open segment 5.
        for msn in 0..=5 {
            let listed = text.contains(&format!("URI=\"part{msn}.0.m4s\""));
            assert_eq!(listed, msn >= 2, "parts of {msn}\n{text}");
        }
        assert!(
            text.contains("URI=\"part5.2.m4s\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part5.3.m4s\"")
        );
    }

    #[test]
    fn delta_update_skips_beyond_the_boundary() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        for _ in 0..20 {
            add(&mut timeline, 10, true);
        }
        add(&mut timeline, 1, false);
        let full = ll_media_playlist(&timeline, false);
        // 12 listed: 8 to 19.
        assert!(full.contains("#EXT-X-MEDIA-SEQUENCE:8\n"));
        assert_eq!(full.matches("#EXTINF").count(), 12);
        let delta = ll_media_playlist(&timeline, true);
        // End of the playlist: 0.2 s into segment 20; segment 13 ends 12.2 s
        // before it, segment 14 10.2 s.
        assert!(delta.starts_with("#EXTM3U\n#EXT-X-VERSION:9\n"));
        assert!(delta.contains("#EXT-X-MEDIA-SEQUENCE:8\n"));
        assert!(delta.contains("#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-SKIP:SKIPPED-SEGMENTS=6\n"));
        assert!(!delta.contains("seg13.m4s"));
        assert!(delta.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=6\n#EXTINF:2.000,\nseg14.m4s\n"));
        assert_eq!(delta.matches("#EXTINF").count(), 6);

        let no_delta = HlsSettings {
            delta_updates: false,
            ..HlsSettings::default()
        };
        let mut timeline = Timeline::new(no_delta).unwrap();
        for _ in 0..20 {
            add(&mut timeline, 10, true);
        }
        let text = ll_media_playlist(&timeline, true);
        assert!(!text.contains("SKIP"), "{text}");
        assert!(text.contains("#EXT-X-VERSION:6\n"));
    }

    #[test]
    fn delta_update_stops_at_a_discontinuity() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        for i in 0..20 {
            timeline
                .open_segment(SegmentStart {
                    new_init: i == 10,
                    ..SegmentStart::default()
                })
                .unwrap();
            timeline
                .push_part(Timestamp(200_000), true, Bytes::new(), Timestamp(0))
                .unwrap();
            timeline
                .close_segment(Timestamp(2_000_000), Some(Bytes::new()))
                .unwrap();
        }
        let full = ll_media_playlist(&timeline, false);
        assert!(full.contains(
            "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n#EXTINF:2.000,\nseg10.m4s\n"
        ));
        let delta = ll_media_playlist(&timeline, true);
        assert!(
            delta.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n"),
            "{delta}"
        );
        assert!(delta.contains("#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n#EXT-X-DISCONTINUITY\n"));
    }

    #[test]
    fn ended_playlist_has_no_hint() {
        let mut timeline = Timeline::new(HlsSettings::default()).unwrap();
        add(&mut timeline, 10, true);
        timeline.end().unwrap();
        let text = ll_media_playlist(&timeline, false);
        assert!(text.ends_with("seg0.m4s\n#EXT-X-ENDLIST\n"), "{text}");
        assert!(!text.contains("PRELOAD-HINT"));
    }
}
