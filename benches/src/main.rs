//! `arcly-bench`: measures arcly from the outside.
//!
//! Today it measures the two costs every frame pays inside the server — the
//! cross-core mailbox and the local fan-out — on this machine, from the
//! command line, so operators can compare boxes without a build of the
//! criterion suite. The network load scenarios (RTMP fan-out, ingest, join,
//! soak) come with the RTMP client.

mod fanout;
mod mailbox;

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
    /// ns per message between two pinned shards, per batch size.
    Mailbox(mailbox::Args),
    /// ns per viewer per frame of the local fan-out, per viewer count.
    Fanout(fanout::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Mailbox(args) => mailbox::run(&args),
        Command::Fanout(args) => fanout::run(&args),
    }
}
