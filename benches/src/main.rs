//! `arcly-bench`: measures arcly (or any RTMP server) from the outside.
//!
//! Load scenarios publish over RTMP and play over RTMP or HTTP-FLV, as
//! clients on the harness's own pinned executors (the arcly runtime, so the
//! generator is thread-per-core like the server): `fanout` (one publisher,
//! N players), `join` (players joining at a rate), `compare` (the same
//! fan-out against arcly and nginx-rtmp, alternating), `shards` (arcly with
//! one shard and with two), `ingest` (many publishers) and `soak` (slow
//! players and churn over a long window). The synthetic source stamps every
//! frame with its send time and a sequence number, so players measure
//! delivery latency and gaps; the server's CPU and memory come from
//! `/proc`, and arcly's shards from its status API.
//!
//! `hls` publishes the same way and plays the stream as HLS: LL-HLS
//! clients measure how soon each part is served after its last frame was
//! sent, segment clients how many segment requests a server core answers.
//!
//! `mailbox` and `local-fanout` measure two in-process costs every frame
//! pays inside the server: the cross-core mailbox and the local fan-out.
//!
//! `floor` measures no server at all: what the kernel alone charges a
//! sender for the same media over loopback TCP (one pinned thread writing
//! a frame, or a batch window, to N connections), the lower bound on any
//! server's CPU per viewer-second at that write batching.
#![forbid(unsafe_code)]

mod audience;
mod client;
mod clock;
mod compare;
mod fanout;
mod floor;
mod harness;
mod hls;
mod http_flv;
mod ingest;
mod join;
mod local_fanout;
mod mailbox;
mod peer;
mod player;
mod procfs;
mod publisher;
mod report;
mod run;
mod sampler;
mod shards;
mod soak;
mod source;
mod status_api;
mod swarm;
mod tally;
mod target;
mod watch;
mod worker;

use clap::{Parser, Subcommand};

/// Load and cost measurements for arcly.
#[derive(Debug, Parser)]
#[command(name = "arcly-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One publisher and N RTMP players (and M HTTP-FLV players with
    /// --http): join time, delivery latency, gaps, (with --server-pid) the
    /// server's CPU and RSS per viewer, and (with --server-http) its shards.
    Fanout(fanout::Args),
    /// Players joining a live stream at a rate: connect → first keyframe
    /// and → complete first GOP; every join must be served.
    Join(join::Args),
    /// The same fan-out against arcly and nginx-rtmp, alternating, with
    /// the ratios.
    Compare(compare::Args),
    /// The same fan-out against arcly with one shard and with two: CPU per
    /// viewer-second of each, and their ratio (needs 3 CPUs).
    Shards(shards::Args),
    /// M publishers at once, with players spread over their streams: how
    /// much a server core ingests.
    Ingest(ingest::Args),
    /// A fixed load for a long window, with slow players and churn: no gaps
    /// for healthy players, no memory growth.
    Soak(soak::Args),
    /// HLS: LL-HLS clients on blocking reloads (last frame sent → part
    /// listed, p50/p99) and segment clients back to back (segment requests
    /// per second, and per server core with --server-pid).
    Hls(hls::Args),
    /// ns per message between two pinned shards, per batch size.
    Mailbox(mailbox::Args),
    /// ns per viewer per frame of the engine's in-process fan-out.
    LocalFanout(local_fanout::Args),
    /// No server: the kernel's own CPU per viewer-second for one write
    /// per frame (or per --batch-ms window) per viewer over loopback TCP.
    Floor(floor::Args),
    /// A share of the players of a run, in a child process.
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Fanout(args) => fanout::run(&args),
        Command::Join(args) => join::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Shards(args) => shards::run(&args),
        Command::Ingest(args) => ingest::run(&args),
        Command::Soak(args) => soak::run(&args),
        Command::Hls(args) => hls::run(&args),
        Command::Mailbox(args) => mailbox::run(&args),
        Command::LocalFanout(args) => local_fanout::run(&args),
        Command::Floor(args) => floor::run(&args),
        Command::Worker(args) => worker::run(&args),
    }
}
