//! `arcly serve`: run the origin until SIGINT or SIGTERM; SIGHUP re-reads
//! the config file and applies what can change while running (apps and
//! their limits, tokens, signing secrets, hooks, recording, the unpublish
//! grace).
//!
//! Log events go to stderr through `tracing` (see `install_log`); the
//! lines saying where everything runs go to stdout.

use std::io::IsTerminal;
use std::sync::Arc;

use arcly_engine::AppLimits;
use arcly_protocols::rtmp::ServerConfig;
use arcly_shard::placement::{Placement, ShardSpec, Topology};
use arcly_shard::{HttpConfig, RtmpConfig, Runtime, RuntimeConfig, preflight};

use super::Failure;
use crate::cli::ServeArgs;
use crate::config::Settings;
use crate::config::log::{LogFormat, LogSettings};

/// Resolves the settings, checks the machine, starts the shards and the
/// listeners, prints where everything runs, and waits for a signal.
pub(crate) fn run(args: &ServeArgs) -> Result<(), Failure> {
    let settings = Settings::resolve(args)?;
    install_log(&settings.log)?;
    let topology = Topology::detect().map_err(Failure::runtime)?;
    let placement = Placement::plan(&topology, &settings.placement).map_err(Failure::usage)?;

    let config = runtime_config(&settings, placement.shards.clone());
    preflight::check(placement.len(), config.io_memory as u64).map_err(Failure::runtime)?;

    let mut runtime = Runtime::start(config).map_err(Failure::runtime)?;
    let reload_args = args.clone();
    let shards = placement.shards.clone();
    runtime.on_reload(Box::new(move || {
        let settings = Settings::resolve(&reload_args).map_err(|e| e.to_string())?;
        Ok(runtime_config(&settings, shards.clone()))
    }));
    runtime
        .install_signal_handlers()
        .map_err(Failure::runtime)?;
    if let Some(record) = &settings.record {
        println!(
            "record: {} as {} (segments of {:?})",
            record.dir.display(),
            record.format.name(),
            record.segment
        );
    }
    let rtmp = RtmpConfig {
        session: ServerConfig {
            limits: settings.rtmp,
            ..ServerConfig::default()
        },
        max_connections_per_shard: settings.rtmp_max_connections_per_shard,
        write_batch: settings.write_batch.clone(),
        tcp_nodelay: settings.tcp_nodelay.clone(),
    };
    let rtmp = runtime
        .listen_rtmp(settings.rtmp_listen, rtmp)
        .map_err(|e| Failure::runtime(format!("rtmp_listen {}: {e}", settings.rtmp_listen)))?;
    let http = runtime
        .listen_http(
            settings.http_listen,
            HttpConfig {
                write_batch: settings.write_batch.clone(),
                tcp_nodelay: settings.tcp_nodelay.clone(),
                hls: settings.hls.clone(),
                admin_token: settings.admin_token.clone(),
            },
        )
        .map_err(|e| Failure::runtime(format!("http_listen {}: {e}", settings.http_listen)))?;

    println!(
        "arcly {} on {}",
        env!("CARGO_PKG_VERSION"),
        topology.describe()
    );
    println!("placement: {placement}");
    println!("rtmp: listening on {rtmp}");
    println!(
        "http: listening on {http} (HTTP-FLV /APP/STREAM.flv, HLS /APP/STREAM/index.m3u8 and ll.m3u8, operator API /healthz, /readyz, /metrics, /api/v1/...)"
    );
    runtime.join().map_err(Failure::runtime)?;
    println!("arcly: stopped");
    Ok(())
}

/// What the shards run with: placement from the start, the rest from the
/// settings (so a SIGHUP reload builds it again from the re-read file).
fn runtime_config(settings: &Settings, shards: Vec<ShardSpec>) -> RuntimeConfig {
    let mut config = RuntimeConfig::new(shards);
    config.limits = settings.apps.iter().fold(
        AppLimits::new(settings.stream_defaults.clone()),
        |limits, (app, l)| limits.with_app(app.clone(), l.clone()),
    );
    config.unpublish_grace = settings.unpublish_grace;
    config.authenticator = Arc::new(settings.auth.clone());
    config.hooks = settings.hooks.clone();
    config.record = settings.record.clone().map(Arc::new);
    config
}

/// Sends `tracing` events to stderr as `log` asks: readable lines (in
/// colour on a terminal only, so `grep peer=` works on a file) or one JSON
/// object per line with the fields at the top level.
fn install_log(log: &LogSettings) -> Result<(), Failure> {
    let filter = log.filter(std::env::var("RUST_LOG").ok().as_deref())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match log.format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .try_init(),
        LogFormat::Json => builder
            .with_ansi(false)
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| Failure::runtime(format!("cannot set up the log: {e}")))
}
