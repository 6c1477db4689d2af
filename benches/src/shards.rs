//! `arcly-bench shards`: what a second shard costs. The same fan-out runs
//! against arcly with one shard (on CPU A) and with two (on A and B: the
//! publisher lands on one, the kernel spreads viewers over both, and the
//! other shard mirrors the stream), alternating, each started fresh, with
//! the harness on CPUs of its own; then each run's CPU µs per
//! viewer-second and the ratio of two shards to one, which the target wants
//! within 10 %. arcly's status API shows where the viewers went.
//!
//! On a machine with only two CPUs both shards go on CPU A
//! (`arcly serve --shards 2 --cpus A --share-cpus`, `--server-cpus A,A`),
//! with the harness alone on the other: the figure is then what the second
//! shard's mirror, relay and mailbox cost on top of one shard, which is the
//! overhead the target bounds. With three or more CPUs each shard gets its
//! own. A harness sharing a CPU with the server measures itself:
//! `--share-harness-cpu` runs anyway to check the mechanics, and marks
//! every run invalid.

use std::net::SocketAddr;
use std::path::PathBuf;

use arcly_shard::placement::{Topology, format_cpu_list, parse_cpu_list};
use serde::Serialize;

use crate::fanout::{self, LoadArgs};
use crate::harness::HarnessArgs;
use crate::peer::{ArclyLaunch, Server};
use crate::report::{Report, write_json};
use crate::run::{Variant, measure};
use crate::source::SourceArgs;

/// The bar: two shards' CPU per viewer-second over one shard's.
const TARGET_RATIO: f64 = 1.10;

/// Players when `--players` is not given (as `fanout`).
const DEFAULT_PLAYERS: usize = 1000;

/// Flags of `arcly-bench shards`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// HTTP-FLV players too, from arcly's HTTP port, alongside the
    /// --players RTMP players.
    #[arg(long, default_value_t = 0, value_name = "N")]
    http_players: usize,
    /// The `arcly` binary to run (`cargo build --release -p arcly`).
    #[arg(long, value_name = "PATH")]
    arcly_bin: PathBuf,
    /// The server's two CPUs, A,B: one shard runs on A, two on A and B;
    /// A,A puts both shards on A [default: the first two usable CPUs, or
    /// the first one twice on a machine with only two].
    #[arg(long, value_name = "A,B")]
    server_cpus: Option<String>,
    /// The harness's CPUs [default: every usable CPU but A and B].
    #[arg(long, value_name = "LIST")]
    cpu_harness: Option<String>,
    /// Run even when the harness must share a CPU with the server (fewer
    /// than three CPUs): checks that everything works; every run is
    /// marked invalid.
    #[arg(long)]
    share_harness_cpu: bool,
    /// Runs per shard count, alternating (1 shard, 2 shards, 1 shard, ...).
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// arcly's write batching (`[streams] write_batch_ms`).
    #[arg(long, default_value_t = 0)]
    write_batch_ms: u64,
    /// RTMP port of arcly (its HTTP port is the next one).
    #[arg(long, default_value_t = 19370)]
    arcly_port: u16,
    /// Also write every report and the ratio as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Where the server's shards and the harness run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Cpus {
    /// The one-shard run's CPU, and the second shard's.
    a: usize,
    b: usize,
    harness: Vec<usize>,
    /// The harness shares a CPU with the server (the runs do not count).
    shared: Option<usize>,
}

