//! The players of a run, in this process or in worker processes, behind
//! one interface.

use std::time::Instant;

use arcly_shard::Runtime;

use crate::harness::HarnessArgs;
use crate::player::{Counts, PlayerPlan};
use crate::swarm::Swarm;
use crate::tally::Tallies;
use crate::worker::WorkerSet;

/// Players of a run.
pub(crate) enum Audience {
    /// On this process's harness executors.
    Local(Swarm),
    /// In worker processes.
    Workers(WorkerSet),
}

impl Audience {
    /// Starts the plan's players: here if they fit `per_process`, else in
    /// workers.
    pub(crate) fn start(
        runtime: &Runtime,
        harness: &HarnessArgs,
        plan: PlayerPlan,
        per_process: usize,
        ramp_per_sec: f64,
    ) -> anyhow::Result<Audience> {
        if plan.mix.total() <= per_process {
            let swarm = Swarm::start(runtime, plan, ramp_per_sec, Instant::now());
            Ok(Audience::Local(swarm))
        } else {
            let workers = WorkerSet::spawn(&plan, per_process, ramp_per_sec, harness)?;
            Ok(Audience::Workers(workers))
        }
    }

    /// Processes that host players.
    pub(crate) fn processes(&self) -> usize {
        match self {
            Audience::Local(_) => 1,
            Audience::Workers(workers) => workers.pids().len(),
        }
    }

    /// Worker process ids (none for local players).
    pub(crate) fn pids(&self) -> Vec<u32> {
        match self {
            Audience::Local(_) => Vec::new(),
            Audience::Workers(workers) => workers.pids(),
        }
    }

    /// The live counts; an error if a worker failed.
    pub(crate) fn counts(&self) -> anyhow::Result<Counts> {
        match self {
            Audience::Local(swarm) => Ok(swarm.progress().counts()),
            Audience::Workers(workers) => match workers.error() {
                Some(e) => anyhow::bail!("a worker failed: {e}"),
                None => Ok(workers.counts()),
            },
        }
    }

    /// Starts or ends the steady window.
    pub(crate) fn set_measuring(&mut self, on: bool) -> anyhow::Result<()> {
        match self {
            Audience::Local(swarm) => {
                swarm.set_measuring(on);
                Ok(())
            }
            Audience::Workers(workers) => workers.set_measuring(on),
        }
    }

    /// Ends every player and returns what they measured.
    pub(crate) fn finish(self) -> anyhow::Result<Tallies> {
        match self {
            Audience::Local(swarm) => swarm.finish(),
            Audience::Workers(workers) => workers.finish(),
        }
    }
}
