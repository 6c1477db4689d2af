//! Settings: built-in defaults, then the TOML file, then flags.
//!
//! Every problem becomes one [`ConfigError`] line that names the setting, so
//! an operator never has to read a stack of parser output.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arcly_engine::{StreamLimits, Timestamp, TokenAuthenticator};
use arcly_media::hls::HlsSettings;
use arcly_protocols::rtmp::RtmpLimits;
use arcly_shard::placement::{PlacementRequest, parse_cpu_list};
use arcly_shard::{DEFAULT_MAX_CONNECTIONS_PER_SHARD, TcpNoDelay, WriteBatching};
use serde::Deserialize;

use crate::cli::{PlacementArgs, ServeArgs};

mod auth;
mod egress;
pub(crate) mod log;
mod record;

/// Default RTMP address.
pub(crate) const DEFAULT_RTMP: &str = "0.0.0.0:1935";
/// Default HTTP address.
pub(crate) const DEFAULT_HTTP: &str = "0.0.0.0:8080";

/// A setting that could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error("config {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file is not valid TOML, or has an unknown or mistyped key.
    #[error("config {path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said, on one line.
        message: String,
    },
    /// A value parsed but is out of range.
    #[error("{setting}: {why}")]
    Invalid {
        /// The setting, as written in the file or on the command line.
        setting: String,
        /// What is wrong with it.
        why: String,
    },
}

/// Everything `arcly serve` runs with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    /// RTMP listen address.
    pub(crate) rtmp_listen: SocketAddr,
    /// HTTP listen address.
    pub(crate) http_listen: SocketAddr,
    /// Where shards run.
    pub(crate) placement: PlacementRequest,
    /// Stream limits for apps without their own section.
    pub(crate) stream_defaults: StreamLimits,
    /// Stream limits per app.
    pub(crate) apps: BTreeMap<String, StreamLimits>,
    /// How long a stream whose publisher left waits for it to come back.
    pub(crate) unpublish_grace: Duration,
    /// Per-connection RTMP bounds.
    pub(crate) rtmp: RtmpLimits,
    /// RTMP connections one shard serves at once.
    pub(crate) rtmp_max_connections_per_shard: usize,
    /// Publish and play tokens and signing secrets per app.
    pub(crate) auth: TokenAuthenticator,
    /// HTTP callback hooks, per app.
    pub(crate) hooks: arcly_shard::HookConfig,
    /// Media merged per player write, per app.
    pub(crate) write_batch: WriteBatching,
    /// Whether viewers keep `TCP_NODELAY` after their join, per app.
    pub(crate) tcp_nodelay: TcpNoDelay,
    /// How streams are cut for HLS and LL-HLS.
    pub(crate) hls: HlsSettings,
    /// What is recorded to disk, if anything (`[record]`).
    pub(crate) record: Option<arcly_shard::RecordConfig>,
    /// The token `/metrics` and `/api/*` want, if any.
    pub(crate) admin_token: Option<String>,
    /// How the log is written (`[log]`, `--log-format`, `--log-level`).
    pub(crate) log: log::LogSettings,
}

/// The TOML file, as written: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    rtmp_listen: Option<String>,
    http_listen: Option<String>,
    admin_token: Option<String>,
    #[serde(default)]
    placement: FilePlacement,
    #[serde(default)]
    streams: FileStreams,
    #[serde(default)]
    rtmp: FileRtmp,
    #[serde(default)]
    hls: FileHls,
    #[serde(default)]
    hooks: auth::FileHooks,
    #[serde(default)]
    record: record::FileRecord,
    #[serde(default)]
    log: log::FileLog,
    #[serde(default)]
    apps: BTreeMap<String, FileApp>,
}

/// `[hls]`: segment and part durations, window, LL-HLS options.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHls {
    target_duration_ms: Option<u64>,
    part_ms: Option<u64>,
    window: Option<usize>,
    delta_updates: Option<bool>,
    program_date_time: Option<bool>,
}

