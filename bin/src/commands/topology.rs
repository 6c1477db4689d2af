//! `arcly topology`: what the machine has and where shards would go.

use arcly_shard::placement::{Placement, PlacementRequest, Topology};

use super::Failure;
use crate::cli::PlacementArgs;
use crate::config::apply_placement_flags;

/// Prints the topology and the placement `args` would produce.
pub(crate) fn run(args: &PlacementArgs) -> Result<(), Failure> {
    let mut request = PlacementRequest::default();
    apply_placement_flags(&mut request, args)?;
    let topology = Topology::detect().map_err(Failure::runtime)?;
    println!("{}", topology.describe());
    let placement = Placement::plan(&topology, &request).map_err(Failure::usage)?;
    println!("placement: {placement}");
    Ok(())
}
