//! Which shard owns a stream.
