//! `arcly-bench compare`: the same fan-out against arcly and nginx-rtmp,
//! each started fresh for its run and pinned to the same CPU, alternating
//! (arcly, nginx-rtmp, arcly, ...), then both rows and their ratios.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;

use crate::fanout::{self, LoadArgs};
use crate::harness::HarnessArgs;
use crate::peer::{ArclyLaunch, Server};
use crate::report::{Report, write_json};
use crate::run::{Variant, measure};
use crate::source::SourceArgs;

/// Flags of `arcly-bench compare`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    load: LoadArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// The `arcly` binary to run (`cargo build --release -p arcly`).
    #[arg(long, value_name = "PATH")]
    arcly_bin: PathBuf,
    /// The CPU both servers are pinned to (arcly: --shards 1 --cpus N;
    /// nginx: one worker with worker_cpu_affinity).
    #[arg(long, default_value_t = 0)]
    cpu_server: usize,
    /// The harness's CPUs.
    #[arg(long, default_value = "1", value_name = "LIST")]
    cpu_harness: String,
    /// Runs per server, alternating.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// arcly's write batching (`[streams] write_batch_ms`): 0 writes every
    /// frame at once.
    #[arg(long, default_value_t = 0)]
    write_batch_ms: u64,
    /// RTMP port of arcly (its HTTP port is the next one).
    #[arg(long, default_value_t = 19350)]
    arcly_port: u16,
    /// RTMP port of nginx-rtmp.
    #[arg(long, default_value_t = 19360)]
    nginx_port: u16,
    /// The script that starts and stops nginx-rtmp.
    #[arg(long, value_name = "PATH", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/peer/nginx-rtmp.sh"))]
    peer_script: PathBuf,
    /// Also write every report and the ratios as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Players when `--players` is not given (as `fanout`).
const DEFAULT_PLAYERS: usize = 1000;

/// The servers compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Arcly,
    NginxRtmp,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Arcly => "arcly",
            Peer::NginxRtmp => "nginx-rtmp",
        }
    }
}

/// arcly's figures over nginx-rtmp's (means over rounds).
#[derive(Clone, Debug, Default, Serialize)]
struct Ratios {
    cpu_per_viewer_s: f64,
    rss_per_viewer: f64,
    join_p50: f64,
    join_p99: f64,
    latency_p99: f64,
}

#[derive(Serialize)]
struct Comparison<'a> {
    reports: &'a [Report],
    ratios: Ratios,
}

/// Runs the rounds, prints each report, then the comparison.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut reports = Vec::new();
    for round in 0..args.rounds.max(1) {
        for peer in [Peer::Arcly, Peer::NginxRtmp] {
            eprintln!(
                "compare: round {} of {}: {}",
                round + 1,
                args.rounds,
                peer.name()
            );
            let report = run_one(args, peer)?;
            report.print();
            reports.push(report);
        }
    }
    let ratios = ratios(&reports);
    print_summary(args, &reports, &ratios);
    if let Some(path) = &args.json {
        write_json(
            path,
            &Comparison {
                reports: &reports,
                ratios,
            },
        )?;
    }
    Ok(())
}

