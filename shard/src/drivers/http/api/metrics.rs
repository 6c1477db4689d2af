//! `GET /metrics`: every shard's counters in the Prometheus text
//! exposition format 0.0.4, gathered at scrape time.
//!
//! Counters and gauges carry a `shard` label (a hot shard is the first
//! thing an operator of a thread-per-core server looks for); histograms
//! are added up over the shards, whose buckets are the same. Every value
//! comes from [`ShardStats::fields`] through the [`SERIES`] table, and a
//! test checks that no field is left out, so a new counter cannot go
//! unexported.

use std::fmt::Write;

use crate::ShardStats;
use crate::placement::ShardSpec;
use crate::stats::{HistogramSnapshot, HistogramSnapshots};

/// The content type of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric type, as `# TYPE` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// One series per shard: a [`ShardStats`] field, the family it belongs to,
/// and the label that tells it from the family's other series.
struct Series {
    field: &'static str,
    family: &'static str,
    kind: Kind,
    label: Option<(&'static str, &'static str)>,
    /// The family's help; only the first series of a family has one.
    help: &'static str,
}

const fn series(
    field: &'static str,
    family: &'static str,
    kind: Kind,
    label: Option<(&'static str, &'static str)>,
    help: &'static str,
) -> Series {
    Series {
        field,
        family,
        kind,
        label,
        help,
    }
}

use Kind::{Counter, Gauge};

