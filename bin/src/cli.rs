//! The command line: `arcly serve | topology | check-config`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::log::LogFormat;

/// arcly: a thread-per-core live-media origin.
#[derive(Debug, Parser)]
#[command(name = "arcly", version, about, long_about = None)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the origin (RTMP on 1935, HTTP on 8080, every core, by default).
    Serve(ServeArgs),
    /// Print the CPUs and NUMA nodes found and the placement the flags give.
    Topology(PlacementArgs),
    /// Check a TOML config file and print the settings it resolves to.
    CheckConfig {
        /// The config file.
        file: PathBuf,
    },
}

/// Flags of `arcly serve`; each overrides the same setting in `--config`.
#[derive(Clone, Debug, Args)]
pub(crate) struct ServeArgs {
    /// TOML config file (flags override it).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// RTMP listen address [default: 0.0.0.0:1935].
    #[arg(long, value_name = "ADDR")]
    pub(crate) rtmp_listen: Option<SocketAddr>,
    /// HTTP listen address [default: 0.0.0.0:8080].
    #[arg(long, value_name = "ADDR")]
    pub(crate) http_listen: Option<SocketAddr>,
    /// Publishers to APP must present ?token=TOKEN (repeatable; APP=TOKEN).
    #[arg(long, value_name = "APP=TOKEN")]
    pub(crate) publish_token: Vec<String>,
    /// Players of APP must present ?token=TOKEN (repeatable; APP=TOKEN).
    #[arg(long, value_name = "APP=TOKEN")]
    pub(crate) play_token: Vec<String>,
    /// How log lines are written to stderr [default: human].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) log_format: Option<LogFormat>,
    /// Log filter, e.g. `debug` or `warn,arcly_shard=info` (beats RUST_LOG)
    /// [default: RUST_LOG, else info].
    #[arg(long, value_name = "FILTER")]
    pub(crate) log_level: Option<String>,
    /// Where shards run.
    #[command(flatten)]
    pub(crate) placement: PlacementArgs,
}

/// Placement flags, shared by `serve` and `topology`.
#[derive(Clone, Debug, Args, Default)]
pub(crate) struct PlacementArgs {
    /// Number of shards (one pinned executor per CPU) [default: every usable CPU].
    #[arg(long, value_name = "N")]
    pub(crate) shards: Option<usize>,
    /// Only these CPUs, e.g. 0-3,8.
    #[arg(long, value_name = "LIST")]
    pub(crate) cpus: Option<String>,
    /// Only CPUs on this NUMA node.
    #[arg(long, value_name = "K")]
    pub(crate) numa_node: Option<usize>,
    /// At most N shards on each NUMA node.
    #[arg(long, value_name = "N")]
    pub(crate) shards_per_node: Option<usize>,
    /// Let --shards exceed the CPUs chosen: shards then share CPUs in turn
    /// (for tests and for measuring what sharding costs, not production).
    #[arg(long)]
    pub(crate) share_cpus: bool,
}
