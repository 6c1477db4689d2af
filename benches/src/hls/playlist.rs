//! The lines of HLS media playlists a player acts on, read as the
//! specification writes them (RFC 8216 and draft-pantos-hls-rfc8216bis),
//! not as arcly happens to name its files: a segment's Media Sequence
//! Number is counted from `EXT-X-MEDIA-SEQUENCE` (and `EXT-X-SKIP`), and a
//! part belongs to the segment whose `EXTINF` follows it, or to the open
//! segment when none does. So the harness measures any LL-HLS origin.
//!
//! Everything else (dates, keys, maps, discontinuities) is skipped; a line
//! a player needs that does not parse is an error naming its line number.

use anyhow::Context;
use arcly_media::hls::Resource;

/// A part or segment position: Media Sequence Number, then part index.
pub(crate) type PartId = (u64, u32);

/// One `EXT-X-PART`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PartRef {
    /// Its segment and its index within it.
    pub(crate) id: PartId,
    /// `URI`, as written (relative to the playlist).
    pub(crate) uri: String,
    /// `INDEPENDENT=YES`.
    pub(crate) independent: bool,
}

/// One complete segment (an `EXTINF` and its URI line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentRef {
    pub(crate) msn: u64,
    pub(crate) uri: String,
    /// `EXTINF`, µs.
    pub(crate) duration_us: u64,
}

/// What a media playlist says, as far as a player acts on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MediaPlaylist {
    /// `EXT-X-TARGETDURATION`, s.
    pub(crate) target_duration: u64,
    /// `EXT-X-MEDIA-SEQUENCE` (0 when absent).
    pub(crate) media_sequence: u64,
    /// `EXT-X-PART-INF:PART-TARGET`, µs, for LL-HLS playlists.
    pub(crate) part_target_us: Option<u64>,
    /// Complete segments, oldest first (those an `EXT-X-SKIP` replaced are
    /// not listed, but counted in the numbering).
    pub(crate) segments: Vec<SegmentRef>,
    /// Every listed part, oldest first.
    pub(crate) parts: Vec<PartRef>,
    /// `EXT-X-PRELOAD-HINT:TYPE=PART`'s `URI`.
    pub(crate) preload_hint: Option<String>,
    /// `EXT-X-ENDLIST`.
    pub(crate) ended: bool,
    /// The Media Sequence Number of the open segment (the next one to be
    /// listed), and how many of its parts are listed.
    open_msn: u64,
    open_parts: u32,
}

