//! `arcly-bench ingest`: M publishers at once, each stream with its share
//! of the players (none by default): how much a server core ingests.

use crate::fanout;
use crate::report::write_json;
use crate::run::{Variant, measure};

/// Flags of `arcly-bench ingest`; `--target rtmp://HOST/APP/NAME`
/// publishes NAME-0 ... NAME-(M-1), and `--players` (default 0) spreads
/// players evenly over them.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    run: fanout::Args,
    /// Publishers, one stream each (started at --ramp-per-sec).
    #[arg(long, default_value_t = 100)]
    publishers: usize,
}

/// Runs `ingest` and prints the report.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.publishers > 0, "--publishers must be at least 1");
    let variant = Variant {
        scenario: "ingest",
        streams: args.publishers,
        default_players: 0,
        ..Variant::fanout()
    };
    let report = measure(&args.run, &variant, None)?;
    report.print();
    if let Some(path) = &args.run.json {
        write_json(path, &report)?;
    }
    Ok(())
}
