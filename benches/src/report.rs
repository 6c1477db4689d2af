//! What a run prints: a table for people and JSON for trend files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::sampler::WindowCost;
use crate::status_api::ServerShards;
use crate::tally::Tally;

/// A harness running above this share of its CPUs may be the bottleneck,
/// which makes the run invalid.
pub(crate) const SATURATED: f64 = 0.9;

/// A distribution, in ms (or counts, for gaps).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub(crate) struct Dist {
    pub(crate) count: u64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
}

impl Dist {
    /// Of a histogram, each value divided by `unit` (1000 for µs → ms).
    pub(crate) fn of(h: &Histogram<u64>, unit: f64) -> Dist {
        if h.is_empty() {
            return Dist::default();
        }
        let at = |q| h.value_at_quantile(q) as f64 / unit;
        Dist {
            count: h.len(),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: h.max() as f64 / unit,
        }
    }
}

/// What the players saw.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Outcome {
    pub(crate) started: u64,
    pub(crate) joined: u64,
    /// Joined and still playing at the end.
    pub(crate) ok: u64,
    pub(crate) failed: u64,
    pub(crate) dropped: u64,
    pub(crate) gaps: u64,
    pub(crate) players_with_gaps: u64,
    pub(crate) frames: u64,
    pub(crate) bytes: u64,
    /// Payload received in the steady window, Mbit/s.
    pub(crate) window_mbps: f64,
    pub(crate) reasons: BTreeMap<String, u64>,
    /// Connect start → first keyframe, ms.
    pub(crate) join_key_ms: Dist,
    /// Connect start → last frame of the first GOP, ms.
    pub(crate) join_gop_ms: Dist,
    /// Delivery latency in the steady window, ms (coordinated-omission
    /// corrected).
    pub(crate) latency_ms: Dist,
    /// Gaps per joined player.
    pub(crate) gaps_per_player: Dist,
    /// Slow players: joined, let go of by the server, frames they missed.
    pub(crate) slow_joined: u64,
    pub(crate) slow_dropped: u64,
    pub(crate) slow_gaps: u64,
}

impl Outcome {
    /// From the players' tally over a window of `window_secs`.
    pub(crate) fn of(tally: &Tally, window_secs: f64) -> Outcome {
        Outcome {
            started: tally.started,
            joined: tally.joined,
            ok: tally.joined - tally.dropped,
            failed: tally.failed,
            dropped: tally.dropped,
            gaps: tally.gaps,
            players_with_gaps: tally.players_with_gaps,
            frames: tally.frames,
            bytes: tally.bytes,
            window_mbps: tally.window_bytes as f64 * 8.0 / window_secs.max(1e-9) / 1e6,
            reasons: tally.reasons.clone(),
            join_key_ms: Dist::of(&tally.join_key_us, 1000.0),
            join_gop_ms: Dist::of(&tally.join_gop_us, 1000.0),
            latency_ms: Dist::of(&tally.latency_us, 1000.0),
            gaps_per_player: Dist::of(&tally.gaps_per_player, 1.0),
            slow_joined: tally.slow_joined,
            slow_dropped: tally.slow_dropped,
            slow_gaps: tally.slow_gaps,
        }
    }
}

/// The server's cost per viewer.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ServerCost {
    pub(crate) pids: Vec<u32>,
    /// RSS with the stream published and no players, KiB.
    pub(crate) idle_rss_kib: u64,
    /// RSS at the end of the window, and its largest sample, KiB.
    pub(crate) rss_kib: u64,
    pub(crate) max_rss_kib: u64,
    /// Server CPU µs per viewer per second of window.
    pub(crate) cpu_us_per_viewer_s: f64,
    /// (RSS at the end − idle RSS) / viewers, KiB.
    pub(crate) kib_per_viewer: f64,
    /// RSS change over the window, KiB per minute (a leak grows it).
    pub(crate) rss_growth_kib_per_min: f64,
    /// RSS every second of the window, KiB.
    pub(crate) rss_timeline_kib: Vec<u64>,
}

/// What the players of one protocol saw.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ProtocolOutcome {
    /// `rtmp` or `http-flv`.
    pub(crate) protocol: &'static str,
    /// What they played.
    pub(crate) url: String,
    pub(crate) players: usize,
    pub(crate) outcome: Outcome,
}

