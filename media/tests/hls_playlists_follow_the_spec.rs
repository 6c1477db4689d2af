//! Reads every LL-HLS playlist a live stream produces with a strict parser
//! and checks it against draft-pantos-hls-rfc8216bis: the server control
//! attributes, part durations, `INDEPENDENT`, the preload hint, the media
//! sequence, and delta updates.
//!
//! The stream is the FLV capture (4 s, keyframes every 2 s), looped ten
//! times so that the window slides and delta updates have something to skip.
//! No crate parses LL-HLS tags strictly (m3u8-rs keeps `EXT-X-PART` as an
//! unknown tag), so the parser is here: it refuses any tag it does not know,
//! attribute lists that break RFC 8216 §4.2, and tags out of place.

use std::collections::HashMap;

use arcly_engine::{MediaFrame, Timestamp, TrackKind};
use arcly_media::flv::FlvReader;
use arcly_media::hls::{HlsPackager, HlsSettings, ll_media_playlist};
use bytes::BytesMut;

const FILE: &[u8] = include_bytes!("data/ffmpeg_h264_aac.flv");

/// The capture, looped `times`, each copy 4 s after the one before. Its
/// audio runs 97 ms past the 4 s of video, so the last two audio frames of
/// each copy go, lest they overlap the next copy's first.
fn looped(times: i64) -> Vec<MediaFrame> {
    let mut reader = FlvReader::new();
    let mut buf = BytesMut::from(FILE);
    let mut once = Vec::new();
    while let Some(tag) = reader.feed(&mut buf).unwrap() {
        once.extend(tag.decode_frame().unwrap());
    }
    let mut frames = Vec::new();
    for loop_index in 0..times {
        for frame in &once {
            if loop_index > 0 && frame.is_config() {
                continue;
            }
            if frame.track() == TrackKind::Audio && frame.dts > Timestamp(4_040_000) {
                continue;
            }
            let shift = |t: Timestamp| Timestamp(t.0 + loop_index * 4_000_000);
            frames.push(MediaFrame {
                dts: shift(frame.dts),
                pts: shift(frame.pts),
                ..frame.clone()
            });
        }
    }
    frames
}

#[derive(Debug, Default)]
struct PartTag {
    duration: f64,
    uri: String,
    independent: bool,
}

#[derive(Debug, Default)]
struct SegmentEntry {
    duration: f64,
    uri: String,
    parts: Vec<PartTag>,
}

#[derive(Debug, Default)]
struct MediaPlaylist {
    version: u64,
    target_duration: u64,
    media_sequence: u64,
    server_control: HashMap<String, String>,
    part_target: f64,
    map: String,
    skipped: Option<u64>,
    segments: Vec<SegmentEntry>,
    /// Parts after the last segment: the open segment's.
    open_parts: Vec<PartTag>,
    preload_hint: Option<HashMap<String, String>>,
    endlist: bool,
}

/// An attribute list (RFC 8216 §4.2): `NAME=value` pairs separated by
/// commas, names of `[A-Z0-9-]`, values quoted strings (no `"` or line
/// break inside), or unquoted tokens without spaces. Duplicate names refused.
fn attributes(list: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = list;
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').expect("attribute without =");
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
            "bad attribute name {name:?} in {list:?}"
        );
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').expect("unterminated quoted string");
            (format!("\"{}\"", &quoted[..end]), &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        assert!(
            !value.is_empty() && !value.contains(' '),
            "bad value in {list:?}"
        );
        assert!(
            out.insert(name.to_owned(), value).is_none(),
            "duplicate {name}"
        );
        rest = match after.strip_prefix(',') {
            Some(next) => {
                assert!(!next.is_empty(), "trailing comma in {list:?}");
                next
            }
            None => {
                assert!(after.is_empty(), "junk after value in {list:?}");
                after
            }
        };
    }
    out
}

/// A decimal-floating-point (§4.2): digits, a point, digits; no sign.
fn decimal(s: &str) -> f64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    assert!(
        !int.is_empty() && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()),
        "not a decimal-floating-point: {s:?}"
    );
    s.parse().unwrap()
}

fn integer(s: &str) -> u64 {
    assert!(
        s.bytes().all(|b| b.is_ascii_digit()),
        "not a decimal-integer: {s:?}"
    );
    s.parse().unwrap()
}

