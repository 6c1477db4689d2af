//! The MPEG-TS media playlist, the multivariant playlist, and the text
//! helpers both media playlists share.
//!
//! `index.m3u8` is a plain RFC 8216 version 3 live playlist: the last
//! [`window`](super::HlsSettings::window) complete segments as `seg{msn}.ts`,
//! with three-decimal `EXTINF` durations. The LL-HLS playlist is in
//! [`ll_media_playlist`](super::ll_media_playlist).

use std::fmt::Write;

use arcly_engine::Timestamp;

use super::{HlsError, Resource, Segment, Timeline};

/// One `EXT-X-STREAM-INF` entry of a multivariant playlist.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The media playlist, relative to the multivariant playlist.
    pub uri: String,
    /// Peak bit rate, bits per second (see
    /// [`Timeline::bandwidth`](super::Timeline::bandwidth)).
    pub bandwidth: u64,
    /// Average bit rate, bits per second.
    pub average_bandwidth: Option<u64>,
    /// RFC 6381 codec strings, e.g. `avc1.64001f` and `mp4a.40.2`.
    pub codecs: Vec<String>,
    /// Picture width and height, for streams with video.
    pub resolution: Option<(u32, u32)>,
    /// Frames per second, for streams with video.
    pub frame_rate: Option<f64>,
}