impl MediaPlaylist {
    /// Parses a whole playlist.
    pub(crate) fn parse(text: &str) -> anyhow::Result<MediaPlaylist> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        let (_, first) = lines.next().context("an empty playlist")?;
        anyhow::ensure!(
            first == "#EXTM3U",
            "not a playlist: line 1 is {first:?}, not #EXTM3U"
        );
        let mut out = MediaPlaylist::default();
        let mut target = None;
        // Whether a segment or a skip numbered from the media sequence yet.
        let mut numbered = false;
        let mut extinf: Option<u64> = None;
        for (n, line) in lines {
            let at = || format!("line {n}: {line:?}");
            if line.is_empty() {
                continue;
            }
            let Some(tag) = line.strip_prefix('#') else {
                let duration_us = extinf
                    .take()
                    .with_context(|| format!("a URI without #EXTINF before it at {}", at()))?;
                out.segments.push(SegmentRef {
                    msn: out.open_msn,
                    uri: line.to_owned(),
                    duration_us,
                });
                out.open_msn += 1;
                out.open_parts = 0;
                numbered = true;
                continue;
            };
            let (name, value) = tag.split_once(':').unwrap_or((tag, ""));
            match name {
                "EXT-X-TARGETDURATION" => {
                    target = Some(value.parse().with_context(at)?);
                }
                "EXT-X-MEDIA-SEQUENCE" => {
                    anyhow::ensure!(
                        !numbered && out.parts.is_empty(),
                        "EXT-X-MEDIA-SEQUENCE after the first segment at {}",
                        at()
                    );
                    out.media_sequence = value.parse().with_context(at)?;
                    out.open_msn = out.media_sequence;
                }
                "EXT-X-SKIP" => {
                    let skipped = attribute(value, "SKIPPED-SEGMENTS")
                        .with_context(|| format!("no SKIPPED-SEGMENTS at {}", at()))?;
                    let skipped: u64 = skipped.parse().with_context(at)?;
                    out.open_msn += skipped;
                    numbered = true;
                }
                "EXT-X-PART-INF" => {
                    let part_target = attribute(value, "PART-TARGET")
                        .with_context(|| format!("no PART-TARGET at {}", at()))?;
                    out.part_target_us = Some(seconds_us(part_target).with_context(at)?);
                }
                "EXTINF" => {
                    let duration = value.split(',').next().unwrap_or_default();
                    extinf = Some(seconds_us(duration).with_context(at)?);
                }
                "EXT-X-PART" => {
                    let uri = attribute(value, "URI")
                        .with_context(|| format!("a part without a URI at {}", at()))?;
                    out.parts.push(PartRef {
                        id: (out.open_msn, out.open_parts),
                        uri: uri.to_owned(),
                        independent: attribute(value, "INDEPENDENT") == Some("YES"),
                    });
                    out.open_parts += 1;
                }
                "EXT-X-PRELOAD-HINT" if attribute(value, "TYPE") == Some("PART") => {
                    let uri = attribute(value, "URI")
                        .with_context(|| format!("a preload hint without a URI at {}", at()))?;
                    out.preload_hint = Some(uri.to_owned());
                }
                "EXT-X-ENDLIST" => out.ended = true,
                _ => {}
            }
        }
        out.target_duration = target.context("no #EXT-X-TARGETDURATION")?;
        Ok(out)
    }

    /// The part a blocking reload waits for next (`_HLS_msn`, `_HLS_part`):
    /// the preload hint's, when it is named as arcly names parts
    /// (`part{msn}.{i}.m4s`); otherwise the one after the last listed part
    /// of the open segment (its first when none is listed yet). The two
    /// differ only at the end of a segment, where arcly hints the next
    /// segment's first part and the count gives one past the last, which
    /// the server reads as that same part (rfc8216bis §6.2.5.2).
    pub(crate) fn next_part(&self) -> PartId {
        self.preload_hint
            .as_deref()
            .and_then(arcly_part)
            .unwrap_or((self.open_msn, self.open_parts))
    }

    /// The part after `id`: the next one listed, or, after the newest, the
    /// [`next_part`](Self::next_part).
    pub(crate) fn part_after(&self, id: PartId) -> PartId {
        self.parts
            .iter()
            .find(|p| p.id > id)
            .map_or_else(|| self.next_part(), |p| p.id)
    }

    /// The first listed part at or after `id` (a part index past the end
    /// of its segment stands for the next segment's first part, as the
    /// server reads it).
    pub(crate) fn part_at_or_after(&self, id: PartId) -> Option<&PartRef> {
        self.parts.iter().find(|p| p.id >= id)
    }

    /// The newest listed part.
    pub(crate) fn newest_part(&self) -> Option<&PartRef> {
        self.parts.last()
    }

    /// The newest complete segment.
    pub(crate) fn newest_segment(&self) -> Option<&SegmentRef> {
        self.segments.last()
    }
}

/// The segment and index of a part URI named as arcly names parts.
fn arcly_part(uri: &str) -> Option<PartId> {
    let name = uri.rsplit('/').next()?.split('?').next()?;
    match Resource::parse(name)? {
        Resource::Part(msn, index) => Some((msn, index)),
        _ => None,
    }
}

/// The value of attribute `name` in an attribute list
/// (`NAME=value,NAME="quoted, value"`), quotes removed.
pub(crate) fn attribute<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = list;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            let tail = &quoted[end + 1..];
            (&quoted[..end], tail.strip_prefix(',').unwrap_or(tail))
        } else {
            match after.split_once(',') {
                Some((value, tail)) => (value, tail),
                None => (after, ""),
            }
        };
        if key.trim() == name {
            return Some(value);
        }
        rest = tail;
    }
    None
}

/// A decimal number of seconds (`2.000`, `0.20000`, `4`) in µs.
fn seconds_us(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    anyhow::ensure!(
        digits(whole) && (fraction.is_empty() || digits(fraction)),
        "not a number of seconds: {text:?}"
    );
    let whole: u64 = whole.parse()?;
    let mut micros = 0u64;
    for (i, d) in fraction.bytes().take(6).enumerate() {
        micros += u64::from(d - b'0') * 10u64.pow(5 - i as u32);
    }
    Ok(whole * 1_000_000 + micros)
}

/// Resolves a playlist's `uri` against the directory of the playlist at
/// `base` (a path ending in `/`): absolute paths stay, relative ones join.
pub(crate) fn resolve(base: &str, uri: &str) -> anyhow::Result<String> {
    anyhow::ensure!(
        !uri.contains("://"),
        "the URI {uri:?} names another server; the harness follows paths only"
    );
    Ok(if uri.starts_with('/') {
        uri.to_owned()
    } else {
        format!("{base}{uri}")
    })
}

