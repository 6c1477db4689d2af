//! Where shards run: the machine's CPUs and NUMA nodes, and the operator's
//! choice of them (`--shards`, `--cpus`, `--numa-node`, `--shards-per-node`).

mod cpulist;
mod plan;
mod topology;

pub use cpulist::{MAX_CPU, format_cpu_list, parse_cpu_list};
pub use plan::{Placement, PlacementRequest, ShardSpec};
pub use topology::{NumaNode, Topology};

/// Why a placement could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// A CPU list did not parse.
    #[error("bad cpu list '{0}' (expected e.g. 0-3,8)")]
    BadCpuList(String),
    /// A `/sys` file could not be read.
    #[error("cannot read {path}: {error}")]
    Sysfs {
        /// The file.
        path: String,
        /// The OS error.
        error: String,
    },
    /// No usable CPU was left after the filters.
    #[error("no usable cpu matches the placement flags")]
    NoCpus,
    /// `--cpus` named a CPU this process cannot run on.
    #[error("cpu {cpu} is not usable here (usable: {usable})")]
    UnknownCpu {
        /// The CPU asked for.
        cpu: usize,
        /// The usable CPUs.
        usable: String,
    },
    /// `--numa-node` named a node without usable CPUs.
    #[error("NUMA node {node} does not exist (nodes: {nodes})")]
    UnknownNode {
        /// The node asked for.
        node: usize,
        /// The nodes found.
        nodes: String,
    },
    /// More shards than chosen CPUs.
    #[error("--shards {shards} asks for more shards than the {cpus} CPUs chosen")]
    TooManyShards {
        /// Shards asked for.
        shards: usize,
        /// CPUs available to them.
        cpus: usize,
    },
    /// A count flag was zero.
    #[error("{0} must be at least 1")]
    ZeroShards(&'static str),
}