/// Renders `index.m3u8`: the last [`window`](super::HlsSettings::window)
/// complete segments that have an MPEG-TS rendition (none do when MPEG-TS
/// cannot carry the stream's codecs).
pub fn ts_media_playlist(timeline: &Timeline) -> String {
    let window = timeline.settings().window;
    let with_ts: Vec<&Segment> = timeline.segments().filter(|s| s.ts.is_some()).collect();
    let listed = &with_ts[with_ts.len().saturating_sub(window)..];
    let mut out = String::with_capacity(128 + 48 * listed.len());
    out.push_str("#EXTM3U\n#EXT-X-VERSION:3\n");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", timeline.target_duration());
    write_sequences(&mut out, listed, timeline.next_msn());
    out.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (i, segment) in listed.iter().enumerate() {
        write_segment_tags(&mut out, segment, i == 0);
        write_extinf(&mut out, segment, Resource::TsSegment(segment.msn));
    }
    if timeline.is_ended() {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// Renders a multivariant playlist. Refuses a URI or codec string that
/// cannot be written (a line break, or a `"` or `,` in a quoted attribute).
pub fn master_playlist(variants: &[Variant]) -> Result<String, HlsError> {
    let mut out = String::from("#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for variant in variants {
        if variant.uri.is_empty() || variant.uri.contains(['\r', '\n']) {
            return Err(HlsError::InvalidAttribute {
                what: "variant uri",
            });
        }
        let _ = write!(out, "#EXT-X-STREAM-INF:BANDWIDTH={}", variant.bandwidth);
        if let Some(average) = variant.average_bandwidth {
            let _ = write!(out, ",AVERAGE-BANDWIDTH={average}");
        }
        if !variant.codecs.is_empty() {
            for codec in &variant.codecs {
                if codec.is_empty() || codec.contains(['"', ',', '\r', '\n']) {
                    return Err(HlsError::InvalidAttribute {
                        what: "codec string",
                    });
                }
            }
            let _ = write!(out, ",CODECS=\"{}\"", variant.codecs.join(","));
        }
        if let Some((width, height)) = variant.resolution {
            let _ = write!(out, ",RESOLUTION={width}x{height}");
        }
        if let Some(rate) = variant.frame_rate.filter(|r| r.is_finite() && *r > 0.0) {
            let _ = write!(out, ",FRAME-RATE={rate:.3}");
        }
        let _ = writeln!(out, "\n{}", variant.uri);
    }
    Ok(out)
}

/// `EXT-X-MEDIA-SEQUENCE` and, once there was a discontinuity,
/// `EXT-X-DISCONTINUITY-SEQUENCE`, both of the first listed segment.
/// `next_msn` stands in for an empty list.
pub(super) fn write_sequences(out: &mut String, listed: &[&Segment], next_msn: u64) {
    let (msn, discontinuity) = listed
        .first()
        .map_or((next_msn, 0), |s| (s.msn, s.discontinuity_sequence));
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{msn}");
    if discontinuity > 0 {
        let _ = writeln!(out, "#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity}");
    }
}

/// The tags before a segment's parts and `EXTINF`. The first listed
/// segment carries its discontinuity in `EXT-X-DISCONTINUITY-SEQUENCE`
/// instead of a tag, so a delta update that skips it loses nothing.
pub(super) fn write_segment_tags(out: &mut String, segment: &Segment, first: bool) {
    if segment.discontinuity && !first {
        out.push_str("#EXT-X-DISCONTINUITY\n");
    }
    if let Some(pdt) = segment.program_date_time {
        let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", iso8601(pdt));
    }
}

/// `#EXTINF:<duration>,` and the segment's URI.
pub(super) fn write_extinf(out: &mut String, segment: &Segment, uri: Resource) {
    let _ = writeln!(out, "#EXTINF:{},\n{uri}", seconds(segment.duration, 3));
}

/// Seconds with `decimals` digits after the point, rounded half up on whole
/// microseconds. Every duration goes through here, so rounding keeps their
/// order: a part no longer than the part target never prints longer.
pub(super) fn seconds(t: Timestamp, decimals: u32) -> String {
    let decimals = decimals.min(6);
    let step = 10i64.pow(6 - decimals);
    let scaled = (t.0.max(0) + step / 2) / step;
    if decimals == 0 {
        return scaled.to_string();
    }
    let unit = 10i64.pow(decimals);
    format!(
        "{}.{:0width$}",
        scaled / unit,
        scaled % unit,
        width = decimals as usize
    )
}

/// Unix microseconds as an ISO 8601 date-time with milliseconds, UTC: the
/// value of `EXT-X-PROGRAM-DATE-TIME` (also written by recordings' VOD
/// playlists).
pub fn iso8601(unix: Timestamp) -> String {
    let ms = unix.0.div_euclid(1_000);
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let secs = ms_of_day / 1_000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60,
        ms_of_day % 1_000
    )
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::hls::{HlsSettings, SegmentStart};

    fn timeline_with(durations_ms: &[i64], settings: HlsSettings) -> Timeline {
        let mut timeline = Timeline::new(settings).unwrap();
        for &ms in durations_ms {
            timeline.open_segment(SegmentStart::default()).unwrap();
            timeline
                .push_part(Timestamp(ms * 1000), true, Bytes::new(), Timestamp(0))
                .unwrap();
            timeline
                .close_segment(Timestamp(ms * 1000), Some(Bytes::new()))
                .unwrap();
        }
        timeline
    }

    #[test]
    fn seconds_round_half_up() {
        assert_eq!(seconds(Timestamp(2_000_000), 3), "2.000");
        assert_eq!(seconds(Timestamp(1_999_500), 3), "2.000");
        assert_eq!(seconds(Timestamp(1_999_499), 3), "1.999");
        assert_eq!(seconds(Timestamp(200_000), 5), "0.20000");
        assert_eq!(seconds(Timestamp(23_220), 5), "0.02322");
        assert_eq!(seconds(Timestamp(12_000_000), 0), "12");
        assert_eq!(seconds(Timestamp(-5), 3), "0.000");
    }

    #[test]
    fn iso8601_dates() {
        assert_eq!(iso8601(Timestamp(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(Timestamp(951_782_400_123_000)),
            "2000-02-29T00:00:00.123Z"
        );
        assert_eq!(
            iso8601(Timestamp(1_700_000_000_000_000)),
            "2023-11-14T22:13:20.000Z"
        );
    }

    #[test]
    fn ts_playlist_lists_the_window() {
        let mut timeline = timeline_with(
            &[2000, 2040, 2000, 1960, 2000, 2000, 2000, 2000],
            HlsSettings::default(),
        );
        let text = ts_media_playlist(&timeline);
        let expected = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n\
            #EXT-X-MEDIA-SEQUENCE:2\n#EXT-X-INDEPENDENT-SEGMENTS\n\
            #EXTINF:2.000,\nseg2.ts\n#EXTINF:1.960,\nseg3.ts\n\
            #EXTINF:2.000,\nseg4.ts\n#EXTINF:2.000,\nseg5.ts\n\
            #EXTINF:2.000,\nseg6.ts\n#EXTINF:2.000,\nseg7.ts\n";
        assert_eq!(text, expected);
        timeline.end().unwrap();
        assert!(ts_media_playlist(&timeline).ends_with("seg7.ts\n#EXT-X-ENDLIST\n"));
    }

    #[test]
    fn ts_playlist_marks_discontinuities() {
        let mut timeline = timeline_with(&[2000; 5], HlsSettings::default());
        for _ in 0..2 {
            timeline
                .open_segment(SegmentStart {
                    discontinuity: true,
                    ..SegmentStart::default()
                })
                .unwrap();
            timeline
                .push_part(Timestamp(1), true, Bytes::new(), Timestamp(0))
                .unwrap();
            timeline
                .close_segment(Timestamp(2_000_000), Some(Bytes::new()))
                .unwrap();
        }
        let text = ts_media_playlist(&timeline);
        assert!(!text.contains("DISCONTINUITY-SEQUENCE"), "{text}");
        assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 2);
        assert!(text.contains("#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nseg5.ts\n"));

        // Once the first listed segment is one, it moves to the header.
        let timeline = {
            let mut t = timeline;
            for _ in 0..5 {
                t.open_segment(SegmentStart::default()).unwrap();
                t.push_part(Timestamp(1), true, Bytes::new(), Timestamp(0))
                    .unwrap();
                t.close_segment(Timestamp(2_000_000), Some(Bytes::new()))
                    .unwrap();
            }
            t
        };
        let text = ts_media_playlist(&timeline);
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:6\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n"));
        assert!(!text.contains("#EXT-X-DISCONTINUITY\n"), "{text}");
    }

    #[test]
    fn program_date_time_precedes_its_segment() {
        let settings = HlsSettings::default();
        let mut timeline = Timeline::new(settings).unwrap();
        timeline
            .open_segment(SegmentStart {
                program_date_time: Some(Timestamp(1_700_000_000_000_000)),
                ..SegmentStart::default()
            })
            .unwrap();
        timeline
            .push_part(Timestamp(1), true, Bytes::new(), Timestamp(0))
            .unwrap();
        timeline
            .close_segment(Timestamp(2_000_000), Some(Bytes::new()))
            .unwrap();
        assert!(ts_media_playlist(&timeline).contains(
            "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n#EXTINF:2.000,\nseg0.ts\n"
        ));
    }

    #[test]
    fn master_playlist_attributes() {
        let variant = Variant {
            uri: "index.m3u8".into(),
            bandwidth: 1_200_000,
            average_bandwidth: Some(1_000_000),
            codecs: vec!["avc1.64001f".into(), "mp4a.40.2".into()],
            resolution: Some((1280, 720)),
            frame_rate: Some(29.97),
        };
        assert_eq!(
            master_playlist(std::slice::from_ref(&variant)).unwrap(),
            "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-STREAM-INF:BANDWIDTH=1200000,AVERAGE-BANDWIDTH=1000000,\
             CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=29.970\n\
             index.m3u8\n"
        );
        let audio_only = Variant {
            codecs: vec!["mp4a.40.2".into()],
            resolution: None,
            frame_rate: None,
            average_bandwidth: None,
            ..variant.clone()
        };
        assert!(
            master_playlist(&[audio_only])
                .unwrap()
                .contains("BANDWIDTH=1200000,CODECS=\"mp4a.40.2\"\nindex.m3u8\n")
        );
        let bad = Variant {
            codecs: vec!["avc1\"".into()],
            ..variant.clone()
        };
        assert!(master_playlist(&[bad]).is_err());
        let bad = Variant {
            uri: "a\nb".into(),
            ..variant
        };
        assert!(master_playlist(&[bad]).is_err());
    }
}