/// Every per-shard series, families together (the format wants a family's
/// samples in one block).
const SERIES: &[Series] = &[
    series(
        "streams_owned",
        "arcly_streams",
        Gauge,
        Some(("copy", "origin")),
        "Streams on the shard: origins it owns, mirrors of streams owned elsewhere.",
    ),
    series(
        "streams_mirrored",
        "arcly_streams",
        Gauge,
        Some(("copy", "mirror")),
        "",
    ),
    series(
        "publishers",
        "arcly_publishers",
        Gauge,
        Some(("protocol", "rtmp")),
        "Publishers connected to the shard.",
    ),
    series(
        "rtmp_players",
        "arcly_viewers",
        Gauge,
        Some(("protocol", "rtmp")),
        "Players connected to the shard, by protocol (HLS players hold no connection: see arcly_hls_requests_total).",
    ),
    series(
        "http_flv_players",
        "arcly_viewers",
        Gauge,
        Some(("protocol", "http-flv")),
        "",
    ),
    series(
        "viewers",
        "arcly_subscriptions",
        Gauge,
        None,
        "Subscriptions to streams on the shard: players and in-server consumers such as HLS packagers.",
    ),
    series(
        "hls_requests",
        "arcly_hls_requests_total",
        Counter,
        None,
        "HLS playlists, segments and parts requested of the shard.",
    ),
    series(
        "frames_in",
        "arcly_frames_in_total",
        Counter,
        None,
        "Frames taken in from publishers and, on mirrors, from relays.",
    ),
    series(
        "bytes_in",
        "arcly_bytes_in_total",
        Counter,
        None,
        "Payload bytes of arcly_frames_in_total.",
    ),
    series(
        "frames_out",
        "arcly_frames_out_total",
        Counter,
        None,
        "Frames handed to viewers.",
    ),
    series(
        "bytes_out",
        "arcly_bytes_out_total",
        Counter,
        None,
        "Payload bytes of arcly_frames_out_total.",
    ),
    series(
        "skips",
        "arcly_skips_total",
        Counter,
        None,
        "Times a lagging viewer jumped ahead to the newest keyframe.",
    ),
    series(
        "evictions",
        "arcly_evictions_total",
        Counter,
        None,
        "Viewers disconnected by the lag policy.",
    ),
    series(
        "slow_writes",
        "arcly_slow_writes_total",
        Counter,
        None,
        "Writes to a viewer that its socket did not take at once (a slow reader).",
    ),
    series(
        "relay_drops",
        "arcly_relay_drops_total",
        Counter,
        None,
        "Relayed frames dropped because a mirroring shard's queue stayed full.",
    ),
    series(
        "mailbox_depth",
        "arcly_mailbox_depth",
        Gauge,
        None,
        "Messages waiting in the shard's outboxes and inbound queues.",
    ),
    series(
        "messages_sent",
        "arcly_mailbox_messages_total",
        Counter,
        Some(("direction", "sent")),
        "Mailbox messages sent to other shards and received from them (and from outside threads).",
    ),
    series(
        "messages_received",
        "arcly_mailbox_messages_total",
        Counter,
        Some(("direction", "received")),
        "",
    ),
    series(
        "batches_sent",
        "arcly_mailbox_batches_total",
        Counter,
        Some(("direction", "sent")),
        "Mailbox batches sent and received; each costs at most one wake.",
    ),
    series(
        "batches_received",
        "arcly_mailbox_batches_total",
        Counter,
        Some(("direction", "received")),
        "",
    ),
    series(
        "wakes_sent",
        "arcly_mailbox_wakes_total",
        Counter,
        Some(("direction", "sent")),
        "Doorbell wake-ups sent to parked shards, and received by this one.",
    ),
    series(
        "wakes_received",
        "arcly_mailbox_wakes_total",
        Counter,
        Some(("direction", "received")),
        "",
    ),
    series(
        "handed_back",
        "arcly_mailbox_handed_back_total",
        Counter,
        None,
        "Mailbox sends refused because a queue was full.",
    ),
    series(
        "connections_accepted",
        "arcly_connections_accepted_total",
        Counter,
        None,
        "Connections accepted by the shard's listeners.",
    ),
    series(
        "handoffs_sent",
        "arcly_handoffs_total",
        Counter,
        Some(("direction", "sent")),
        "Connections handed to another shard, and received from one.",
    ),
    series(
        "handoffs_received",
        "arcly_handoffs_total",
        Counter,
        Some(("direction", "received")),
        "",
    ),
    series(
        "connections_refused",
        "arcly_refused_total",
        Counter,
        Some(("reason", "connection_limit")),
        "Connections, publishers and players refused, by reason.",
    ),
    series(
        "refused_unauthorized",
        "arcly_refused_total",
        Counter,
        Some(("reason", "unauthorized")),
        "",
    ),
    series(
        "refused_not_found",
        "arcly_refused_total",
        Counter,
        Some(("reason", "not_found")),
        "",
    ),
    series(
        "refused_bad_name",
        "arcly_refused_total",
        Counter,
        Some(("reason", "bad_name")),
        "",
    ),
    series(
        "refused_other",
        "arcly_refused_total",
        Counter,
        Some(("reason", "other")),
        "",
    ),
    series(
        "protocol_errors",
        "arcly_connections_closed_total",
        Counter,
        Some(("reason", "protocol_error")),
        "Connections the server closed, by reason.",
    ),
    series(
        "timeouts",
        "arcly_connections_closed_total",
        Counter,
        Some(("reason", "timeout")),
        "",
    ),
    series(
        "kicks",
        "arcly_connections_closed_total",
        Counter,
        Some(("reason", "kicked")),
        "",
    ),
    series(
        "recordings_active",
        "arcly_recordings",
        Gauge,
        None,
        "Recordings running now.",
    ),
    series(
        "recordings_finished",
        "arcly_recordings_ended_total",
        Counter,
        Some(("result", "finished")),
        "Recordings that ended: with their stream, or stopped by an error (disk full, permissions).",
    ),
    series(
        "recordings_failed",
        "arcly_recordings_ended_total",
        Counter,
        Some(("result", "failed")),
        "",
    ),
    series(
        "recorded_bytes",
        "arcly_recorded_bytes_total",
        Counter,
        None,
        "Bytes written to recordings.",
    ),
];

