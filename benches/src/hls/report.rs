//! What `arcly-bench hls` prints: a table for people and JSON for trend
//! files, with the shared [`Dist`], verdict and JSON writer.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tally::{HlsTally, LlTally, SegmentTally};
use crate::report::{Dist, print_harness};
use crate::sampler::WindowCost;

/// The target for both LL-HLS delays, ms.
pub(crate) const READY_TARGET_MS: f64 = 10.0;

/// What the LL-HLS clients saw.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct LlOutcome {
    pub(crate) clients: usize,
    pub(crate) reloads: u64,
    pub(crate) parts: u64,
    pub(crate) parts_per_s: f64,
    pub(crate) part_mbps: f64,
    /// Send time of a part's last video frame → first byte of the blocking
    /// reload's answer, ms.
    pub(crate) ready_ms: Dist,
    /// Whether `ready_ms.p99` is within [`READY_TARGET_MS`].
    pub(crate) ready_target_met: Option<bool>,
    /// Blocking reload sent → first byte of its answer, ms.
    pub(crate) wait_ms: Dist,
    /// Part `GET` sent → its last byte, ms.
    pub(crate) fetch_ms: Dist,
    pub(crate) behind: u64,
    pub(crate) resyncs: u64,
    pub(crate) gaps: u64,
    pub(crate) errors: BTreeMap<String, u64>,
}

impl LlOutcome {
    pub(crate) fn of(t: &LlTally, clients: usize, secs: f64) -> LlOutcome {
        let ready_ms = Dist::of(&t.ready_us, 1000.0);
        LlOutcome {
            clients,
            reloads: t.reloads,
            parts: t.parts,
            parts_per_s: t.parts as f64 / secs,
            part_mbps: t.part_bytes as f64 * 8.0 / secs / 1e6,
            ready_target_met: (ready_ms.count > 0).then_some(ready_ms.p99 <= READY_TARGET_MS),
            ready_ms,
            wait_ms: Dist::of(&t.wait_us, 1000.0),
            fetch_ms: Dist::of(&t.fetch_us, 1000.0),
            behind: t.behind,
            resyncs: t.resyncs,
            gaps: t.gaps,
            errors: t.errors.clone(),
        }
    }
}

/// What the segment clients saw.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SegmentOutcome {
    pub(crate) clients: usize,
    pub(crate) requests: u64,
    pub(crate) requests_per_s: f64,
    pub(crate) bytes: u64,
    pub(crate) mbps: f64,
    /// Segment `GET` sent → its last byte, ms.
    pub(crate) response_ms: Dist,
    pub(crate) playlists: u64,
    /// Segment requests per second over the server's cores used in the
    /// window (with `--server-pid`): its process CPU time, which counts all
    /// it did (ingest and LL-HLS clients included) but not the kernel's
    /// loopback work done in softirqs on its behalf.
    pub(crate) requests_per_s_per_core: Option<f64>,
    /// Segment requests per second over the server's CPUs' busy time (with
    /// `--server-cpus`): everything that ran on them, softirqs included —
    /// the figure for a server pinned to CPUs of its own.
    pub(crate) requests_per_s_per_busy_cpu: Option<f64>,
    pub(crate) errors: BTreeMap<String, u64>,
}

impl SegmentOutcome {
    pub(crate) fn of(
        t: &SegmentTally,
        clients: usize,
        secs: f64,
        server_cores: Option<f64>,
        server_busy_cpus: Option<f64>,
    ) -> SegmentOutcome {
        let requests_per_s = t.requests as f64 / secs;
        SegmentOutcome {
            clients,
            requests: t.requests,
            requests_per_s,
            bytes: t.bytes,
            mbps: t.bytes as f64 * 8.0 / secs / 1e6,
            response_ms: Dist::of(&t.response_us, 1000.0),
            playlists: t.playlists,
            requests_per_s_per_core: server_cores
                .filter(|c| *c > 0.0)
                .map(|c| requests_per_s / c),
            requests_per_s_per_busy_cpu: server_busy_cpus
                .filter(|c| *c > 0.0)
                .map(|c| requests_per_s / c),
            errors: t.errors.clone(),
        }
    }
}

/// One run of `arcly-bench hls`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct HlsReport {
    pub(crate) scenario: &'static str,
    pub(crate) date: String,
    /// Where the harness publishes, and the two playlists.
    pub(crate) target: String,
    pub(crate) ll_playlist: String,
    pub(crate) ts_playlist: String,
    /// `EXT-X-TARGETDURATION`, s, and the part target, ms, when the run
    /// started.
    pub(crate) target_duration_s: u64,
    pub(crate) part_target_ms: Option<f64>,
    pub(crate) source: String,
    pub(crate) harness: String,
    pub(crate) ll: LlOutcome,
    pub(crate) segments: SegmentOutcome,
    pub(crate) server_pids: Vec<u32>,
    pub(crate) server_cpus: Option<String>,
    pub(crate) cost: WindowCost,
    /// How late the harness woke from a 5 ms sleep in the window, ms.
    pub(crate) harness_lag_ms: Dist,
    pub(crate) published_tags: u64,
    pub(crate) publish_late_p99_ms: f64,
    /// Why the run does not count, if it does not.
    pub(crate) invalid: Option<String>,
}