fn quoted(attrs: &HashMap<String, String>, name: &str) -> String {
    let value = &attrs[name];
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{name} is not a quoted string"))
        .to_owned()
}

fn part_tag(list: &str) -> PartTag {
    let attrs = attributes(list);
    for name in attrs.keys() {
        assert!(
            ["DURATION", "URI", "INDEPENDENT"].contains(&name.as_str()),
            "{name}"
        );
    }
    let independent = match attrs.get("INDEPENDENT").map(String::as_str) {
        None => false,
        Some("YES") => true,
        Some(other) => panic!("INDEPENDENT={other}"),
    };
    PartTag {
        duration: decimal(&attrs["DURATION"]),
        uri: quoted(&attrs, "URI"),
        independent,
    }
}

/// Parses a media playlist, refusing anything this packager must not write.
fn parse(text: &str) -> MediaPlaylist {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("#EXTM3U"));
    let mut p = MediaPlaylist::default();
    let mut seen = Vec::new();
    let mut parts = Vec::new();
    let mut extinf: Option<f64> = None;
    for line in lines {
        assert!(!p.endlist, "{line:?} after EXT-X-ENDLIST");
        assert!(p.preload_hint.is_none(), "{line:?} after the preload hint");
        if let Some(duration) = extinf.take() {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "no URI after EXTINF"
            );
            p.segments.push(SegmentEntry {
                duration,
                uri: line.to_owned(),
                parts: std::mem::take(&mut parts),
            });
            continue;
        }
        let (tag, value) = line.split_once(':').unwrap_or((line, ""));
        let header = p.segments.is_empty() && parts.is_empty();
        let once = |seen: &mut Vec<String>| {
            assert!(header, "{tag} after the first segment");
            assert!(!seen.contains(&tag.to_owned()), "{tag} twice");
            seen.push(tag.to_owned());
        };
        match tag {
            "#EXT-X-VERSION" => {
                once(&mut seen);
                p.version = integer(value);
            }
            "#EXT-X-TARGETDURATION" => {
                once(&mut seen);
                p.target_duration = integer(value);
            }
            "#EXT-X-MEDIA-SEQUENCE" => {
                once(&mut seen);
                p.media_sequence = integer(value);
            }
            "#EXT-X-SERVER-CONTROL" => {
                once(&mut seen);
                p.server_control = attributes(value);
            }
            "#EXT-X-PART-INF" => {
                once(&mut seen);
                let attrs = attributes(value);
                assert_eq!(attrs.len(), 1);
                p.part_target = decimal(&attrs["PART-TARGET"]);
            }
            "#EXT-X-INDEPENDENT-SEGMENTS" => once(&mut seen),
            "#EXT-X-MAP" => {
                once(&mut seen);
                p.map = quoted(&attributes(value), "URI");
            }
            "#EXT-X-SKIP" => {
                once(&mut seen);
                let attrs = attributes(value);
                assert_eq!(attrs.len(), 1);
                p.skipped = Some(integer(&attrs["SKIPPED-SEGMENTS"]));
            }
            "#EXT-X-PART" => parts.push(part_tag(value)),
            "#EXTINF" => {
                let duration = value.strip_suffix(',').expect("EXTINF without comma");
                extinf = Some(decimal(duration));
            }
            "#EXT-X-PRELOAD-HINT" => p.preload_hint = Some(attributes(value)),
            "#EXT-X-ENDLIST" => p.endlist = true,
            _ => panic!("unexpected line {line:?}"),
        }
    }
    assert!(extinf.is_none(), "EXTINF at the end");
    p.open_parts = parts;
    for required in [
        "#EXT-X-VERSION",
        "#EXT-X-TARGETDURATION",
        "#EXT-X-MEDIA-SEQUENCE",
    ] {
        assert!(seen.contains(&required.to_owned()), "no {required}");
    }
    p
}

/// `(msn, index)` of `part{msn}.{index}.m4s`.
fn part_position(uri: &str) -> (u64, u32) {
    let rest = uri
        .strip_prefix("part")
        .unwrap()
        .strip_suffix(".m4s")
        .unwrap();
    let (msn, index) = rest.split_once('.').unwrap();
    (msn.parse().unwrap(), index.parse().unwrap())
}

