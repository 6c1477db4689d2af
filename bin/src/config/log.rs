//! `[log]`: how `arcly serve` writes its log to stderr.
//!
//! ```toml
//! [log]
//! format = "json"   # or "human" (the default)
//! level = "info"    # tracing filter directives, e.g. "warn,arcly_shard=debug"
//! ```
//!
//! `--log-format` beats `format`; the level comes from `--log-level`, then
//! `RUST_LOG`, then `level`, then `info`. Neither changes on a reload: the
//! log is set up once, before the shards start.

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

use super::{ConfigError, invalid};

/// The level when nothing says otherwise.
const DEFAULT_LEVEL: &str = "info";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One readable line per event: time, level, message, `name=value`
    /// fields.
    #[default]
    Human,
    /// One JSON object per line, every field at the top level.
    Json,
}

/// The log settings of the file and the flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogSettings {
    /// How lines are written.
    pub(crate) format: LogFormat,
    /// Filter directives from `--log-level`, which beat `RUST_LOG`.
    flag_level: Option<String>,
    /// Filter directives from `[log] level`, which `RUST_LOG` beats.
    file_level: Option<String>,
}

impl LogSettings {
    /// Applies `--log-format` and `--log-level`, if given.
    pub(crate) fn apply_flags(
        &mut self,
        format: Option<LogFormat>,
        level: Option<&str>,
    ) -> Result<(), ConfigError> {
        if let Some(format) = format {
            self.format = format;
        }
        if let Some(level) = level {
            parse_filter("--log-level", level)?;
            self.flag_level = Some(level.to_owned());
        }
        Ok(())
    }

    /// The filter in force when `RUST_LOG` is `rust_log`: `--log-level`,
    /// then `RUST_LOG`, then `[log] level`, then `info`.
    pub(crate) fn filter(&self, rust_log: Option<&str>) -> Result<EnvFilter, ConfigError> {
        let rust_log = rust_log.filter(|v| !v.trim().is_empty());
        match (&self.flag_level, rust_log, &self.file_level) {
            (Some(flag), _, _) => parse_filter("--log-level", flag),
            (None, Some(env), _) => parse_filter("RUST_LOG", env),
            (None, None, Some(file)) => parse_filter("log.level", file),
            (None, None, None) => parse_filter("log.level", DEFAULT_LEVEL),
        }
    }
}

/// `[log]`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLog {
    format: Option<String>,
    level: Option<String>,
}

impl FileLog {
    /// The settings `[log]` asks for, checked.
    pub(super) fn apply(&self) -> Result<LogSettings, ConfigError> {
        let format = match self.format.as_deref() {
            None | Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "log.format",
                    format!("'{other}' is not \"human\" or \"json\""),
                ));
            }
        };
        if let Some(level) = &self.level {
            parse_filter("log.level", level)?;
        }
        Ok(LogSettings {
            format,
            flag_level: None,
            file_level: self.level.clone(),
        })
    }
}

fn parse_filter(setting: &str, directives: &str) -> Result<EnvFilter, ConfigError> {
    EnvFilter::builder()
        .parse(directives)
        .map_err(|e| invalid(setting, format!("'{directives}' is not a log filter: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(format: Option<&str>, level: Option<&str>) -> FileLog {
        FileLog {
            format: format.map(str::to_owned),
            level: level.map(str::to_owned),
        }
    }

    #[test]
    fn human_at_info_by_default() {
        let log = file(None, None).apply().unwrap();
        assert_eq!(log.format, LogFormat::Human);
        assert_eq!(log.filter(None).unwrap().to_string(), "info");
    }

    #[test]
    fn flag_beats_rust_log_beats_file() {
        let mut log = file(Some("json"), Some("warn")).apply().unwrap();
        assert_eq!(log.format, LogFormat::Json);
        assert_eq!(log.filter(None).unwrap().to_string(), "warn");
        assert_eq!(log.filter(Some("debug")).unwrap().to_string(), "debug");
        log.apply_flags(Some(LogFormat::Human), Some("error"))
            .unwrap();
        assert_eq!(log.format, LogFormat::Human);
        assert_eq!(log.filter(Some("debug")).unwrap().to_string(), "error");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = file(Some("xml"), None).apply().unwrap_err().to_string();
        assert_eq!(e, "log.format: 'xml' is not \"human\" or \"json\"");
        let e = file(None, Some("arcly_shard=loud"))
            .apply()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("log.level: 'arcly_shard=loud' is not a log filter: "),
            "{e}"
        );
        let e = LogSettings::default()
            .apply_flags(None, Some("[["))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--log-level: "), "{e}");
        let e = LogSettings::default()
            .filter(Some("=x"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RUST_LOG: "), "{e}");
    }
}
