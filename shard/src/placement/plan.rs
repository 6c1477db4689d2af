//! Turning the operator's flags into one shard per chosen CPU.

use std::fmt;

use super::cpulist::format_cpu_list;
use super::{PlacementError, Topology};

/// What the operator asked for; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlacementRequest {
    /// `--shards N`: how many shards in all.
    pub shards: Option<usize>,
    /// `--cpus LIST`: only these CPUs.
    pub cpus: Option<Vec<usize>>,
    /// `--numa-node K`: only CPUs on this node.
    pub numa_node: Option<usize>,
    /// `--shards-per-node N`: at most N shards on each node.
    pub shards_per_node: Option<usize>,
    /// `--share-cpus`: with more shards than CPUs chosen, pin shards to the
    /// chosen CPUs in turn instead of refusing. Shards on one CPU take
    /// turns on it; this is for tests and for measuring what sharding
    /// costs (2 shards on 1 CPU against 1 shard), not for production.
    pub share_cpus: bool,
}

/// One shard: an executor pinned to one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    /// 0-based shard index, the one `owner(key)` answers with.
    pub id: usize,
    /// The CPU its executor is pinned to.
    pub cpu: usize,
    /// The NUMA node of that CPU.
    pub node: usize,
}

/// The shards to run, in id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// One entry per shard.
    pub shards: Vec<ShardSpec>,
}