#[cfg(test)]
mod tests {
    use arcly_engine::Timestamp;
    use arcly_media::hls::{HlsPackager, HlsSettings, ll_media_playlist, ts_media_playlist};

    use super::*;
    use crate::source::{Shape, Synthetic};

    /// The LL-HLS playlist arcly's own test writes: a closed segment of
    /// ten parts, then two parts of the open one.
    const LL: &str = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n\
        #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=0.60000\n\
        #EXT-X-PART-INF:PART-TARGET=0.20000\n#EXT-X-MEDIA-SEQUENCE:7\n\
        #EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n\
        #EXT-X-PART:DURATION=0.20000,URI=\"part7.0.m4s\",INDEPENDENT=YES\n\
        #EXT-X-PART:DURATION=0.20000,URI=\"part7.1.m4s\"\n\
        #EXTINF:0.400,\nseg7.m4s\n\
        #EXT-X-PART:DURATION=0.20000,URI=\"part8.0.m4s\",INDEPENDENT=YES\n\
        #EXT-X-PART:DURATION=0.20000,URI=\"part8.1.m4s\"\n\
        #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part8.2.m4s\"\n";

    #[test]
    fn numbers_parts_and_segments_from_the_media_sequence() {
        let p = MediaPlaylist::parse(LL).unwrap();
        assert_eq!(p.target_duration, 2);
        assert_eq!(p.part_target_us, Some(200_000));
        assert_eq!(
            p.segments,
            vec![SegmentRef {
                msn: 7,
                uri: "seg7.m4s".into(),
                duration_us: 400_000
            }]
        );
        let ids: Vec<PartId> = p.parts.iter().map(|p| p.id).collect();
        assert_eq!(ids, vec![(7, 0), (7, 1), (8, 0), (8, 1)]);
        assert!(p.parts[2].independent && !p.parts[3].independent);
        assert_eq!(p.parts[3].uri, "part8.1.m4s");
        assert_eq!(p.preload_hint.as_deref(), Some("part8.2.m4s"));
        assert_eq!(p.next_part(), (8, 2));
        assert_eq!(p.part_after((7, 1)), (8, 0));
        assert_eq!(p.part_after((8, 1)), (8, 2));
        assert!(!p.ended);
    }

    #[test]
    fn the_part_that_answers_a_reload() {
        let p = MediaPlaylist::parse(LL).unwrap();
        assert_eq!(p.part_at_or_after((7, 1)).unwrap().uri, "part7.1.m4s");
        // Past the last part of segment 7: the next segment's first part.
        assert_eq!(p.part_at_or_after((7, 2)).unwrap().uri, "part8.0.m4s");
        assert_eq!(p.part_at_or_after((8, 2)), None);
        assert_eq!(p.newest_part().unwrap().id, (8, 1));
    }

    #[test]
    fn a_segment_just_closed_leaves_the_next_one_waiting_for_part_0() {
        let text = LL.replace(
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part8.2.m4s\"\n",
            "#EXTINF:0.400,\nseg8.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part9.0.m4s\"\n",
        );
        let p = MediaPlaylist::parse(&text).unwrap();
        assert_eq!(p.newest_segment().unwrap().msn, 8);
        assert_eq!(p.next_part(), (9, 0));
        // A hint for the next segment while this one is still open (arcly
        // predicts the keyframe), and a hint named another way.
        let early = LL.replace("part8.2.m4s\"\n", "part9.0.m4s\"\n");
        assert_eq!(MediaPlaylist::parse(&early).unwrap().next_part(), (9, 0));
        let foreign = LL.replace("part8.2.m4s\"\n", "fileSequence8.2.mp4\"\n");
        assert_eq!(MediaPlaylist::parse(&foreign).unwrap().next_part(), (8, 2));
        // Nothing listed yet at all.
        let empty = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n\
                     #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part0.0.m4s\"\n";
        let p = MediaPlaylist::parse(empty).unwrap();
        assert_eq!((p.next_part(), p.newest_segment()), ((0, 0), None));
    }

    #[test]
    fn a_delta_update_counts_the_skipped_segments() {
        let text = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:10\n\
                    #EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:2.000,\nseg13.m4s\n\
                    #EXT-X-PART:DURATION=0.2,URI=\"part14.0.m4s\"\n";
        let p = MediaPlaylist::parse(text).unwrap();
        assert_eq!(p.segments[0].msn, 13);
        assert_eq!(p.parts[0].id, (14, 0));
        assert_eq!(p.next_part(), (14, 1));
    }

