//! Which shard owns a stream: rendezvous (highest-random-weight) hashing.
//!
//! Every shard computes `owner(key)` on its own and they all agree, because
//! the hash is a fixed function of the key bytes and the shard index — no
//! seed, no per-process state, the same answer in every run and every
//! process. Rendezvous hashing (rather than `hash % n`) moves only the
//! streams of a removed shard when the shard count changes, which is what
//! lets an edge tier later pick a node first and then a shard with the same
//! rule.

use arcly_engine::StreamKey;

/// The shard (0-based) that owns `key` among `shards` shards.
///
/// `shards` of 0 is treated as 1, so the answer is always a valid index.
pub fn owner(key: &StreamKey, shards: usize) -> usize {
    owner_of_bytes(key.as_str().as_bytes(), shards)
}

/// [`owner`] over raw key bytes, for callers that have not built a key yet.
pub fn owner_of_bytes(key: &[u8], shards: usize) -> usize {
    let base = fnv1a64(key);
    (0..shards.max(1))
        .max_by_key(|&shard| (score(base, shard as u64), std::cmp::Reverse(shard)))
        .unwrap_or(0)
}

/// The weight of one (key, shard) pair.
fn score(key_hash: u64, shard: u64) -> u64 {
    splitmix64(key_hash ^ splitmix64(shard.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// FNV-1a, 64-bit: stable, tiny, good enough once finished by `splitmix64`.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The splitmix64 finaliser: spreads every input bit over the output.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> StreamKey {
        StreamKey::new("live", name).unwrap()
    }

    #[test]
    fn answers_are_fixed_across_runs_and_processes() {
        // Pinned values: a change here breaks every deployed edge/origin pair.
        let got: Vec<usize> = ["a", "b", "cam1", "cam2", "x/y"]
            .iter()
            .map(|n| owner(&key(n), 4))
            .collect();
        assert_eq!(got, PINNED);
    }

    const PINNED: [usize; 5] = [0, 2, 2, 3, 0];

    #[test]
    fn one_shard_owns_everything() {
        assert_eq!(owner(&key("a"), 1), 0);
        assert_eq!(owner(&key("a"), 0), 0);
    }

    #[test]
    fn keys_spread_evenly() {
        let shards = 4;
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[owner(&key(&format!("stream{i}")), shards)] += 1;
        }
        for c in counts {
            assert!((800..1200).contains(&c), "uneven spread: {counts:?}");
        }
    }

    #[test]
    fn growing_the_shard_count_moves_only_the_new_shards_share() {
        let mut moved = 0;
        for i in 0..4000 {
            let k = key(&format!("stream{i}"));
            let before = owner(&k, 4);
            let after = owner(&k, 5);
            if before != after {
                assert_eq!(after, 4, "a key moved between old shards");
                moved += 1;
            }
        }
        assert!((600..1000).contains(&moved), "moved {moved}");
    }
}
