//! `arcly-bench fanout`: one publisher, N players of its stream, and what
//! they see and what the server pays for them (the run itself is
//! [`crate::run`]).

use std::path::PathBuf;

use crate::harness::HarnessArgs;
use crate::report::write_json;
use crate::run::{Variant, measure};
use crate::source::SourceArgs;
use crate::target::{HttpUrl, Target};

/// Flags of `arcly-bench fanout`.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream, `rtmp://HOST[:PORT]/APP/STREAM`; the harness publishes it.
    #[arg(long)]
    pub(crate) target: Target,
    /// The same stream as HTTP-FLV, `http://HOST[:PORT]/APP/STREAM.flv`,
    /// for --http-players.
    #[arg(long, value_name = "URL")]
    pub(crate) http: Option<HttpUrl>,
    /// HTTP-FLV players of --http, alongside the --players RTMP players
    /// (--players 0 for HTTP-FLV players only); reported apart.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) http_players: usize,
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) harness: HarnessArgs,
    /// The server's process ids (comma-separated: an nginx worker, the arcly
    /// process) for CPU per viewer-second and RSS per viewer.
    #[arg(long, value_delimiter = ',', value_name = "PID")]
    pub(crate) server_pid: Vec<u32>,
    /// The server's CPUs, to report how busy they were (softirqs included).
    #[arg(long, value_name = "LIST")]
    pub(crate) server_cpus: Option<String>,
    /// The server's HTTP root, `http://HOST[:PORT]`: arcly's status API
    /// (`/api/v1/shards`) gives its shard count and each shard's streams,
    /// viewers and frames out; other servers' are reported unknown.
    #[arg(long, value_name = "URL")]
    pub(crate) server_http: Option<HttpUrl>,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
}

/// How many players, how fast, for how long.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct LoadArgs {
    /// RTMP players, spread evenly over the streams [default: 1000;
    /// ingest: 0].
    #[arg(long)]
    pub(crate) players: Option<usize>,
    /// Seconds of the steady window (after every player joined).
    #[arg(long, default_value_t = 30)]
    pub(crate) duration: u64,
    /// Players started per second (0: all at once; a full listen backlog
    /// makes the kernel retry connects after 1 s, which shows as join time).
    #[arg(long, default_value_t = 1000.0)]
    pub(crate) ramp_per_sec: f64,
    /// Players one process holds at most; more are spread over worker
    /// processes, each connecting from its own 127.0.0.x address.
    #[arg(long, default_value_t = 8000)]
    pub(crate) players_per_process: usize,
    /// Seconds a player may take from connect to its first keyframe.
    #[arg(long, default_value_t = 15)]
    pub(crate) join_timeout_secs: u64,
    /// Seconds between the last join and the steady window.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) settle_secs: f64,
    /// After its first GOP, a player that is not a probe reads at most
    /// every MS ms, taking all that arrived in one read (0: every player
    /// reads as soon as bytes arrive, and every player records latency).
    /// Each frame reaches every player at once: if all read at once, one
    /// harness core receives the whole burst (about 15 µs per player), and
    /// the last players measure the harness's delay, not the server's; the
    /// server also pays for waking every reader on every frame, which a
    /// remote player never costs it.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub(crate) read_every_ms: u64,
    /// With --read-every-ms: players that read as soon as bytes arrive and
    /// record latency, spread evenly over the audience.
    #[arg(long, default_value_t = 100)]
    pub(crate) probes: usize,
}

impl LoadArgs {
    /// Players in all, or `default`.
    pub(crate) fn players_or(&self, default: usize) -> usize {
        self.players.unwrap_or(default)
    }

    /// One player in `players` in this many is a probe.
    pub(crate) fn probe_every(&self, players: usize) -> usize {
        (players / self.probes.max(1)).max(1)
    }
}

/// Runs `fanout` and prints the report.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let report = measure(args, &Variant::fanout(), None)?;
    report.print();
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(())
}