impl FileHls {
    fn apply(&self) -> Result<HlsSettings, ConfigError> {
        let mut hls = HlsSettings::default();
        let ms = |v: u64| Timestamp(v.min(i64::MAX as u64 / 1000) as i64 * 1000);
        if let Some(v) = self.target_duration_ms {
            hls.target_duration = ms(v);
        }
        if let Some(v) = self.part_ms {
            hls.part_target = ms(v);
        }
        if let Some(v) = self.window {
            hls.window = v;
        }
        if let Some(v) = self.delta_updates {
            hls.delta_updates = v;
        }
        if let Some(v) = self.program_date_time {
            hls.program_date_time = v;
        }
        hls.validate().map_err(|e| invalid("hls", e.to_string()))?;
        Ok(hls)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRtmp {
    handshake_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    max_message_bytes: Option<u32>,
    max_chunk_size: Option<u32>,
    max_streams_per_connection: Option<usize>,
    max_connections_per_shard: Option<usize>,
}

impl FileRtmp {
    fn apply(&self) -> Result<RtmpLimits, ConfigError> {
        let mut limits = RtmpLimits::default();
        let positive = |name: &str, v: u64| -> Result<u64, ConfigError> {
            if v == 0 {
                Err(invalid(format!("rtmp.{name}"), "must be at least 1"))
            } else {
                Ok(v)
            }
        };
        if let Some(v) = self.handshake_timeout_secs {
            limits.handshake_timeout = Duration::from_secs(positive("handshake_timeout_secs", v)?);
        }
        if let Some(v) = self.idle_timeout_secs {
            limits.idle_timeout = Duration::from_secs(positive("idle_timeout_secs", v)?);
        }
        if let Some(v) = self.max_message_bytes {
            let v = positive("max_message_bytes", u64::from(v))? as u32;
            limits.max_message_len = v;
            limits.max_reassembly_bytes = 2 * v as usize;
        }
        if let Some(v) = self.max_chunk_size {
            if !(128..=0x7fff_ffff).contains(&v) {
                return Err(invalid(
                    "rtmp.max_chunk_size",
                    "must be between 128 and 2147483647",
                ));
            }
            limits.max_chunk_size = v;
        }
        if let Some(v) = self.max_streams_per_connection {
            limits.max_streams = positive("max_streams_per_connection", v as u64)? as usize;
        }
        Ok(limits)
    }
}

/// An `[apps.NAME]` section: stream limits and tokens.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApp {
    #[serde(flatten)]
    streams: FileStreams,
    #[serde(default)]
    publish_tokens: Vec<String>,
    #[serde(default)]
    play_tokens: Vec<String>,
    #[serde(flatten)]
    auth: auth::FileAppAuth,
    record: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlacement {
    shards: Option<usize>,
    cpus: Option<String>,
    numa_node: Option<usize>,
    shards_per_node: Option<usize>,
}

/// Stream limits; in `[streams]` they also take `unpublish_grace_secs`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStreams {
    gop_cache_frames: Option<usize>,
    gop_cache_bytes: Option<usize>,
    ring_frames: Option<usize>,
    ring_bytes: Option<usize>,
    viewer_queue_bytes: Option<usize>,
    max_skips: Option<u32>,
    unpublish_grace_secs: Option<u64>,
    write_batch_ms: Option<u64>,
    tcp_nodelay: Option<bool>,
}

impl FileStreams {
    fn apply(&self, section: &str, base: &StreamLimits) -> Result<StreamLimits, ConfigError> {
        let mut limits = base.clone();
        let at_least_one = |name: &str, v: usize| -> Result<usize, ConfigError> {
            if v == 0 {
                Err(invalid(format!("{section}.{name}"), "must be at least 1"))
            } else {
                Ok(v)
            }
        };
        if let Some(v) = self.gop_cache_frames {
            limits.gop_cache_frames = v;
        }
        if let Some(v) = self.gop_cache_bytes {
            limits.gop_cache_bytes = v;
        }
        if let Some(v) = self.ring_frames {
            limits.ring_frames = at_least_one("ring_frames", v)?;
        }
        if let Some(v) = self.ring_bytes {
            limits.ring_bytes = at_least_one("ring_bytes", v)?;
        }
        if let Some(v) = self.viewer_queue_bytes {
            limits.viewer_queue_bytes = at_least_one("viewer_queue_bytes", v)?;
        }
        if let Some(v) = self.max_skips {
            limits.max_skips = v;
        }
        if section != "streams" && self.unpublish_grace_secs.is_some() {
            return Err(invalid(
                format!("{section}.unpublish_grace_secs"),
                "is a server-wide setting: put it in [streams]",
            ));
        }
        Ok(limits)
    }
}

fn invalid(setting: impl Into<String>, why: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.into(),
        why: why.into(),
    }
}

fn parse_addr(setting: &str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| {
        invalid(
            setting,
            format!("'{text}' is not an address like 0.0.0.0:1935"),
        )
    })
}