impl HlsReport {
    /// The outcomes of a tally over the window `cost`; `with_server` when
    /// the server's processes were sampled, `server_cpus` how many CPUs it
    /// is pinned to (0 when not known).
    pub(crate) fn outcomes(
        tally: &HlsTally,
        ll_clients: usize,
        segment_clients: usize,
        cost: &WindowCost,
        with_server: bool,
        server_cpus: usize,
    ) -> (LlOutcome, SegmentOutcome) {
        let secs = cost.secs.max(1e-9);
        (
            LlOutcome::of(&tally.ll, ll_clients, secs),
            SegmentOutcome::of(
                &tally.segments,
                segment_clients,
                secs,
                with_server.then_some(cost.server_cores),
                cost.server_cpus_busy
                    .filter(|_| server_cpus > 0)
                    .map(|busy| busy * server_cpus as f64),
            ),
        )
    }

    /// The human table.
    pub(crate) fn print(&self) {
        println!(
            "arcly-bench {} {} — {}",
            self.scenario, self.target, self.date
        );
        println!("  source    {}", self.source);
        println!(
            "  harness   {}; {} LL-HLS clients, {} segment clients",
            self.harness, self.ll.clients, self.segments.clients
        );
        println!(
            "  stream    segments of {} s{}",
            self.target_duration_s,
            self.part_target_ms
                .map(|p| format!(", parts of {p:.0} ms"))
                .unwrap_or_default()
        );
        let secs = self.cost.secs;
        if self.ll.clients > 0 {
            self.print_ll(secs);
        }
        if self.segments.clients > 0 {
            self.print_segments(secs);
        }
        if !self.server_pids.is_empty() || self.cost.server_cpus_busy.is_some() {
            let cores = if self.server_pids.is_empty() {
                String::new()
            } else {
                format!("{:.2} cores of process CPU time", self.cost.server_cores)
            };
            let busy = self
                .cost
                .server_cpus_busy
                .zip(self.server_cpus.as_deref())
                .map(|(b, cpus)| format!("CPU(s) {cpus} {:.0} % busy", b * 100.0));
            let sep = if cores.is_empty() || busy.is_none() {
                ""
            } else {
                ", its "
            };
            println!("  server    {cores}{sep}{}", busy.unwrap_or_default());
            let s = &self.segments;
            if s.clients > 0 {
                let per = [
                    s.requests_per_s_per_core
                        .map(|r| format!("{r:.0} per core of process CPU time")),
                    s.requests_per_s_per_busy_cpu
                        .map(|r| format!("{r:.0} per busy server CPU (softirqs included)")),
                ];
                let per: Vec<String> = per.into_iter().flatten().collect();
                println!("            segment requests/s: {}", per.join(", "));
            }
        }
        for (what, n) in &self.ll.errors {
            println!("  errors    {n} × ll-hls {what}");
        }
        for (what, n) in &self.segments.errors {
            println!("  errors    {n} × segments {what}");
        }
        print_harness(
            &self.cost,
            &self.harness_lag_ms,
            self.publish_late_p99_ms,
            self.invalid.as_deref(),
        );
    }

    fn print_ll(&self, secs: f64) {
        let ll = &self.ll;
        println!("  ll-hls    {}", self.ll_playlist);
        println!(
            "            {} parts in the {secs:.0} s window ({:.0}/s, {:.2} Mbit/s) after {} blocking reloads; \
             {} answered behind, {} resyncs, {} video frames missing",
            ll.parts, ll.parts_per_s, ll.part_mbps, ll.reloads, ll.behind, ll.resyncs, ll.gaps
        );
        if self.segments.clients > 0 {
            println!(
                "            (measured alongside {} segment clients running flat out; \
                 --segment-clients 0 measures LL-HLS alone)",
                self.segments.clients
            );
        }
        let verdict = match ll.ready_target_met {
            Some(true) => format!(" (target p99 ≤ {READY_TARGET_MS} ms: met)"),
            Some(false) => format!(" (target p99 ≤ {READY_TARGET_MS} ms: missed)"),
            None => String::new(),
        };
        println!(
            "  ready     last frame sent → reload answered: {}{verdict}",
            dist(&ll.ready_ms)
        );
        println!(
            "            (publisher → RTMP → ingest → packager → blocking answer → harness, on loopback)"
        );
        println!("  blocking  reload sent → answered: {}", dist(&ll.wait_ms));
        println!("  part      GET sent → last byte: {}", dist(&ll.fetch_ms));
    }

    fn print_segments(&self, secs: f64) {
        let s = &self.segments;
        println!("  segments  {}", self.ts_playlist);
        println!(
            "            {} requests in the {secs:.0} s window ({:.1}/s, {:.1} Mbit/s), {} playlist reads",
            s.requests, s.requests_per_s, s.mbps, s.playlists
        );
        println!("            GET sent → last byte: {}", dist(&s.response_ms));
    }
}

/// `p50 …, p99 …, max … ms (n samples)`.
fn dist(d: &Dist) -> String {
    if d.count == 0 {
        return "no samples".to_owned();
    }
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} samples)",
        d.p50, d.p99, d.p999, d.max, d.count
    )
}