    #[test]
    fn a_ts_playlist_and_its_newest_segment() {
        let text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:3\n\
                    #EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-PROGRAM-DATE-TIME:2025-01-01T00:00:00.000Z\n\
                    #EXTINF:2.000,\nseg3.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:3.96,title\nseg4.ts\n\
                    #EXT-X-ENDLIST\n";
        let p = MediaPlaylist::parse(text).unwrap();
        assert_eq!(p.target_duration, 4);
        let newest = p.newest_segment().unwrap();
        assert_eq!((newest.msn, newest.uri.as_str()), (4, "seg4.ts"));
        assert_eq!(newest.duration_us, 3_960_000);
        assert!(p.ended && p.parts.is_empty() && p.part_target_us.is_none());
    }

    #[test]
    fn attributes_with_quotes_and_commas() {
        let list = "TYPE=PART,URI=\"a,b=c.m4s\",BYTERANGE-START=10";
        assert_eq!(attribute(list, "URI"), Some("a,b=c.m4s"));
        assert_eq!(attribute(list, "TYPE"), Some("PART"));
        assert_eq!(attribute(list, "BYTERANGE-START"), Some("10"));
        assert_eq!(attribute(list, "START"), None);
        assert_eq!(attribute("URI=\"unterminated", "URI"), None);
    }

    #[test]
    fn refuses_what_a_player_could_not_follow() {
        for (text, says) in [
            ("", "an empty playlist"),
            ("#EXT-X-TARGETDURATION:2\n", "line 1"),
            (
                "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n",
                "no #EXT-X-TARGETDURATION",
            ),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:2\nseg0.ts\n", "line 3"),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:x\n", "line 2"),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\n", "line 3"),
            (
                "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART:DURATION=1\n",
                "line 3",
            ),
        ] {
            let e = format!("{:#}", MediaPlaylist::parse(text).unwrap_err());
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn resolves_relative_and_absolute_uris() {
        assert_eq!(resolve("/live/h/", "seg1.ts").unwrap(), "/live/h/seg1.ts");
        assert_eq!(resolve("/live/h/", "/x/seg1.ts").unwrap(), "/x/seg1.ts");
        assert!(resolve("/live/h/", "http://cdn/seg1.ts").is_err());
    }

    /// arcly's own renderers, fed the synthetic source: every part the
    /// packager published is listed where the parser numbers it, and the
    /// next part is the one published next.
    #[test]
    fn reads_arclys_playlists_as_the_packager_publishes() {
        let mut source = Synthetic::new(Shape {
            bitrate_kbps: 200,
            fps: 25.0,
            gop_secs: 2.0,
            audio_kbps: 32,
        })
        .unwrap();
        let mut packager = HlsPackager::new(HlsSettings::default()).unwrap();
        for config in source.configs() {
            packager.push(&config, Timestamp::ZERO).unwrap();
        }
        let mut published = Vec::new();
        let mut expected_next: Option<PartId> = None;
        while published.len() < 60 {
            let frame = source.take(0);
            let outcome = packager.push(&frame, frame.dts).unwrap();
            let Some(part) = outcome.part else {
                continue;
            };
            if let Some(next) = expected_next {
                // The hinted part, or, when the hint was one past the end of
                // its segment (arcly's first segment, before it knows the
                // frame interval), the next segment's first.
                assert!(part == next || part == (next.0 + 1, 0), "{part:?} {next:?}");
            }
            published.push(part);
            let ll = MediaPlaylist::parse(&ll_media_playlist(packager.timeline(), false)).unwrap();
            let listed = ll.newest_part().unwrap();
            assert_eq!(listed.id, part);
            assert_eq!(listed.uri, format!("part{}.{}.m4s", part.0, part.1));
            let (msn, index) = ll.next_part();
            assert_eq!(
                ll.preload_hint.as_deref(),
                Some(format!("part{msn}.{index}.m4s").as_str())
            );
            // Counting parts names the same one, or one past the end of the
            // open segment when arcly hints the next segment's first.
            let counted = (ll.open_msn, ll.open_parts);
            assert!(
                counted == (msn, index) || (index == 0 && counted.0 + 1 == msn),
                "{counted:?} {msn} {index}"
            );
            assert_eq!(ll.part_after(part), (msn, index));
            expected_next = Some((msn, index));
            let ts = MediaPlaylist::parse(&ts_media_playlist(packager.timeline())).unwrap();
            if let Some(newest) = ts.newest_segment() {
                assert_eq!(newest.uri, format!("seg{}.ts", newest.msn));
                assert!(newest.msn < part.0);
            }
        }
        // Segments of two seconds, parts of 200 ms: ten parts each.
        assert!(published.contains(&(1, 9)) && !published.contains(&(1, 10)));
    }
}