fn parse_cpus(setting: &str, text: &str) -> Result<Vec<usize>, ConfigError> {
    parse_cpu_list(text).map_err(|e| invalid(setting, e.to_string()))
}

impl Settings {
    /// Built-in defaults, then `args.config`, then the flags in `args`.
    pub(crate) fn resolve(args: &ServeArgs) -> Result<Settings, ConfigError> {
        let mut settings = match &args.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::from_file_config(FileConfig::default())?,
        };
        if let Some(addr) = args.rtmp_listen {
            settings.rtmp_listen = addr;
        }
        if let Some(addr) = args.http_listen {
            settings.http_listen = addr;
        }
        apply_placement_flags(&mut settings.placement, &args.placement)?;
        settings
            .log
            .apply_flags(args.log_format, args.log_level.as_deref())?;
        for pair in &args.publish_token {
            let (app, token) = split_app_token("--publish-token", pair)?;
            settings.auth = settings.auth.with_publish_token(app, token);
        }
        for pair in &args.play_token {
            let (app, token) = split_app_token("--play-token", pair)?;
            settings.auth = settings.auth.with_play_token(app, token);
        }
        Ok(settings)
    }

    /// Defaults overlaid with one TOML file.
    pub(crate) fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        let file: FileConfig = toml::from_str(&text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_and_column(&text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: e.message().replace('\n', " "),
            }
        })?;
        Settings::from_file_config(file)
    }

    fn from_file_config(file: FileConfig) -> Result<Settings, ConfigError> {
        let rtmp = file.rtmp_listen.as_deref().unwrap_or(DEFAULT_RTMP);
        let http = file.http_listen.as_deref().unwrap_or(DEFAULT_HTTP);
        let placement = PlacementRequest {
            shards: file.placement.shards,
            cpus: file
                .placement
                .cpus
                .as_deref()
                .map(|c| parse_cpus("placement.cpus", c))
                .transpose()?,
            numa_node: file.placement.numa_node,
            shards_per_node: file.placement.shards_per_node,
            share_cpus: false,
        };
        let stream_defaults = file.streams.apply("streams", &StreamLimits::default())?;
        let apps = file
            .apps
            .iter()
            .map(|(app, a)| {
                Ok((
                    app.clone(),
                    a.streams.apply(&format!("apps.{app}"), &stream_defaults)?,
                ))
            })
            .collect::<Result<_, ConfigError>>()?;
        let mut auth = TokenAuthenticator::new();
        for (app, a) in &file.apps {
            for token in &a.publish_tokens {
                auth = auth.with_publish_token(
                    app,
                    check_token(&format!("apps.{app}.publish_tokens"), token)?,
                );
            }
            for token in &a.play_tokens {
                auth = auth
                    .with_play_token(app, check_token(&format!("apps.{app}.play_tokens"), token)?);
            }
        }
        let (hooks, auth) = auth::apply(&file.hooks, &file.apps, auth)?;
        let (write_batch, tcp_nodelay) = egress::apply(&file.streams, &file.apps)?;
        let rtmp_max_connections_per_shard = match file.rtmp.max_connections_per_shard {
            Some(0) => {
                return Err(invalid(
                    "rtmp.max_connections_per_shard",
                    "must be at least 1",
                ));
            }
            Some(n) => n,
            None => DEFAULT_MAX_CONNECTIONS_PER_SHARD,
        };
        Ok(Settings {
            rtmp_listen: parse_addr("rtmp_listen", rtmp)?,
            http_listen: parse_addr("http_listen", http)?,
            placement,
            stream_defaults,
            apps,
            unpublish_grace: Duration::from_secs(file.streams.unpublish_grace_secs.unwrap_or(5)),
            rtmp: file.rtmp.apply()?,
            rtmp_max_connections_per_shard,
            auth,
            hooks,
            write_batch,
            tcp_nodelay,
            hls: file.hls.apply()?,
            record: record::apply(&file.record, &file.apps)?,
            admin_token: file
                .admin_token
                .as_deref()
                .map(|token| check_token("admin_token", token).map(str::to_owned))
                .transpose()?,
            log: file.log.apply()?,
        })
    }
}

