//! A recording's playlists: an HLS media playlist for fMP4 (`EVENT` while
//! recording, `VOD` with `EXT-X-ENDLIST` once the stream ended) and an
//! ffconcat list for FLV files.

use std::fmt::Write as _;

use arcly_engine::Timestamp;
use arcly_media::hls::iso8601;

/// One closed segment (a file) of a recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    /// The file name, relative to the recording's directory.
    pub(super) name: String,
    /// How long it plays.
    pub(super) duration: Timestamp,
    /// Media are missing or timestamps broke before it.
    pub(super) discontinuity: bool,
    /// The init segment it needs (fMP4).
    pub(super) init: Option<String>,
    /// The wall-clock time of its first frame, in Unix microseconds, when
    /// it starts the recording or follows a discontinuity.
    pub(super) date: Option<Timestamp>,
}

/// The HLS media playlist of `entries`. `target` is the configured segment
/// duration: `EXT-X-TARGETDURATION` is the longer of it and the longest
/// segment, so it grows only when a GOP outlasts the target.
pub(super) fn media_playlist(entries: &[Entry], target: Timestamp, ended: bool) -> String {
    let longest = entries.iter().map(|e| e.duration).max().unwrap_or_default();
    let target_secs = whole_seconds_up(longest.max(target)).max(1);
    let kind = if ended { "VOD" } else { "EVENT" };
    let mut out = String::with_capacity(128 + entries.len() * 64);
    out.push_str("#EXTM3U\n#EXT-X-VERSION:7\n");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target_secs}");
    let _ = writeln!(out, "#EXT-X-PLAYLIST-TYPE:{kind}");
    out.push_str("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let mut init: Option<&str> = None;
    for (i, entry) in entries.iter().enumerate() {
        if entry.discontinuity && i > 0 {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if let Some(uri) = entry.init.as_deref()
            && init != Some(uri)
        {
            let _ = writeln!(out, "#EXT-X-MAP:URI=\"{uri}\"");
            init = Some(uri);
        }
        if let Some(date) = entry.date {
            let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", iso8601(date));
        }
        let _ = writeln!(out, "#EXTINF:{},\n{}", seconds(entry.duration), entry.name);
    }
    if ended {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// The ffconcat list of `entries` (`ffmpeg -f concat -i index.ffconcat`).
pub(super) fn ffconcat(entries: &[Entry]) -> String {
    let mut out = String::from("ffconcat version 1.0\n");
    for entry in entries {
        let _ = writeln!(
            out,
            "file {}\nduration {}",
            entry.name,
            seconds(entry.duration)
        );
    }
    out
}

fn whole_seconds_up(t: Timestamp) -> i64 {
    (t.0.max(0) + 999_999) / 1_000_000
}

/// Seconds with millisecond precision, rounded half up.
pub(super) fn seconds(t: Timestamp) -> String {
    let ms = (t.0.max(0) + 500) / 1_000;
    format!("{}.{:03}", ms / 1_000, ms % 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ms: i64, discontinuity: bool, init: &str) -> Entry {
        Entry {
            name: name.into(),
            duration: Timestamp::from_millis(ms),
            discontinuity,
            init: Some(init.into()),
            date: None,
        }
    }

    #[test]
    fn event_while_recording_then_vod_with_endlist() {
        let mut entries = vec![Entry {
            date: Some(Timestamp(1_700_000_000_123_000)),
            ..entry("seg0.m4s", 10_010, false, "init.mp4")
        }];
        let live = media_playlist(&entries, Timestamp::from_millis(10_000), false);
        assert_eq!(
            live,
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:11\n#EXT-X-PLAYLIST-TYPE:EVENT\n\
             #EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n\
             #EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.123Z\n#EXTINF:10.010,\nseg0.m4s\n"
        );
        entries.push(entry("seg1.m4s", 4_000, false, "init.mp4"));
        entries.push(entry("seg2.m4s", 6_000, true, "init1.mp4"));
        let done = media_playlist(&entries, Timestamp::from_millis(10_000), true);
        assert!(done.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"), "{done}");
        assert!(
            done.ends_with(
                "#EXTINF:4.000,\nseg1.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\"\n\
                 #EXTINF:6.000,\nseg2.m4s\n#EXT-X-ENDLIST\n"
            ),
            "{done}"
        );
        assert_eq!(done.matches("EXT-X-MAP").count(), 2, "{done}");
    }

    #[test]
    fn ffconcat_lists_files_with_durations() {
        let entries = [
            entry("seg0.flv", 2_000, false, ""),
            entry("seg1.flv", 1_500, false, ""),
        ];
        assert_eq!(
            ffconcat(&entries),
            "ffconcat version 1.0\nfile seg0.flv\nduration 2.000\nfile seg1.flv\nduration 1.500\n"
        );
    }
}
