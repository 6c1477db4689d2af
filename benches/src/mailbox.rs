//! `arcly-bench mailbox`: the cost of one message between two shards.

use anyhow::Context;
use arcly_shard::placement::{Placement, PlacementRequest, Topology};
use arcly_shard::{Runtime, RuntimeConfig};

/// Flags of `arcly-bench mailbox`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Messages per measurement.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Batch sizes to measure (one queue push and at most one wake per batch).
    #[arg(long, value_delimiter = ',', default_value = "1,8,64,256")]
    batch: Vec<usize>,
    /// Measurements per batch size; the best is reported.
    #[arg(long, default_value_t = 5)]
    rounds: u32,
}

/// Starts two shards on two CPUs and prints ns per message for each batch.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let topology = Topology::detect()?;
    let request = PlacementRequest {
        shards: Some(2),
        ..Default::default()
    };
    let config = match Placement::plan(&topology, &request) {
        Ok(placement) => RuntimeConfig::new(placement.shards),
        Err(e) => {
            eprintln!("note: {e}; both shards share a CPU, so this measures no cross-core wake");
            RuntimeConfig::local(2)
        }
    };
    let cpus: Vec<usize> = config.shards.iter().map(|s| s.cpu).collect();
    let runtime = Runtime::start(config).context("start two shards")?;
    println!(
        "mailbox: shard 0 (cpu {}) -> shard 1 (cpu {}), {} messages",
        cpus[0], cpus[1], args.messages
    );
    println!("{:>6}  {:>12}", "batch", "ns/message");
    for &batch in &args.batch {
        let best = (0..args.rounds.max(1))
            .map(|_| runtime.bench_mailbox(0, 1, args.messages, batch))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .min()
            .unwrap_or_default();
        println!(
            "{batch:>6}  {:>12.1}",
            best.as_nanos() as f64 / args.messages as f64
        );
    }
    runtime.shutdown();
    runtime.join()?;
    Ok(())
}
