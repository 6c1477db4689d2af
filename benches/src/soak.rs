//! `arcly-bench soak`: a fixed load held for a long window, with a share of
//! slow players (reading below the stream's rate, which the server must
//! skip or let go of without holding back the others) and churn (players
//! leaving and replaced by new ones). Healthy players must see no gaps, and
//! the server's memory must not grow.

use std::time::Duration;

use crate::fanout;
use crate::report::write_json;
use crate::run::{Variant, measure};

/// Flags of `arcly-bench soak` (the window is --duration).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    run: fanout::Args,
    /// Share of the players that read slowly, 0 to 1.
    #[arg(long, default_value_t = 0.1)]
    slow_share: f64,
    /// Slow players read at this fraction of the stream's bitrate.
    #[arg(long, default_value_t = 0.5)]
    slow_rate: f64,
    /// Players leaving (each replaced by a new one) per second, on average.
    #[arg(long, default_value_t = 10.0)]
    churn_per_sec: f64,
}

/// Runs `soak` and prints the report.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.slow_share),
        "--slow-share must be between 0 and 1"
    );
    anyhow::ensure!(
        args.slow_rate > 0.0 && args.slow_rate < 1.0,
        "--slow-rate must be above 0 and below 1"
    );
    let players = args.run.load.players_or(Variant::fanout().default_players);
    let source = &args.run.source;
    let stream_bytes_per_sec = u64::from(source.bitrate_kbps + source.audio_kbps) * 125;
    let variant = Variant {
        scenario: "soak",
        slow_every: if args.slow_share > 0.0 {
            (1.0 / args.slow_share).round().max(1.0) as usize
        } else {
            0
        },
        slow_bytes_per_sec: (stream_bytes_per_sec as f64 * args.slow_rate) as u64,
        lifetime: (args.churn_per_sec > 0.0)
            .then(|| Duration::from_secs_f64(players as f64 / args.churn_per_sec)),
        ..Variant::fanout()
    };
    let report = measure(&args.run, &variant, None)?;
    report.print();
    if let Some(path) = &args.run.json {
        write_json(path, &report)?;
    }
    Ok(())
}