fn run_one(args: &Args, peer: Peer) -> anyhow::Result<Report> {
    let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let (server, port) = match peer {
        Peer::Arcly => {
            let dir = std::env::temp_dir().join(format!("arcly-bench-arcly-{}", args.arcly_port));
            let server = Server::arcly(&ArclyLaunch {
                bin: &args.arcly_bin,
                shards: 1,
                cpus: args.cpu_server.to_string(),
                rtmp: loopback(args.arcly_port),
                http: loopback(args.arcly_port + 1),
                write_batch_ms: args.write_batch_ms,
                connections: args.load.players_or(DEFAULT_PLAYERS) + 100,
                share_cpus: false,
                dir: &dir,
            })?;
            (server, args.arcly_port)
        }
        Peer::NginxRtmp => (
            Server::nginx(&args.peer_script, args.nginx_port, args.cpu_server)?,
            args.nginx_port,
        ),
    };
    // arcly reports its shards through its status API; nginx-rtmp's stay
    // unknown.
    let server_http = match peer {
        Peer::Arcly => Some(format!("http://127.0.0.1:{}", args.arcly_port + 1).parse()?),
        Peer::NginxRtmp => None,
    };
    let fanout = fanout::Args {
        target: format!("rtmp://127.0.0.1:{port}/live/bench").parse()?,
        http: None,
        http_players: 0,
        server_http,
        load: args.load.clone(),
        source: args.source.clone(),
        harness: HarnessArgs {
            shards: None,
            cpus: Some(args.cpu_harness.clone()),
        },
        server_pid: server.pids.clone(),
        server_cpus: Some(args.cpu_server.to_string()),
        json: None,
    };
    let name = match peer {
        Peer::Arcly => format!("arcly (write batching {} ms)", args.write_batch_ms),
        Peer::NginxRtmp => "nginx-rtmp".to_owned(),
    };
    let log = server.log.clone();
    let result = measure(&fanout, &Variant::fanout(), Some(&name));
    server.stop()?;
    result.map_err(|e| {
        e.context(format!(
            "{} run (server log: {})",
            peer.name(),
            log.display()
        ))
    })
}

fn mean(reports: &[Report], peer: Peer, f: impl Fn(&Report) -> f64) -> f64 {
    let values: Vec<f64> = reports
        .iter()
        .filter(|r| {
            r.server
                .as_deref()
                .is_some_and(|s| s.starts_with(peer.name()))
        })
        .map(f)
        .collect();
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn ratios(reports: &[Report]) -> Ratios {
    let ratio = |f: &dyn Fn(&Report) -> f64| {
        mean(reports, Peer::Arcly, f) / mean(reports, Peer::NginxRtmp, f)
    };
    let cost = |r: &Report, f: fn(&crate::report::ServerCost) -> f64| {
        r.server_cost.as_ref().map_or(0.0, f)
    };
    Ratios {
        cpu_per_viewer_s: ratio(&|r| cost(r, |c| c.cpu_us_per_viewer_s)),
        rss_per_viewer: ratio(&|r| cost(r, |c| c.kib_per_viewer)),
        join_p50: ratio(&|r| r.outcome.join_key_ms.p50),
        join_p99: ratio(&|r| r.outcome.join_key_ms.p99),
        latency_p99: ratio(&|r| r.outcome.latency_ms.p99),
    }
}

fn print_summary(args: &Args, reports: &[Report], ratios: &Ratios) {
    println!();
    println!(
        "compare: {} players, {} s window, server on cpu {}, harness on cpu {}",
        args.load.players_or(DEFAULT_PLAYERS),
        args.load.duration,
        args.cpu_server,
        args.cpu_harness
    );
    println!(
        "| server | CPU µs per viewer-s | KB RSS per viewer | join p50 / p99 (ms) | latency p50 / p99 / max (ms) | gaps | ok / failed / dropped | harness CPU | verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in reports {
        let o = &r.outcome;
        let (cpu, rss) = r
            .server_cost
            .as_ref()
            .map_or((0.0, 0.0), |c| (c.cpu_us_per_viewer_s, c.kib_per_viewer));
        println!(
            "| {} | {cpu:.1} | {rss:.1} | {:.1} / {:.1} | {:.2} / {:.2} / {:.1} | {} | {} / {} / {} | {:.0} % | {} |",
            r.server.as_deref().unwrap_or("?"),
            o.join_key_ms.p50,
            o.join_key_ms.p99,
            o.latency_ms.p50,
            o.latency_ms.p99,
            o.latency_ms.max,
            o.gaps,
            o.ok,
            o.failed,
            o.dropped,
            r.cost.harness_share * 100.0,
            if r.invalid.is_some() {
                "INVALID"
            } else {
                "valid"
            },
        );
    }
    println!(
        "arcly / nginx-rtmp: CPU per viewer-s {:.2}×, RSS per viewer {:.2}×, join p50 {:.2}×, join p99 {:.2}×, latency p99 {:.2}×",
        ratios.cpu_per_viewer_s,
        ratios.rss_per_viewer,
        ratios.join_p50,
        ratios.join_p99,
        ratios.latency_p99
    );
}
