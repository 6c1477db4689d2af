//! `[record]`: recording (DVR) of live streams to disk, and which apps.
//!
//! ```toml
//! [record]
//! dir = "/var/lib/arcly/recordings"  # unset: nothing is recorded
//! format = "fmp4"      # or "flv"
//! segment_secs = 10    # a file ends at the first keyframe after this
//! all_apps = false     # true: record every app but those with record = false
//!
//! [apps.live]
//! record = true        # record this app (false: never, whatever all_apps says)
//! ```
//!
//! With `dir` set and neither `all_apps` nor any `record = true`, nothing is
//! recorded: recording is opt-in per app, since it costs disk for every
//! stream published.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use arcly_shard::{RecordConfig, RecordFormat};
use serde::Deserialize;

use super::{ConfigError, FileApp, invalid};

/// Longest segment accepted: a file holds this much media and more.
const MAX_SEGMENT_SECS: u64 = 3_600;

/// `[record]`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRecord {
    dir: Option<PathBuf>,
    format: Option<String>,
    segment_secs: Option<u64>,
    all_apps: Option<bool>,
}

/// The recording settings of `[record]` and every `[apps.NAME] record`;
/// `None` when `[record] dir` is not set.
pub(super) fn apply(
    file: &FileRecord,
    apps: &BTreeMap<String, FileApp>,
) -> Result<Option<RecordConfig>, ConfigError> {
    let per_app: BTreeMap<String, bool> = apps
        .iter()
        .filter_map(|(app, a)| Some((app.clone(), a.record?)))
        .collect();
    let Some(dir) = &file.dir else {
        let set = [
            file.format.as_ref().map(|_| "record.format"),
            file.segment_secs.map(|_| "record.segment_secs"),
            file.all_apps.map(|_| "record.all_apps"),
        ];
        if let Some(key) = set.into_iter().flatten().next() {
            return Err(invalid(key, "needs record.dir, where recordings go"));
        }
        if let Some(app) = per_app.keys().find(|app| per_app[*app]) {
            return Err(invalid(
                format!("apps.{app}.record"),
                "needs record.dir, where recordings go",
            ));
        }
        return Ok(None);
    };
    if dir.as_os_str().is_empty() {
        return Err(invalid("record.dir", "must not be empty"));
    }
    let mut config = RecordConfig::new(dir.clone());
    config.format = match file.format.as_deref() {
        None | Some("fmp4") => RecordFormat::Fmp4,
        Some("flv") => RecordFormat::Flv,
        Some(other) => {
            return Err(invalid(
                "record.format",
                format!("'{other}' is not fmp4 or flv"),
            ));
        }
    };
    if let Some(secs) = file.segment_secs {
        if !(1..=MAX_SEGMENT_SECS).contains(&secs) {
            return Err(invalid(
                "record.segment_secs",
                format!("must be between 1 and {MAX_SEGMENT_SECS}"),
            ));
        }
        config.segment = Duration::from_secs(secs);
    }
    config.all_apps = file.all_apps.unwrap_or(false);
    config.apps = per_app;
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::super::FileConfig;
    use super::*;

    fn record(text: &str) -> Result<Option<RecordConfig>, String> {
        let file: FileConfig = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        apply(&file.record, &file.apps).map_err(|e| e.to_string())
    }

    #[test]
    fn off_without_a_dir() {
        assert_eq!(record("").unwrap(), None);
        assert_eq!(record("[apps.live]\nrecord = false\n").unwrap(), None);
    }

    #[test]
    fn apps_opt_in_unless_all_apps() {
        let config = record("[record]\ndir = \"/r\"\n[apps.live]\nrecord = true\n")
            .unwrap()
            .unwrap();
        assert_eq!(config.dir, PathBuf::from("/r"));
        assert_eq!(config.format, RecordFormat::Fmp4);
        assert_eq!(config.segment, RecordConfig::DEFAULT_SEGMENT);
        assert!(config.records("live"));
        assert!(!config.records("other"));

        let config = record(
            "[record]\ndir = \"/r\"\nformat = \"flv\"\nsegment_secs = 4\nall_apps = true\n\
             [apps.private]\nrecord = false\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.format, RecordFormat::Flv);
        assert_eq!(config.segment, Duration::from_secs(4));
        assert!(config.records("live"));
        assert!(!config.records("private"));
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = record("[record]\ndir = \"/r\"\nformat = \"mkv\"\n").unwrap_err();
        assert_eq!(e, "record.format: 'mkv' is not fmp4 or flv");
        let e = record("[record]\ndir = \"/r\"\nsegment_secs = 0\n").unwrap_err();
        assert_eq!(e, "record.segment_secs: must be between 1 and 3600");
        let e = record("[record]\nformat = \"flv\"\n").unwrap_err();
        assert_eq!(e, "record.format: needs record.dir, where recordings go");
        let e = record("[apps.live]\nrecord = true\n").unwrap_err();
        assert_eq!(e, "apps.live.record: needs record.dir, where recordings go");
        let e = record("[record]\ndir = \"\"\n").unwrap_err();
        assert_eq!(e, "record.dir: must not be empty");
        let e = record("[record]\ndirectory = \"/r\"\n").unwrap_err();
        assert!(e.starts_with("unknown field `directory`"), "{e}");
    }
}
