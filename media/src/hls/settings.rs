//! What an HLS stream is cut into and how much of it is kept.

use arcly_engine::Timestamp;

use super::HlsError;

/// How the packager cuts a stream and what the playlists list.
///
/// A segment can only start on a video keyframe (or on any audio frame for an
/// audio-only stream), so there is no maximum segment duration: a publisher
/// that sends no keyframe makes one long segment, and
/// [`max_segment_bytes`](Self::max_segment_bytes) bounds the memory it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HlsSettings {
    /// Segments are cut on the first video keyframe at or after this much
    /// media since the segment started (audio-only streams: the first frame
    /// at or after it). Default 2 s. `EXT-X-TARGETDURATION` is this, rounded
    /// up, or the longest segment so far if that is longer.
    pub target_duration: Timestamp,
    /// The Part Target Duration of LL-HLS (`EXT-X-PART-INF:PART-TARGET`).
    /// Default 200 ms; at most `target_duration`.
    pub part_target: Timestamp,
    /// Segments listed in `index.m3u8`, and the newest segments of
    /// `ll.m3u8`. Default 6; at least 3, since RFC 8216 §6.2.2 keeps a live
    /// playlist at least three target durations long.
    pub window: usize,
    /// Offer Playlist Delta Updates (`CAN-SKIP-UNTIL`, `_HLS_skip=YES`).
    /// When set, `ll.m3u8` lists [`SKIP_SEGMENTS`] more segments, which a
    /// delta update replaces with `EXT-X-SKIP`. Default on.
    pub delta_updates: bool,
    /// `PART-HOLD-BACK` in multiples of the part target. Default 3, the
    /// specification's recommendation; at least 2, its minimum.
    pub part_hold_back: u32,
    /// Segments kept in memory after they leave every playlist. `None`
    /// (the default) keeps what RFC 8216 §6.2.2 asks for: a removed segment
    /// stays available for its own duration plus the playlist's.
    pub retain: Option<usize>,
    /// Once the open segment holds this many bytes in either container, the
    /// packager refuses frames until the next keyframe. Default 64 MiB.
    pub max_segment_bytes: usize,
    /// Write `EXT-X-PROGRAM-DATE-TIME`. The `now` passed to the packager must
    /// then be the Unix time in microseconds. Default off.
    pub program_date_time: bool,
}

/// How many segments past the [`window`](HlsSettings::window) `ll.m3u8`
/// lists when [`delta_updates`](HlsSettings::delta_updates) is on: the Skip
/// Boundary is six target durations, and every segment but the last is at
/// least one target duration long.
pub const SKIP_SEGMENTS: usize = 6;

impl Default for HlsSettings {
    fn default() -> Self {
        HlsSettings {
            target_duration: Timestamp(2_000_000),
            part_target: Timestamp(200_000),
            window: 6,
            delta_updates: true,
            part_hold_back: 3,
            retain: None,
            max_segment_bytes: 64 << 20,
            program_date_time: false,
        }
    }
}

impl HlsSettings {
    /// Checks the settings against the specification's rules.
    pub fn validate(&self) -> Result<(), HlsError> {
        if self.target_duration.0 < 1_000 {
            return Err(HlsError::InvalidSettings(
                "target duration is under a millisecond",
            ));
        }
        if self.part_target.0 < 1_000 {
            return Err(HlsError::InvalidSettings(
                "part target is under a millisecond",
            ));
        }
        if self.part_target > self.target_duration {
            return Err(HlsError::InvalidSettings(
                "part target is longer than the target duration",
            ));
        }
        if self.window < 3 {
            return Err(HlsError::InvalidSettings("window is under 3 segments"));
        }
        if self.part_hold_back < 2 {
            return Err(HlsError::InvalidSettings(
                "part hold back is under twice the part target",
            ));
        }
        if self.max_segment_bytes == 0 {
            return Err(HlsError::InvalidSettings("max segment bytes is zero"));
        }
        Ok(())
    }

    /// The segments `ll.m3u8` lists: the window, plus the skippable ones when
    /// delta updates are on. `index.m3u8` lists [`window`](Self::window).
    pub fn listed_segments(&self) -> usize {
        if self.delta_updates {
            self.window + SKIP_SEGMENTS
        } else {
            self.window
        }
    }

    /// The complete segments kept in memory: those listed plus those retained
    /// after leaving the playlists.
    pub fn kept_segments(&self) -> usize {
        let listed = self.listed_segments();
        listed + self.retain.unwrap_or(listed + 1)
    }

    /// `PART-HOLD-BACK`: [`part_hold_back`](Self::part_hold_back) times the
    /// part target.
    pub fn part_hold_back_duration(&self, part_target: Timestamp) -> Timestamp {
        Timestamp(part_target.0.saturating_mul(i64::from(self.part_hold_back)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let settings = HlsSettings::default();
        settings.validate().unwrap();
        assert_eq!(settings.listed_segments(), 12);
        assert_eq!(settings.kept_segments(), 25);
        assert_eq!(
            settings.part_hold_back_duration(settings.part_target),
            Timestamp(600_000)
        );
    }

    #[test]
    fn refuses_what_the_spec_forbids() {
        let bad = [
            HlsSettings {
                part_target: Timestamp(3_000_000),
                ..HlsSettings::default()
            },
            HlsSettings {
                window: 2,
                ..HlsSettings::default()
            },
            HlsSettings {
                part_hold_back: 1,
                ..HlsSettings::default()
            },
            HlsSettings {
                target_duration: Timestamp(0),
                ..HlsSettings::default()
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?}");
        }
    }

    #[test]
    fn retain_overrides_the_rfc_figure() {
        let settings = HlsSettings {
            delta_updates: false,
            retain: Some(1),
            ..HlsSettings::default()
        };
        assert_eq!(settings.kept_segments(), 7);
    }
}
