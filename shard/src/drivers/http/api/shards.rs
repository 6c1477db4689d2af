//! `GET /api/v1/shards`: each shard's placement and every counter.

use super::json::Json;
use crate::ShardStats;
use crate::placement::ShardSpec;

/// `{"shards":[{...},...]}`: one object per shard that answered, with the
/// CPU and NUMA node it is pinned to and every counter of
/// [`ShardStats::fields`].
pub(crate) fn shards_json(stats: &[ShardStats], placement: &[ShardSpec]) -> String {
    let shards = stats
        .iter()
        .map(|s| {
            let mut fields: Vec<(&'static str, Json)> = s
                .fields()
                .iter()
                .map(|&(name, value)| (name, Json::Int(value)))
                .collect();
            let spec = placement.get(s.shard);
            fields.insert(1, ("cpu", Json::opt_int(spec.map(|p| p.cpu as u64))));
            fields.insert(2, ("node", Json::opt_int(spec.map(|p| p.node as u64))));
            Json::Object(fields)
        })
        .collect();
    Json::Object(vec![("shards", Json::Array(shards))]).to_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_json_lists_placement_and_every_counter() {
        let stats = vec![ShardStats {
            shard: 1,
            viewers: 7,
            ..ShardStats::default()
        }];
        let placement = [
            ShardSpec {
                id: 0,
                cpu: 2,
                node: 0,
            },
            ShardSpec {
                id: 1,
                cpu: 3,
                node: 1,
            },
        ];
        let json = shards_json(&stats, &placement);
        assert!(
            json.starts_with("{\"shards\":[{\"shard\":1,\"cpu\":3,\"node\":1,"),
            "{json}"
        );
        assert!(json.contains("\"viewers\":7"), "{json}");
        assert_eq!(
            json.matches(':').count(),
            3 + ShardStats::default().fields().len()
        );
    }
}
