//! Sampling what a run costs: the server's CPU time and RSS, the harness's
//! own CPU time (this process and its workers), and how busy the CPUs of
//! each side were.

use std::time::{Duration, Instant};

use crate::procfs::{self, CpuTimes, Pid};

/// Which processes and CPUs to watch.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sampler {
    /// The server's processes (an nginx worker, the arcly process).
    pub(crate) server_pids: Vec<u32>,
    /// The CPUs the server is pinned to, if known.
    pub(crate) server_cpus: Vec<usize>,
    /// Worker processes of the harness (this process always counts).
    pub(crate) harness_pids: Vec<u32>,
    /// The CPUs the harness runs on.
    pub(crate) harness_cpus: Vec<usize>,
}

/// One reading.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    at: Instant,
    server_cpu: Duration,
    pub(crate) server_rss_kib: u64,
    harness_cpu: Duration,
    cpus: CpuTimes,
}

/// What the window between two samples cost.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct WindowCost {
    /// Length of the window, s.
    pub(crate) secs: f64,
    /// Server CPU time (user + system) in the window, µs.
    pub(crate) server_cpu_us: u64,
    /// Server CPU time per second of window: cores used.
    pub(crate) server_cores: f64,
    /// Share of the server's CPUs busy (all work on them, softirqs
    /// included), 0..=1, if they are known.
    pub(crate) server_cpus_busy: Option<f64>,
    /// Harness CPU time per second of window over its CPUs, 0..=1.
    pub(crate) harness_share: f64,
    /// Share of the harness's CPUs busy, 0..=1.
    pub(crate) harness_cpus_busy: Option<f64>,
}

impl Sampler {
    /// Reads everything now.
    pub(crate) fn sample(&self) -> anyhow::Result<Sample> {
        let mut server_cpu = Duration::ZERO;
        let mut server_rss_kib = 0;
        for &pid in &self.server_pids {
            server_cpu += procfs::cpu_time(Pid::Of(pid))?;
            server_rss_kib += procfs::rss_kib(Pid::Of(pid))?;
        }
        let mut harness_cpu = procfs::cpu_time(Pid::Myself)?;
        for &pid in &self.harness_pids {
            // A worker that already exited no longer counts.
            harness_cpu += procfs::cpu_time(Pid::Of(pid)).unwrap_or_default();
        }
        Ok(Sample {
            at: Instant::now(),
            server_cpu,
            server_rss_kib,
            harness_cpu,
            cpus: CpuTimes::read()?,
        })
    }

    /// The cost of the window from `start` to `end`.
    pub(crate) fn cost(&self, start: &Sample, end: &Sample) -> WindowCost {
        let secs = end.at.duration_since(start.at).as_secs_f64().max(1e-9);
        let server_cpu = end.server_cpu.saturating_sub(start.server_cpu);
        let harness_cpu = end.harness_cpu.saturating_sub(start.harness_cpu);
        let harness_cpus = self.harness_cpus.len().max(1) as f64;
        WindowCost {
            secs,
            server_cpu_us: server_cpu.as_micros() as u64,
            server_cores: server_cpu.as_secs_f64() / secs,
            server_cpus_busy: end.cpus.busy_since(&start.cpus, &self.server_cpus),
            harness_share: harness_cpu.as_secs_f64() / secs / harness_cpus,
            harness_cpus_busy: end.cpus.busy_since(&start.cpus, &self.harness_cpus),
        }
    }
}