impl Placement {
    /// Chooses CPUs for the request on `topology`.
    ///
    /// The candidates are every usable CPU, narrowed by `cpus`, then by
    /// `numa_node`, then capped per node by `shards_per_node`. `shards` takes
    /// that many of them, alternating between nodes so both memory controllers
    /// work; with no `shards`, every candidate gets a shard. Asking for more
    /// shards than CPUs is an error (shards never share a core) unless
    /// `share_cpus` is set, which cycles through the chosen CPUs.
    pub fn plan(
        topology: &Topology,
        request: &PlacementRequest,
    ) -> Result<Placement, PlacementError> {
        let usable = topology.cpus();
        if let Some(cpus) = &request.cpus {
            if let Some(&missing) = cpus.iter().find(|c| !usable.contains(c)) {
                return Err(PlacementError::UnknownCpu {
                    cpu: missing,
                    usable: format_cpu_list(&usable),
                });
            }
            if cpus.is_empty() {
                return Err(PlacementError::NoCpus);
            }
        }
        if let Some(node) = request.numa_node
            && !topology.nodes.iter().any(|n| n.id == node)
        {
            return Err(PlacementError::UnknownNode {
                node,
                nodes: topology
                    .nodes
                    .iter()
                    .map(|n| n.id.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            });
        }
        if request.shards == Some(0) {
            return Err(PlacementError::ZeroShards("--shards"));
        }
        if request.shards_per_node == Some(0) {
            return Err(PlacementError::ZeroShards("--shards-per-node"));
        }

        // Candidate CPUs per node, in node order.
        let per_node: Vec<(usize, Vec<usize>)> = topology
            .nodes
            .iter()
            .filter(|n| request.numa_node.is_none_or(|k| k == n.id))
            .map(|n| {
                let mut cpus: Vec<usize> = n
                    .cpus
                    .iter()
                    .copied()
                    .filter(|c| request.cpus.as_ref().is_none_or(|only| only.contains(c)))
                    .collect();
                if let Some(cap) = request.shards_per_node {
                    cpus.truncate(cap);
                }
                (n.id, cpus)
            })
            .filter(|(_, cpus)| !cpus.is_empty())
            .collect();

        // Alternate between nodes: node0 cpu0, node1 cpu0, node0 cpu1, ...
        let mut chosen = Vec::new();
        let longest = per_node.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
        for i in 0..longest {
            for (node, cpus) in &per_node {
                if let Some(&cpu) = cpus.get(i) {
                    chosen.push((cpu, *node));
                }
            }
        }
        if chosen.is_empty() {
            return Err(PlacementError::NoCpus);
        }
        if let Some(want) = request.shards {
            if want > chosen.len() && !request.share_cpus {
                return Err(PlacementError::TooManyShards {
                    shards: want,
                    cpus: chosen.len(),
                });
            }
            chosen = chosen.iter().copied().cycle().take(want).collect();
        }
        let shards = chosen
            .into_iter()
            .enumerate()
            .map(|(id, (cpu, node))| ShardSpec { id, cpu, node })
            .collect();
        Ok(Placement { shards })
    }

    /// How many shards.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Whether there are no shards (never true for a planned placement).
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.shards.len();
        write!(f, "{n} shard{}", if n == 1 { "" } else { "s" })?;
        for s in &self.shards {
            write!(f, "\n  shard {} -> cpu {} (node {})", s.id, s.cpu, s.node)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::NumaNode;
    use super::*;

    fn two_nodes() -> Topology {
        Topology {
            nodes: vec![
                NumaNode {
                    id: 0,
                    cpus: vec![0, 1, 2, 3],
                },
                NumaNode {
                    id: 1,
                    cpus: vec![4, 5, 6, 7],
                },
            ],
        }
    }

    fn cpus(p: &Placement) -> Vec<usize> {
        p.shards.iter().map(|s| s.cpu).collect()
    }

    #[test]
    fn default_takes_every_cpu_alternating_nodes() {
        let p = Placement::plan(&two_nodes(), &PlacementRequest::default()).unwrap();
        assert_eq!(cpus(&p), vec![0, 4, 1, 5, 2, 6, 3, 7]);
        assert_eq!(
            p.shards[1],
            ShardSpec {
                id: 1,
                cpu: 4,
                node: 1
            }
        );
    }

    #[test]
    fn shards_takes_a_prefix() {
        let req = PlacementRequest {
            shards: Some(3),
            ..Default::default()
        };
        assert_eq!(
            cpus(&Placement::plan(&two_nodes(), &req).unwrap()),
            vec![0, 4, 1]
        );
    }

    #[test]
    fn cpus_and_node_narrow_the_choice() {
        let req = PlacementRequest {
            cpus: Some(vec![1, 2, 5]),
            numa_node: Some(0),
            ..Default::default()
        };
        assert_eq!(
            cpus(&Placement::plan(&two_nodes(), &req).unwrap()),
            vec![1, 2]
        );
    }

    #[test]
    fn shards_per_node_caps_each_node() {
        let req = PlacementRequest {
            shards_per_node: Some(2),
            ..Default::default()
        };
        assert_eq!(
            cpus(&Placement::plan(&two_nodes(), &req).unwrap()),
            vec![0, 4, 1, 5]
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let topo = two_nodes();
        let err = |req: PlacementRequest| Placement::plan(&topo, &req).unwrap_err().to_string();
        assert_eq!(
            err(PlacementRequest {
                shards: Some(9),
                ..Default::default()
            }),
            "--shards 9 asks for more shards than the 8 CPUs chosen"
        );
        assert_eq!(
            err(PlacementRequest {
                cpus: Some(vec![9]),
                ..Default::default()
            }),
            "cpu 9 is not usable here (usable: 0-7)"
        );
        assert_eq!(
            err(PlacementRequest {
                numa_node: Some(3),
                ..Default::default()
            }),
            "NUMA node 3 does not exist (nodes: 0,1)"
        );
        assert_eq!(
            err(PlacementRequest {
                shards: Some(0),
                ..Default::default()
            }),
            "--shards must be at least 1"
        );
    }

    #[test]
    fn sharing_cpus_cycles_through_the_chosen_ones() {
        let topology = two_nodes();
        let request = PlacementRequest {
            shards: Some(3),
            cpus: Some(vec![0]),
            share_cpus: true,
            ..PlacementRequest::default()
        };
        let placement = Placement::plan(&topology, &request).unwrap();
        let cpus: Vec<usize> = placement.shards.iter().map(|s| s.cpu).collect();
        assert_eq!(cpus, vec![0, 0, 0]);
    }
}