/// Every rule a full (not delta) playlist must follow.
fn check_full(text: &str, settings: &HlsSettings) -> MediaPlaylist {
    let p = parse(text);
    assert_eq!(p.version, 6, "EXT-X-MAP needs 6; no SKIP, so no 9");
    assert!(p.skipped.is_none());
    assert_eq!(p.map, "init.mp4");

    // Server control.
    let control = &p.server_control;
    assert_eq!(control["CAN-BLOCK-RELOAD"], "YES");
    let hold_back = decimal(&control["PART-HOLD-BACK"]);
    assert!(hold_back >= 3.0 * p.part_target - 1e-9, "{hold_back}");
    let skip_until = decimal(&control["CAN-SKIP-UNTIL"]);
    assert!(skip_until >= 6.0 * p.target_duration as f64, "{skip_until}");
    assert_eq!(control.len(), 3);
    assert_eq!(p.part_target, settings.part_target.0 as f64 / 1e6);
    assert!(p.part_target <= p.target_duration as f64);

    // Segments: consecutive, each EXTINF within the target duration (RFC
    // 8216 §4.3.3.1 rounds it), the window respected.
    assert!(p.segments.len() <= settings.listed_segments());
    for (i, segment) in p.segments.iter().enumerate() {
        let msn = p.media_sequence + i as u64;
        assert_eq!(segment.uri, format!("seg{msn}.m4s"));
        assert!(segment.duration.round() as u64 <= p.target_duration);
    }

    // Parts: at most the part target; all but a segment's last at least
    // 85 % of it unless INDEPENDENT; in order; the sum of a segment's parts
    // is its duration.
    let mut expected_next: Option<(u64, u32)> = None;
    let all_parts = p
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| (p.media_sequence + i as u64, &s.parts, true))
        .chain(std::iter::once((
            p.media_sequence + p.segments.len() as u64,
            &p.open_parts,
            false,
        )));
    for (msn, parts, complete) in all_parts {
        if parts.is_empty() {
            continue;
        }
        for (i, part) in parts.iter().enumerate() {
            assert_eq!(part_position(&part.uri), (msn, i as u32), "{text}");
            assert!(
                part.duration <= p.part_target,
                "{part:?} over {}",
                p.part_target
            );
            let last = complete && i + 1 == parts.len();
            if !last && !part.independent {
                assert!(part.duration >= 0.85 * p.part_target, "{part:?}");
            }
            // Segments start on keyframes, and the capture has no others.
            assert_eq!(part.independent, i == 0, "{part:?}");
        }
        if complete {
            let sum: f64 = parts.iter().map(|part| part.duration).sum();
            let segment = &p.segments[(msn - p.media_sequence) as usize];
            assert!(
                (sum - segment.duration).abs() < 1e-3,
                "{sum} vs {segment:?}"
            );
        }
        expected_next = Some(match complete {
            true => (msn + 1, 0),
            false => (msn, parts.len() as u32),
        });
    }

    // Parts only within three target durations of the end: a segment with
    // parts listed must end less than that before the end.
    let open: f64 = p.open_parts.iter().map(|part| part.duration).sum();
    let mut after = open;
    for segment in p.segments.iter().rev() {
        if !segment.parts.is_empty() {
            assert!(after < 3.0 * p.target_duration as f64, "{text}");
        } else {
            assert!(after >= 3.0 * p.target_duration as f64 - 1e-9, "{text}");
        }
        after += segment.duration;
    }

    // The preload hint names the next part while live, or the next
    // segment's first once the open segment has lasted its target duration
    // and a keyframe is due.
    match &p.preload_hint {
        Some(hint) => {
            assert!(!p.endlist);
            assert_eq!(hint["TYPE"], "PART");
            let hinted = part_position(&quoted(hint, "URI"));
            match expected_next {
                Some(next) if hinted == next => {}
                Some((msn, _)) => {
                    assert_eq!(hinted, (msn + 1, 0), "{text}");
                    assert!(open >= p.target_duration as f64 - 1e-3, "{text}");
                }
                None => {}
            }
        }
        None => assert!(p.endlist, "live playlist without a preload hint"),
    }
    p
}