/// How a histogram's values are written.
#[derive(Clone, Copy)]
enum Unit {
    /// Recorded in microseconds, exported in seconds.
    MicrosAsSeconds,
    /// Exported as recorded.
    Plain,
}

/// A histogram family, added up over the shards.
struct HistogramFamily {
    name: &'static str,
    help: &'static str,
    unit: Unit,
    pick: fn(&HistogramSnapshots) -> &HistogramSnapshot,
}

/// The histograms.
const HISTOGRAMS: &[HistogramFamily] = &[
    HistogramFamily {
        name: "arcly_join_seconds",
        help: "Time from a viewer's subscribe to its first media frame handed to its connection (the keyframe it starts at).",
        unit: Unit::MicrosAsSeconds,
        pick: |h| &h.join_micros,
    },
    HistogramFamily {
        name: "arcly_delivery_latency_seconds",
        help: "Sampled at keyframes: time from a keyframe's arrival on the viewer's shard (from the publisher on the owner, from the relay on a mirror) to its hand-over to the viewer's connection.",
        unit: Unit::MicrosAsSeconds,
        pick: |h| &h.delivery_latency_micros,
    },
    HistogramFamily {
        name: "arcly_gop_frames",
        help: "Video frames per GOP, recorded on the owner at each keyframe.",
        unit: Unit::Plain,
        pick: |h| &h.gop_frames,
    },
    HistogramFamily {
        name: "arcly_gop_bytes",
        help: "Video payload bytes per GOP, recorded on the owner at each keyframe.",
        unit: Unit::Plain,
        pick: |h| &h.gop_bytes,
    },
];