/// One run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) scenario: &'static str,
    /// Which server, when the harness knows (compare).
    pub(crate) server: Option<String>,
    pub(crate) date: String,
    pub(crate) target: String,
    pub(crate) players: usize,
    /// Streams published (players spread over them).
    pub(crate) streams: usize,
    pub(crate) source: String,
    /// The harness's shards and CPUs, and how many processes held players.
    pub(crate) harness: String,
    pub(crate) processes: usize,
    /// How players read: all at once, or in bulk with probes.
    pub(crate) reading: String,
    /// Every player, whatever its protocol.
    pub(crate) outcome: Outcome,
    /// The players of each protocol that had any, apart.
    pub(crate) protocols: Vec<ProtocolOutcome>,
    /// How late the harness woke from a 5 ms sleep in the window, ms.
    pub(crate) harness_lag_ms: Dist,
    /// The server's CPUs, if known.
    pub(crate) server_cpus: Option<String>,
    /// The server's shards and where the load went, or why unknown.
    pub(crate) server_shards: ServerShards,
    pub(crate) cost: WindowCost,
    pub(crate) server_cost: Option<ServerCost>,
    /// Publishers: payload sent in the window, Mbit/s.
    pub(crate) ingest_mbps: f64,
    /// Publishers: tags sent, and the p99 of how late they went out, ms.
    pub(crate) published_tags: u64,
    pub(crate) publish_late_p99_ms: f64,
    /// Why the run does not count, if it does not.
    pub(crate) invalid: Option<String>,
}