/// A delta update: the full playlist's tail, behind an `EXT-X-SKIP` for the
/// segments that end more than `CAN-SKIP-UNTIL` before the end.
fn check_delta(full_text: &str, delta_text: &str) {
    let full = parse(full_text);
    let delta = parse(delta_text);
    let skipped = delta.skipped.expect("no EXT-X-SKIP") as usize;
    assert_eq!(delta.version, 9, "EXT-X-SKIP needs version 9");
    assert_eq!(delta.media_sequence, full.media_sequence);
    assert_eq!(delta.server_control, full.server_control);

    let boundary = decimal(&full.server_control["CAN-SKIP-UNTIL"]);
    let open: f64 = full.open_parts.iter().map(|part| part.duration).sum();
    let mut after = open;
    let mut skippable = 0;
    for (i, segment) in full.segments.iter().enumerate().rev() {
        if after > boundary + 1e-9 {
            skippable = skippable.max(i + 1);
        }
        after += segment.duration;
    }
    assert_eq!(skipped, skippable, "{full_text}\n{delta_text}");
    assert_eq!(delta.segments.len() + skipped, full.segments.len());
    for (d, f) in delta.segments.iter().zip(&full.segments[skipped..]) {
        assert_eq!(
            (d.duration, &d.uri, d.parts.len()),
            (f.duration, &f.uri, f.parts.len())
        );
    }
    assert_eq!(delta.open_parts.len(), full.open_parts.len());
    assert_eq!(delta.preload_hint, full.preload_hint);
}

#[test]
fn every_live_playlist_follows_the_spec() {
    let settings = HlsSettings::default();
    let mut packager = HlsPackager::new(settings.clone()).unwrap();
    let (mut checked, mut deltas, mut max_skipped) = (0, 0, 0);
    let mut now = Timestamp::ZERO;
    for frame in looped(10) {
        now = now.max(frame.dts);
        let outcome = packager.push(&frame, now).unwrap();
        if outcome.part.is_none() {
            continue;
        }
        let full_text = ll_media_playlist(packager.timeline(), false);
        let full = check_full(&full_text, &settings);
        // The media sequence is the first listed segment's.
        let first_kept = packager.timeline().segments().next().map(|s| s.msn);
        let listed = full.segments.len();
        if listed > 0 {
            let msn = full.media_sequence;
            assert_eq!(packager.timeline().segment(msn).unwrap().msn, msn);
            assert!(first_kept <= Some(msn));
        }
        checked += 1;

        let delta_text = ll_media_playlist(packager.timeline(), true);
        let skipped = parse(&delta_text).skipped.unwrap_or(0);
        if skipped > 0 {
            check_delta(&full_text, &delta_text);
            deltas += 1;
            max_skipped = max_skipped.max(skipped);
        } else {
            assert_eq!(delta_text, full_text);
        }
    }
    // 40 s of 200 ms parts, and 20 segments against a window of 12.
    assert!(checked >= 190, "{checked} playlists");
    assert!(
        deltas > 20 && max_skipped == 6,
        "{deltas} deltas, {max_skipped}"
    );

    packager.finish(now).unwrap();
    let text = ll_media_playlist(packager.timeline(), false);
    let ended = check_full(&text, &settings);
    assert!(ended.endlist && ended.preload_hint.is_none());
    assert_eq!(ended.segments.len(), 12);
    assert_eq!(ended.media_sequence, 8);
}

#[test]
fn the_parser_is_strict() {
    for bad in [
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-VERSION:6\n",
        "#EXTM3U\n#EXT-X-UNKNOWN\n",
        "#EXTM3U\n#EXTINF:2.000,\n",
        "#EXTM3U\n#EXT-X-PART:DURATION=0.2,URI=part0.0.m4s\n",
        "#EXTM3U\n#EXT-X-PART:DURATION=-0.2,URI=\"part0.0.m4s\"\n",
        "#EXTM3U\n#EXT-X-PART:DURATION=0.2,URI=\"a\",URI=\"b\"\n",
        "#EXTM3U\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,\n",
    ] {
        let result = std::panic::catch_unwind(|| parse(bad));
        assert!(result.is_err(), "accepted {bad:?}");
    }
}
