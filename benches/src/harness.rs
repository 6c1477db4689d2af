//! The harness's own executors: pinned shards of the arcly runtime, so the
//! generator is thread-per-core like the server it loads.

use anyhow::Context;
use arcly_shard::placement::{Placement, PlacementRequest, Topology, parse_cpu_list};
use arcly_shard::{Runtime, RuntimeConfig};

use crate::procfs;

/// Where the harness runs.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct HarnessArgs {
    /// Executors (pinned shards) of the harness [default: one per CPU in
    /// --cpus, or every CPU].
    #[arg(long, value_name = "K")]
    pub(crate) shards: Option<usize>,
    /// Only these CPUs for the harness, e.g. 1 or 2-3.
    #[arg(long, value_name = "LIST")]
    pub(crate) cpus: Option<String>,
}

impl HarnessArgs {
    /// The placement these flags give on this machine.
    pub(crate) fn placement(&self) -> anyhow::Result<Placement> {
        let topology = Topology::detect()?;
        let request = PlacementRequest {
            shards: self.shards,
            cpus: self.cpus.as_deref().map(parse_cpu_list).transpose()?,
            ..PlacementRequest::default()
        };
        Ok(Placement::plan(&topology, &request)?)
    }
}

/// The running executors.
pub(crate) struct Harness {
    pub(crate) runtime: Runtime,
    pub(crate) placement: Placement,
}

impl Harness {
    /// Starts the executors after checking that `sockets` connections fit
    /// this process's open-files limit.
    pub(crate) fn start(args: &HarnessArgs, sockets: usize) -> anyhow::Result<Harness> {
        let limit = procfs::open_files_limit()?;
        // The runtime's own descriptors (rings, doorbells) and stdio.
        let needed = sockets as u64 + 64;
        anyhow::ensure!(
            needed <= limit,
            "{sockets} connections need {needed} open files but the limit is {limit}: \
             raise it (ulimit -n) or lower --players-per-process"
        );
        let placement = args.placement()?;
        let mut config = RuntimeConfig::new(placement.shards.clone());
        // Thousands of sockets per shard each keep a poll in flight.
        config.ring_depth = 1024;
        let runtime = Runtime::start(config).context("start the harness executors")?;
        Ok(Harness { runtime, placement })
    }

    /// The CPUs the harness runs on.
    pub(crate) fn cpus(&self) -> Vec<usize> {
        cpus_of(&self.placement)
    }

    /// One line: shards and their CPUs.
    pub(crate) fn describe(&self) -> String {
        describe(&self.placement)
    }
}

/// The distinct CPUs of a placement.
pub(crate) fn cpus_of(placement: &Placement) -> Vec<usize> {
    let mut cpus: Vec<usize> = placement.shards.iter().map(|s| s.cpu).collect();
    cpus.sort_unstable();
    cpus.dedup();
    cpus
}

/// One line: shards and their CPUs.
pub(crate) fn describe(placement: &Placement) -> String {
    let shards = placement.shards.len();
    let cpus: Vec<String> = placement
        .shards
        .iter()
        .map(|s| format!("{}@cpu{}", s.id, s.cpu))
        .collect();
    format!("{shards} shard(s): {}", cpus.join(" "))
}