impl Report {
    /// The verdict on the generator: invalid when it was saturated.
    pub(crate) fn judge(cost: &WindowCost, publisher_error: Option<&str>) -> Option<String> {
        let mut why = Vec::new();
        if cost.harness_share > SATURATED {
            why.push(format!(
                "the harness used {:.0} % of its CPUs",
                cost.harness_share * 100.0
            ));
        }
        if let Some(busy) = cost.harness_cpus_busy.filter(|b| *b > SATURATED) {
            why.push(format!(
                "the harness's CPUs were {:.0} % busy",
                busy * 100.0
            ));
        }
        if let Some(e) = publisher_error {
            why.push(format!("the publisher stopped: {e}"));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// The human table.
    pub(crate) fn print(&self) {
        let server = self.server.as_deref().unwrap_or("server");
        println!(
            "arcly-bench {} {} ({server}) — {}",
            self.scenario, self.target, self.date
        );
        println!("  source    {}", self.source);
        println!(
            "  harness   {}, {} process(es); {}",
            self.harness, self.processes, self.reading
        );
        if self.outcome.started + self.outcome.slow_joined > 0 {
            for p in &self.protocols {
                println!("  {:<9} {} players of {}", p.protocol, p.players, p.url);
                print_players(&p.outcome, p.players, self.cost.secs);
            }
        }
        if self.streams > 1 || self.scenario == "ingest" {
            let per_core = self.ingest_mbps / 1000.0 / self.cost.server_cores.max(1e-9);
            println!(
                "  ingest    {} streams, {:.1} Mbit/s published in the window{}",
                self.streams,
                self.ingest_mbps,
                if self.server_cost.is_some() {
                    format!(" ({per_core:.2} Gbit/s per server core)")
                } else {
                    String::new()
                }
            );
        }
        if let Some(s) = &self.server_cost {
            self.print_server(s);
        }
        self.print_shards();
        print_harness(
            &self.cost,
            &self.harness_lag_ms,
            self.publish_late_p99_ms,
            self.invalid.as_deref(),
        );
    }

    /// The server's shards: how many, and per shard its streams, viewers
    /// and frames out in the window; the server's CPUs if known.
    fn print_shards(&self) {
        let s = &self.server_shards;
        let cpus = self
            .server_cpus
            .as_deref()
            .map(|c| format!(" on CPUs {c}"))
            .unwrap_or_default();
        let Some(count) = s.count else {
            println!(
                "  shards    unknown on the server{cpus} ({})",
                s.unknown.as_deref().unwrap_or("not asked")
            );
            return;
        };
        println!(
            "  shards    {count} on the server{cpus} ({})",
            s.api.as_deref().unwrap_or("status API")
        );
        let secs = self.cost.secs.max(1e-9);
        for shard in &s.shards {
            println!(
                "            shard {}: {} stream(s) owned, {} mirrored, {} viewers; {} frames out in the window ({:.0}/s, {:.1} Mbit/s){}",
                shard.shard,
                shard.streams_owned,
                shard.streams_mirrored,
                shard.viewers,
                shard.frames_out,
                shard.frames_out as f64 / secs,
                shard.bytes_out as f64 * 8.0 / secs / 1e6,
                if shard.relay_drops > 0 {
                    format!(", {} relayed frames dropped", shard.relay_drops)
                } else {
                    String::new()
                }
            );
        }
    }

    fn print_server(&self, s: &ServerCost) {
        let busy = self
            .cost
            .server_cpus_busy
            .map(|b| format!(", its CPUs {:.0} % busy", b * 100.0))
            .unwrap_or_default();
        if self.scenario == "soak" {
            println!(
                "  memory    RSS {} → {} KiB over the window ({:+.0} KiB per minute)",
                s.rss_timeline_kib.first().copied().unwrap_or_default(),
                s.rss_kib,
                s.rss_growth_kib_per_min
            );
        }
        if self.players == 0 {
            println!(
                "  server    {:.2} cores; RSS {} KiB with the streams up, {} KiB at the end ({:.0} KiB per stream){busy}",
                self.cost.server_cores,
                s.idle_rss_kib,
                s.rss_kib,
                s.rss_kib as f64 / self.streams.max(1) as f64
            );
        } else {
            println!(
                "  server    {:.1} µs CPU per viewer-second ({:.2} cores), {:.1} KB RSS per viewer ({} → {} KiB, max {}){busy}",
                s.cpu_us_per_viewer_s,
                self.cost.server_cores,
                s.kib_per_viewer,
                s.idle_rss_kib,
                s.rss_kib,
                s.max_rss_kib
            );
        }
    }
}

/// The generator's own lines: how busy and how late it was, and the
/// verdict (a saturated generator makes the run invalid).
pub(crate) fn print_harness(
    cost: &WindowCost,
    lag: &Dist,
    publish_late_p99_ms: f64,
    invalid: Option<&str>,
) {
    let lag = if lag.count > 0 {
        format!("; timer lag p50 {:.2} ms, p99 {:.2} ms", lag.p50, lag.p99)
    } else {
        String::new()
    };
    println!(
        "  harness   {:.0} % of its CPUs{}{lag}; publisher late p99 {:.2} ms",
        cost.harness_share * 100.0,
        cost.harness_cpus_busy
            .map(|b| format!(", CPUs {:.0} % busy", b * 100.0))
            .unwrap_or_default(),
        publish_late_p99_ms
    );
    match invalid {
        Some(why) => println!("  verdict   INVALID: {why}"),
        None => println!("  verdict   valid"),
    }
}

/// The lines of one group of players over a window of `secs`.
fn print_players(o: &Outcome, players: usize, secs: f64) {
    println!(
        "  players   {} ok, {} failed, {} dropped (of {} started)",
        o.ok, o.failed, o.dropped, o.started
    );
    println!(
        "  join      first keyframe p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; first GOP p50 {:.0} ms, p99 {:.0} ms",
        o.join_key_ms.p50,
        o.join_key_ms.p99,
        o.join_key_ms.max,
        o.join_gop_ms.p50,
        o.join_gop_ms.p99
    );
    if o.latency_ms.count > 0 {
        println!(
            "  latency   p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} samples)",
            o.latency_ms.p50,
            o.latency_ms.p99,
            o.latency_ms.p999,
            o.latency_ms.max,
            o.latency_ms.count
        );
    }
    println!(
        "  gaps      {} frames missing, {} players with gaps",
        o.gaps, o.players_with_gaps
    );
    if o.slow_joined > 0 {
        println!(
            "  slow      {} slow players: {} let go of by the server, {} frames skipped",
            o.slow_joined, o.slow_dropped, o.slow_gaps
        );
    }
    if o.window_mbps > 0.0 {
        println!(
            "  received  {:.1} Mbit/s in the {:.0} s window ({:.1} kbit/s per player)",
            o.window_mbps,
            secs,
            o.window_mbps * 1000.0 / players.max(1) as f64
        );
    }
    for (reason, n) in &o.reasons {
        println!("  ended     {n} × {reason}");
    }
}

/// Writes `value` as pretty JSON to `path`.
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("write {}", path.display()))
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_now() -> String {
    let secs = crate::clock::wall_us() / 1_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
    }

    #[test]
    fn distributions_in_ms() {
        let mut h = crate::tally::histogram();
        for v in 1..=1000 {
            h.record(v * 1000).unwrap();
        }
        let d = Dist::of(&h, 1000.0);
        assert_eq!(d.count, 1000);
        assert!(
            (d.p50 - 500.0).abs() < 1.0 && (d.p99 - 990.0).abs() < 1.0,
            "{d:?}"
        );
        assert_eq!(Dist::of(&crate::tally::histogram(), 1.0).count, 0);
    }
}