/// The exposition of `stats` (one entry per shard that answered) for a
/// runtime placed as `placement`.
pub(crate) fn render(stats: &[ShardStats], placement: &[ShardSpec]) -> String {
    let mut out = String::with_capacity(16 << 10);
    header(
        &mut out,
        "arcly_shard_info",
        "gauge",
        "Each shard that answered the scrape, with the CPU and NUMA node it is pinned to.",
    );
    for s in stats {
        if let Some(spec) = placement.get(s.shard) {
            let _ = writeln!(
                out,
                "arcly_shard_info{{shard=\"{}\",cpu=\"{}\",node=\"{}\"}} 1",
                s.shard, spec.cpu, spec.node
            );
        }
    }
    let fields: Vec<_> = stats.iter().map(|s| (s.shard, s.fields())).collect();
    let mut family = "";
    for series in SERIES {
        if series.family != family {
            family = series.family;
            header(&mut out, family, series.kind.as_str(), series.help);
        }
        for (shard, fields) in &fields {
            let value = fields
                .iter()
                .find(|(name, _)| *name == series.field)
                .map_or(0, |(_, v)| *v);
            let _ = match series.label {
                Some((name, label)) => writeln!(
                    out,
                    "{family}{{shard=\"{shard}\",{name}=\"{label}\"}} {value}"
                ),
                None => writeln!(out, "{family}{{shard=\"{shard}\"}} {value}"),
            };
        }
    }
    let mut merged = HistogramSnapshots::default();
    for s in stats {
        merged.merge(&s.histograms);
    }
    for family in HISTOGRAMS {
        histogram(&mut out, family, (family.pick)(&merged));
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, family: &HistogramFamily, h: &HistogramSnapshot) {
    let name = family.name;
    header(out, name, "histogram", family.help);
    let scaled = |v: u64| match family.unit {
        Unit::MicrosAsSeconds => format!("{}", v as f64 / 1e6),
        Unit::Plain => v.to_string(),
    };
    for (bound, cumulative) in h.cumulative() {
        let le = bound.map_or_else(|| "+Inf".to_owned(), scaled);
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    if h.bounds().is_empty() {
        // No shard answered: still a well-formed, empty histogram.
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} 0");
    }
    let _ = writeln!(out, "{name}_sum {}", scaled(h.sum()));
    let _ = writeln!(out, "{name}_count {}", h.count());
}

/// `# HELP` text escapes backslashes and line feeds.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::stats::Histograms;

    fn shard(id: usize) -> ShardStats {
        let histograms = Histograms::default();
        histograms.join_micros.record(40_000);
        histograms.join_micros.record(3_000_000);
        histograms.gop_frames.record(60);
        ShardStats {
            shard: id,
            streams_owned: 1,
            viewers: 3,
            rtmp_players: 2,
            http_flv_players: 1,
            frames_in: 100 + id as u64,
            refused_unauthorized: 4,
            histograms: histograms.snapshot(),
            ..ShardStats::default()
        }
    }

    fn placement() -> Vec<ShardSpec> {
        (0..2)
            .map(|id| ShardSpec {
                id,
                cpu: 4 + id,
                node: 0,
            })
            .collect()
    }

    #[test]
    fn every_counter_is_exported() {
        let exported: HashSet<&str> = SERIES.iter().map(|s| s.field).collect();
        for (field, _) in ShardStats::default().fields() {
            assert!(
                field == "shard" || exported.contains(field),
                "ShardStats::{field} is not in metrics::SERIES"
            );
        }
        assert_eq!(exported.len(), SERIES.len(), "a field is exported twice");
    }

    #[test]
    fn families_have_help_and_type_once_and_counters_end_in_total() {
        let text = render(&[shard(0), shard(1)], &placement());
        let mut seen = HashSet::new();
        let mut current = String::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap();
                assert!(!help.is_empty(), "{name} has no help");
                assert!(seen.insert(name.to_owned()), "{name} is described twice");
                current = name.to_owned();
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(name, current, "TYPE without its HELP");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
            } else {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(
                    name.strip_prefix(current.as_str())
                        .is_some_and(|s| ["", "_bucket", "_sum", "_count"].contains(&s)),
                    "sample {line} outside its family {current}"
                );
            }
        }
    }

    #[test]
    fn per_shard_series_carry_the_shard_label() {
        let text = render(&[shard(0), shard(1)], &placement());
        for line in [
            "arcly_shard_info{shard=\"1\",cpu=\"5\",node=\"0\"} 1",
            "arcly_streams{shard=\"0\",copy=\"origin\"} 1",
            "arcly_streams{shard=\"1\",copy=\"mirror\"} 0",
            "arcly_viewers{shard=\"0\",protocol=\"rtmp\"} 2",
            "arcly_viewers{shard=\"1\",protocol=\"http-flv\"} 1",
            "arcly_subscriptions{shard=\"1\"} 3",
            "arcly_frames_in_total{shard=\"1\"} 101",
            "arcly_refused_total{shard=\"0\",reason=\"unauthorized\"} 4",
            "# TYPE arcly_mailbox_depth gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
    }

    #[test]
    fn histograms_add_up_over_shards_in_seconds() {
        let text = render(&[shard(0), shard(1)], &placement());
        for line in [
            "# TYPE arcly_join_seconds histogram",
            "arcly_join_seconds_bucket{le=\"0.025\"} 0",
            "arcly_join_seconds_bucket{le=\"0.05\"} 2",
            "arcly_join_seconds_bucket{le=\"2.5\"} 2",
            "arcly_join_seconds_bucket{le=\"5\"} 4",
            "arcly_join_seconds_bucket{le=\"+Inf\"} 4",
            "arcly_join_seconds_sum 6.08",
            "arcly_join_seconds_count 4",
            "arcly_gop_frames_bucket{le=\"60\"} 2",
            "arcly_delivery_latency_seconds_bucket{le=\"0.000025\"} 0",
            "arcly_delivery_latency_seconds_count 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
    }

    #[test]
    fn no_shard_still_gives_well_formed_histograms() {
        let text = render(&[], &[]);
        assert!(text.contains("arcly_gop_bytes_bucket{le=\"+Inf\"} 0\narcly_gop_bytes_sum 0\n"));
    }
}
