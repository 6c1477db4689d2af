//! The CPUs and NUMA nodes of the machine, as the kernel reports them.

use std::path::Path;

use super::PlacementError;
use super::cpulist::{format_cpu_list, parse_cpu_list};

/// One NUMA node and the CPUs on it that this process may run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumaNode {
    /// The kernel's node number.
    pub id: usize,
    /// Usable CPUs on this node, ascending.
    pub cpus: Vec<usize>,
}

/// The usable CPUs of this machine, grouped by NUMA node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Nodes with at least one usable CPU, ascending by id.
    pub nodes: Vec<NumaNode>,
}

impl Topology {
    /// Reads the topology from `/sys` and this process's CPU affinity mask.
    pub fn detect() -> Result<Topology, PlacementError> {
        let allowed = core_affinity::get_core_ids()
            .map(|ids| ids.into_iter().map(|c| c.id).collect::<Vec<_>>());
        Topology::read(Path::new("/sys/devices/system"), allowed.as_deref())
    }

    /// Reads the topology under `sys` (normally `/sys/devices/system`),
    /// keeping only the CPUs in `allowed` when given.
    ///
    /// A kernel without NUMA support has no `node/` folder: every online CPU
    /// is then on node 0.
    pub fn read(sys: &Path, allowed: Option<&[usize]>) -> Result<Topology, PlacementError> {
        let keep = |cpus: Vec<usize>| -> Vec<usize> {
            match allowed {
                Some(allowed) => cpus.into_iter().filter(|c| allowed.contains(c)).collect(),
                None => cpus,
            }
        };
        let mut nodes = Vec::new();
        if let Ok(entries) = std::fs::read_dir(sys.join("node")) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(id) = name.to_str().and_then(|n| n.strip_prefix("node")) else {
                    continue;
                };
                let Ok(id) = id.parse::<usize>() else {
                    continue;
                };
                let cpus = keep(read_cpu_list(&entry.path().join("cpulist"))?);
                if !cpus.is_empty() {
                    nodes.push(NumaNode { id, cpus });
                }
            }
        }
        if nodes.is_empty() {
            let cpus = keep(read_cpu_list(&sys.join("cpu/online"))?);
            if !cpus.is_empty() {
                nodes.push(NumaNode { id: 0, cpus });
            }
        }
        nodes.sort_by_key(|n| n.id);
        if nodes.is_empty() {
            return Err(PlacementError::NoCpus);
        }
        Ok(Topology { nodes })
    }

    /// Every usable CPU, ascending.
    pub fn cpus(&self) -> Vec<usize> {
        let mut cpus: Vec<usize> = self
            .nodes
            .iter()
            .flat_map(|n| n.cpus.iter().copied())
            .collect();
        cpus.sort_unstable();
        cpus
    }

    /// The node a CPU sits on.
    pub fn node_of(&self, cpu: usize) -> Option<usize> {
        self.nodes
            .iter()
            .find(|n| n.cpus.contains(&cpu))
            .map(|n| n.id)
    }

    /// A human summary: `2 CPUs on 1 NUMA node: node 0: 0-1`.
    pub fn describe(&self) -> String {
        let cpus = self.cpus().len();
        let nodes = self.nodes.len();
        let mut out = format!(
            "{cpus} CPU{} on {nodes} NUMA node{}",
            if cpus == 1 { "" } else { "s" },
            if nodes == 1 { "" } else { "s" }
        );
        for node in &self.nodes {
            out.push_str(&format!(
                "\n  node {}: cpus {}",
                node.id,
                format_cpu_list(&node.cpus)
            ));
        }
        out
    }
}

fn read_cpu_list(path: &Path) -> Result<Vec<usize>, PlacementError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlacementError::Sysfs {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    parse_cpu_list(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_sys(nodes: &[(usize, &str)], online: &str) -> tempdir::TempSys {
        tempdir::TempSys::new(nodes, online)
    }

    /// A throwaway `/sys/devices/system` look-alike.
    mod tempdir {
        use std::path::PathBuf;

        pub(super) struct TempSys(pub(super) PathBuf);

        impl TempSys {
            pub(super) fn new(nodes: &[(usize, &str)], online: &str) -> TempSys {
                static NEXT: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let root =
                    std::env::temp_dir().join(format!("arcly-sys-{}-{n}", std::process::id()));
                let _ = std::fs::remove_dir_all(&root);
                std::fs::create_dir_all(root.join("cpu")).unwrap();
                std::fs::write(root.join("cpu/online"), online).unwrap();
                for (id, list) in nodes {
                    let dir = root.join(format!("node/node{id}"));
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(dir.join("cpulist"), list).unwrap();
                }
                TempSys(root)
            }
        }

        impl Drop for TempSys {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn reads_two_nodes() {
        let sys = fake_sys(&[(0, "0-3\n"), (1, "4-7\n")], "0-7\n");
        let topo = Topology::read(&sys.0, None).unwrap();
        assert_eq!(topo.nodes.len(), 2);
        assert_eq!(topo.node_of(5), Some(1));
        assert!(topo.describe().starts_with("8 CPUs on 2 NUMA nodes"));
    }

    #[test]
    fn without_numa_every_cpu_is_on_node_zero() {
        let sys = fake_sys(&[], "0-1\n");
        let topo = Topology::read(&sys.0, None).unwrap();
        assert_eq!(
            topo.nodes,
            vec![NumaNode {
                id: 0,
                cpus: vec![0, 1]
            }]
        );
    }

    #[test]
    fn affinity_mask_filters_cpus_and_empty_nodes() {
        let sys = fake_sys(&[(0, "0-3"), (1, "4-7")], "0-7");
        let topo = Topology::read(&sys.0, Some(&[1, 2])).unwrap();
        assert_eq!(
            topo.nodes,
            vec![NumaNode {
                id: 0,
                cpus: vec![1, 2]
            }]
        );
    }

    #[test]
    fn this_machine_has_cpus() {
        let topo = Topology::detect().unwrap();
        assert!(!topo.cpus().is_empty());
    }
}