/// Chooses the CPUs on a machine whose usable CPUs are `usable`.
fn plan_cpus(
    usable: &[usize],
    server: Option<&str>,
    harness: Option<&str>,
    share: bool,
) -> anyhow::Result<Cpus> {
    let listed = format_cpu_list(usable);
    // In the order given: A runs the one-shard server.
    let pair = server.map(|text| {
        text.split(',')
            .map(|c| c.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
    });
    let (a, b) = match pair.as_ref().map(|p| p.as_deref()) {
        Some(Ok(&[a, b])) => (a, b),
        Some(_) => anyhow::bail!("--server-cpus takes two CPUs, A,B (A,A for both shards on A)"),
        None => match *usable {
            // Two CPUs: both shards on the first, the harness on the other.
            [a, _] => (a, a),
            [a, b, ..] => (a, b),
            _ => anyhow::bail!(
                "arcly-bench shards needs two CPUs for arcly's two shards; this machine has {} usable ({listed})",
                usable.len()
            ),
        },
    };
    if let Some(cpu) = [a, b].into_iter().find(|c| !usable.contains(c)) {
        anyhow::bail!("cpu {cpu} is not usable here (usable: {listed})");
    }
    let harness = match harness {
        Some(list) => parse_cpu_list(list)?,
        None => usable
            .iter()
            .copied()
            .filter(|c| ![a, b].contains(c))
            .collect(),
    };
    let shared = harness.iter().copied().find(|c| [a, b].contains(c));
    if harness.is_empty() || shared.is_some() {
        anyhow::ensure!(
            share,
            "arcly-bench shards needs a CPU for the harness apart from the server it \
             measures; this machine has {} usable ({listed}){}. Use --server-cpus A,A to put \
             both shards on one CPU, or pass --share-harness-cpu to check the mechanics \
             (every run is then invalid).",
            usable.len(),
            match shared {
                Some(cpu) => format!(" and --cpu-harness shares cpu {cpu} with the server"),
                None => String::new(),
            }
        );
        // The second shard's CPU: the one-shard run keeps it to itself.
        let harness = if harness.is_empty() { vec![b] } else { harness };
        let shared = harness.iter().copied().find(|c| [a, b].contains(c));
        return Ok(Cpus {
            a,
            b,
            harness,
            shared,
        });
    }
    Ok(Cpus {
        a,
        b,
        harness,
        shared: None,
    })
}

/// Two shards' figures over one shard's (means over rounds).
#[derive(Clone, Debug, Serialize)]
struct Ratio {
    cpu_per_viewer_s: f64,
    /// Whether it is at most [`TARGET_RATIO`].
    within_target: bool,
}

#[derive(Serialize)]
struct Comparison<'a> {
    reports: &'a [Report],
    ratio: Ratio,
}

/// Runs the rounds, prints each report, then the comparison.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let topology = Topology::detect()?;
    let usable: Vec<usize> = topology
        .nodes
        .iter()
        .flat_map(|n| n.cpus.iter().copied())
        .collect();
    let cpus = plan_cpus(
        &usable,
        args.server_cpus.as_deref(),
        args.cpu_harness.as_deref(),
        args.share_harness_cpu,
    )?;
    let mut reports: Vec<(usize, Report)> = Vec::new();
    for round in 0..args.rounds.max(1) {
        for shards in [1, 2] {
            eprintln!(
                "shards: round {} of {}: {shards} shard(s)",
                round + 1,
                args.rounds.max(1)
            );
            let report = run_one(args, &cpus, shards)?;
            report.print();
            reports.push((shards, report));
        }
    }
    let mean = |shards: usize| {
        let values: Vec<f64> = reports
            .iter()
            .filter(|(s, _)| *s == shards)
            .filter_map(|(_, r)| r.server_cost.as_ref().map(|c| c.cpu_us_per_viewer_s))
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    };
    let cpu_per_viewer_s = mean(2) / mean(1);
    let ratio = Ratio {
        cpu_per_viewer_s,
        within_target: cpu_per_viewer_s <= TARGET_RATIO,
    };
    let reports: Vec<Report> = reports.into_iter().map(|(_, r)| r).collect();
    print_summary(args, &cpus, &reports, &ratio);
    if let Some(path) = &args.json {
        write_json(
            path,
            &Comparison {
                reports: &reports,
                ratio,
            },
        )?;
    }
    Ok(())
}

fn run_one(args: &Args, cpus: &Cpus, shards: usize) -> anyhow::Result<Report> {
    let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let server_cpus = if shards == 1 || cpus.a == cpus.b {
        cpus.a.to_string()
    } else {
        format!("{},{}", cpus.a, cpus.b)
    };
    let dir = std::env::temp_dir().join(format!("arcly-bench-shards-{}", args.arcly_port));
    let players = args.load.players_or(DEFAULT_PLAYERS) + args.http_players;
    let server = Server::arcly(&ArclyLaunch {
        bin: &args.arcly_bin,
        shards,
        cpus: server_cpus.clone(),
        rtmp: loopback(args.arcly_port),
        http: loopback(args.arcly_port + 1),
        write_batch_ms: args.write_batch_ms,
        connections: players + 100,
        share_cpus: shards > 1 && cpus.a == cpus.b,
        dir: &dir,
    })?;
    let http_root = format!("http://127.0.0.1:{}", args.arcly_port + 1);
    let fanout = fanout::Args {
        target: format!("rtmp://127.0.0.1:{}/live/bench", args.arcly_port).parse()?,
        http: (args.http_players > 0)
            .then(|| format!("{http_root}/live/bench.flv").parse())
            .transpose()?,
        http_players: args.http_players,
        server_http: Some(http_root.parse()?),
        load: args.load.clone(),
        source: args.source.clone(),
        harness: HarnessArgs {
            shards: None,
            cpus: Some(format_cpu_list(&cpus.harness)),
        },
        server_pid: server.pids.clone(),
        server_cpus: Some(server_cpus),
        json: None,
    };
    let name = format!(
        "arcly, {shards} shard(s) (write batching {} ms)",
        args.write_batch_ms
    );
    let log = server.log.clone();
    let result = measure(&fanout, &Variant::fanout(), Some(&name));
    server.stop()?;
    let mut report = result.map_err(|e| {
        e.context(format!(
            "{shards}-shard run (server log: {})",
            log.display()
        ))
    })?;
    if let Some(cpu) = cpus.shared {
        let why = format!("the harness shared cpu {cpu} with the server");
        report.invalid = Some(match report.invalid.take() {
            Some(other) => format!("{other}; {why}"),
            None => why,
        });
    }
    Ok(report)
}