/// Overrides `request` with whichever placement flags were given.
pub(crate) fn apply_placement_flags(
    request: &mut PlacementRequest,
    args: &PlacementArgs,
) -> Result<(), ConfigError> {
    if let Some(n) = args.shards {
        request.shards = Some(n);
    }
    if let Some(cpus) = &args.cpus {
        request.cpus = Some(parse_cpus("--cpus", cpus)?);
    }
    if let Some(k) = args.numa_node {
        request.numa_node = Some(k);
    }
    if let Some(n) = args.shards_per_node {
        request.shards_per_node = Some(n);
    }
    request.share_cpus |= args.share_cpus;
    Ok(())
}

/// A token must be usable in a URL query as written: no spaces, `&`, `#`
/// or control characters, and not empty.
fn check_token<'t>(setting: &str, token: &'t str) -> Result<&'t str, ConfigError> {
    let bad = token.is_empty()
        || token
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '&' | '#' | '?'));
    if bad {
        Err(invalid(
            setting,
            format!("'{token}' is not a usable token (no spaces, &, #, ?)"),
        ))
    } else {
        Ok(token)
    }
}

/// Splits `APP=TOKEN` from a flag.
fn split_app_token<'p>(flag: &str, pair: &'p str) -> Result<(&'p str, &'p str), ConfigError> {
    match pair.split_once('=') {
        Some((app, token)) if !app.is_empty() => Ok((app, check_token(flag, token)?)),
        _ => Err(invalid(flag, format!("'{pair}' is not APP=TOKEN"))),
    }
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        let dir = std::env::temp_dir().join(format!("arcly-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{:x}.toml",
            text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
        ));
        std::fs::write(&path, text).unwrap();
        let result = Settings::from_file(&path);
        let _ = std::fs::remove_file(&path);
        result.map_err(|e| match e {
            ConfigError::Parse {
                line,
                column,
                message,
                ..
            } => ConfigError::Parse {
                path: PathBuf::from("f.toml"),
                line,
                column,
                message,
            },
            other => other,
        })
    }

    #[test]
    fn empty_file_gives_defaults() {
        let s = parse("").unwrap();
        assert_eq!(s.rtmp_listen, DEFAULT_RTMP.parse().unwrap());
        assert_eq!(s.http_listen, DEFAULT_HTTP.parse().unwrap());
        assert_eq!(s.stream_defaults, StreamLimits::default());
        assert_eq!(s.placement, PlacementRequest::default());
    }

    #[test]
    fn apps_inherit_stream_defaults_and_override() {
        let s = parse(
            "rtmp_listen = \"127.0.0.1:1936\"\n[placement]\ncpus = \"0-1\"\n[streams]\nring_frames = 300\n[apps.lowlatency]\ngop_cache_frames = 0\n",
        )
        .unwrap();
        assert_eq!(s.rtmp_listen.port(), 1936);
        assert_eq!(s.placement.cpus, Some(vec![0, 1]));
        let app = &s.apps["lowlatency"];
        assert_eq!(app.gop_cache_frames, 0);
        assert_eq!(app.ring_frames, 300);
    }

    #[test]
    fn errors_are_one_line_naming_the_setting() {
        let e = parse("[streams]\nring_frames = 0\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "streams.ring_frames: must be at least 1");
        let e = parse("http_listen = \"nope\"\n").unwrap_err().to_string();
        assert_eq!(e, "http_listen: 'nope' is not an address like 0.0.0.0:1935");
        let e = parse("[placement]\ncpus = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "placement.cpus: bad cpu list 'x' (expected e.g. 0-3,8)");
        let e = parse("\n\nbogus = 1\n").unwrap_err().to_string();
        assert!(
            e.starts_with("config f.toml:3:1: unknown field `bogus`"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        let e = parse("[apps.x]\nunpublish_grace_secs = 3\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "apps.x.unpublish_grace_secs: is a server-wide setting: put it in [streams]"
        );
        let e = parse("[apps.x]\nwrite_batch_ms = 10001\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "apps.x.write_batch_ms: must be at most 10000");
    }

    #[test]
    fn write_batching_and_nodelay_are_per_app() {
        let s = parse(
            "[streams]\nwrite_batch_ms = 350\n[apps.fast]\nwrite_batch_ms = 0\ntcp_nodelay = true\n[apps.other]\nring_frames = 10\n",
        )
        .unwrap();
        assert_eq!(s.write_batch.for_app("fast"), Duration::ZERO);
        assert_eq!(s.write_batch.for_app("other"), Duration::from_millis(350));
        assert!(s.tcp_nodelay.for_app("fast"));
        assert!(
            !s.tcp_nodelay.for_app("other"),
            "Nagle after the join by default"
        );
    }
}
