//! `arcly-bench join`: players joining a live stream at a steady rate.
//! Each measures connect start → first keyframe and → the last frame of
//! its first GOP, then leaves; every join must be served.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::audience::Audience;
use crate::harness::{Harness, HarnessArgs};
use crate::player::{Mix, PlayerPlan, Protocol};
use crate::publisher::Publisher;
use crate::report::{Dist, Outcome, ProtocolOutcome, Report, utc_now, write_json};
use crate::run::describe_source;
use crate::sampler::Sampler;
use crate::source::SourceArgs;
use crate::status_api::{ServerShards, read_shards};
use crate::target::{HttpUrl, Target};

/// After its first keyframe a joiner reads at most this often, so that the
/// harness spends its time on the joins it measures and not on receiving
/// every frame of every joiner still waiting for its GOP to complete; the
/// time to the complete GOP is thus known to this resolution.
const JOINED_READ_EVERY: Duration = Duration::from_millis(100);

/// Flags of `arcly-bench join`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream, `rtmp://HOST[:PORT]/APP/STREAM`; the harness publishes it.
    #[arg(long)]
    target: Target,
    /// Joins in all.
    #[arg(long, default_value_t = 1000)]
    joins: usize,
    /// Joins started per second.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Seconds a joiner may take to get its first keyframe.
    #[arg(long, default_value_t = 15)]
    join_timeout_secs: u64,
    /// Joiners one process holds at most (see `fanout`).
    #[arg(long, default_value_t = 8000)]
    players_per_process: usize,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    harness: HarnessArgs,
    /// The server's process ids, for its CPU per join.
    #[arg(long, value_delimiter = ',', value_name = "PID")]
    server_pid: Vec<u32>,
    /// The server's HTTP root, for its shards (see `fanout`).
    #[arg(long, value_name = "URL")]
    server_http: Option<HttpUrl>,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Runs the joins and prints the report.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.rate > 0.0, "--rate must be above 0");
    let local = args.joins <= args.players_per_process;
    let harness = Harness::start(&args.harness, if local { args.joins + 1 } else { 1 })?;
    let harness_line = harness.describe();
    let source = args.source.open()?;
    let stamped = source.stamped();
    let publisher = Publisher::start(&harness.runtime, 0, args.target.clone(), source)
        .wait_publishing(Duration::from_secs(10))?;
    eprintln!("join: publishing {}; warming up one GOP", args.target);
    std::thread::sleep(Duration::from_secs_f64(args.source.gop_secs + 0.5));

    let mut sampler = Sampler {
        server_pids: args.server_pid.clone(),
        harness_cpus: harness.cpus(),
        ..Sampler::default()
    };
    let shards_start = read_shards(args.server_http.as_ref());
    let start = sampler.sample()?;
    publisher.set_measuring(true);
    let shape = args.source.shape();
    let plan = PlayerPlan {
        target: args.target.clone(),
        http: None,
        mix: Mix::rtmp(args.joins),
        local_ip: None,
        stamped,
        video_interval_us: shape.video_interval().as_micros() as u64,
        audio_interval_us: shape.audio_interval().as_micros() as u64,
        join_timeout: Duration::from_secs(args.join_timeout_secs),
        leave_after_gop: true,
        read_every: JOINED_READ_EVERY,
        probe_every: usize::MAX,
        streams: 1,
        slow_every: 0,
        slow_bytes_per_sec: 0,
        lifetime: None,
    };
    let audience = Audience::start(
        &harness.runtime,
        &args.harness,
        plan,
        args.players_per_process,
        args.rate,
    )?;
    sampler.harness_pids = audience.pids();
    // A joiner is done when it failed, or left after its first GOP (at
    // most two GOPs after its keyframe), or was dropped.
    let deadline = Instant::now()
        + Duration::from_secs_f64(args.joins as f64 / args.rate + 2.0 * args.source.gop_secs)
        + Duration::from_secs(args.join_timeout_secs + 5);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let c = audience.counts()?;
        if c.failed + c.left + c.dropped >= args.joins as u64 || Instant::now() > deadline {
            break;
        }
    }
    let end = sampler.sample()?;
    let shards_end = read_shards(args.server_http.as_ref());
    let processes = audience.processes();
    let tallies = audience.finish()?;
    let tally = tallies.of(Protocol::Rtmp);
    let published = publisher.finish()?;
    harness.runtime.shutdown();
    harness.runtime.join()?;

    let cost = sampler.cost(&start, &end);
    let report = Report {
        scenario: "join",
        server: None,
        date: utc_now(),
        target: args.target.to_string(),
        players: args.joins,
        streams: 1,
        ingest_mbps: 0.0,
        source: describe_source(&args.source),
        harness: harness_line,
        processes,
        reading: format!(
            "joiners read as bytes arrive until their first keyframe, then every {} ms",
            JOINED_READ_EVERY.as_millis()
        ),
        invalid: Report::judge(&cost, published.error.as_deref()),
        outcome: Outcome::of(tally, cost.secs),
        protocols: vec![ProtocolOutcome {
            protocol: Protocol::Rtmp.name(),
            url: args.target.to_string(),
            players: args.joins,
            outcome: Outcome::of(tally, cost.secs),
        }],
        harness_lag_ms: Dist::of(&tallies.lag_us, 1000.0),
        server_cpus: None,
        server_shards: ServerShards::over(args.server_http.as_ref(), &shards_start, &shards_end),
        server_cost: None,
        published_tags: published.tags,
        publish_late_p99_ms: published.late_us.value_at_quantile(0.99) as f64 / 1000.0,
        cost,
    };
    report.print();
    let served = report.outcome.joined;
    println!(
        "  served    {served} of {} joins at {}/s{}",
        args.joins,
        args.rate,
        if served == args.joins as u64 {
            " (every join served)"
        } else {
            " — NOT every join was served"
        }
    );
    if !args.server_pid.is_empty() {
        println!(
            "  server    {:.0} µs CPU per join",
            report.cost.server_cpu_us as f64 / args.joins as f64
        );
    }
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(())
}