fn print_summary(args: &Args, cpus: &Cpus, reports: &[Report], ratio: &Ratio) {
    println!();
    println!(
        "shards: {} RTMP + {} HTTP-FLV players, {} s window; arcly on cpu {} (1 shard) or cpus {},{} (2 shards), harness on cpus {}",
        args.load.players_or(DEFAULT_PLAYERS),
        args.http_players,
        args.load.duration,
        cpus.a,
        cpus.a,
        cpus.b,
        format_cpu_list(&cpus.harness)
    );
    println!(
        "| server | CPU µs per viewer-s | server cores | viewers per shard | frames out per shard | join p50 / p99 (ms) | latency p99 (ms) | gaps | ok / failed | verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let o = &r.outcome;
        let per_shard = |f: fn(&crate::status_api::ShardCounters) -> u64| {
            let values: Vec<String> = r
                .server_shards
                .shards
                .iter()
                .map(|s| f(s).to_string())
                .collect();
            if values.is_empty() {
                "unknown".to_owned()
            } else {
                values.join(" / ")
            }
        };
        println!(
            "| {} | {:.1} | {:.2} | {} | {} | {:.1} / {:.1} | {:.2} | {} | {} / {} | {} |",
            r.server.as_deref().unwrap_or("?"),
            r.server_cost
                .as_ref()
                .map_or(0.0, |c| c.cpu_us_per_viewer_s),
            r.cost.server_cores,
            per_shard(|s| s.viewers),
            per_shard(|s| s.frames_out),
            o.join_key_ms.p50,
            o.join_key_ms.p99,
            o.latency_ms.p99,
            o.gaps,
            o.ok,
            o.failed,
            if r.invalid.is_some() {
                "INVALID"
            } else {
                "valid"
            },
        );
    }
    let delta = (ratio.cpu_per_viewer_s - 1.0) * 100.0;
    println!(
        "2 shards / 1 shard: CPU per viewer-s {:.2}× ({delta:+.0} %); target ≤ {TARGET_RATIO:.2}×: {}",
        ratio.cpu_per_viewer_s,
        if ratio.within_target {
            "met".to_owned()
        } else {
            format!(
                "missed by {:.0} %",
                (ratio.cpu_per_viewer_s / TARGET_RATIO - 1.0) * 100.0
            )
        }
    );
    if cpus.shared.is_some() {
        println!("(the harness shared a CPU with the server: these figures do not count)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_cpus_give_the_server_two_and_the_harness_the_rest() {
        let cpus = plan_cpus(&[0, 1, 2, 3], None, None, false).unwrap();
        assert_eq!(
            cpus,
            Cpus {
                a: 0,
                b: 1,
                harness: vec![2, 3],
                shared: None
            }
        );
        let cpus = plan_cpus(&[0, 1, 2, 3], Some("3,1"), Some("0"), false).unwrap();
        assert_eq!((cpus.a, cpus.b, cpus.harness), (3, 1, vec![0]));
    }

    #[test]
    fn two_cpus_put_both_shards_on_one_and_the_harness_on_the_other() {
        let cpus = plan_cpus(&[0, 1], None, None, false).unwrap();
        assert_eq!(
            (cpus.a, cpus.b, cpus.harness, cpus.shared),
            (0, 0, vec![1], None)
        );
        let e = plan_cpus(&[0, 1, 2], None, Some("1-2"), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("shares cpu 1"), "{e}");
        let e = plan_cpus(&[0, 1], Some("0,1"), None, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--server-cpus A,A"), "{e}");
        let cpus = plan_cpus(&[0, 1], Some("0,1"), None, true).unwrap();
        assert_eq!((cpus.harness, cpus.shared), (vec![1], Some(1)));
    }

    #[test]
    fn refuses_bad_server_cpus() {
        assert!(plan_cpus(&[0, 1, 2], Some("0"), None, false).is_err());
        assert!(plan_cpus(&[0, 1, 2], Some("1,1,2"), None, false).is_err());
        assert!(plan_cpus(&[0, 1, 2], Some("0,5"), None, false).is_err());
        assert!(plan_cpus(&[0], None, None, true).is_err());
    }
}
