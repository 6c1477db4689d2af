//! Where shards run.
