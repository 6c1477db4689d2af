//! One measured run, the heart of `fanout`, `ingest`, `soak`, `compare`
//! and `shards`: publish, warm up one GOP (so a GOP cache holds a whole
//! one), read the idle server, start the players on the ramp, wait until
//! every one joined or failed, settle, then the steady window. Latency,
//! throughput and publisher lateness are recorded only inside the window;
//! the server's CPU (and, from arcly's status API, its shards' counters) is
//! read at its edges and its RSS every second.

use std::time::{Duration, Instant};

use arcly_shard::placement::parse_cpu_list;

use crate::audience::Audience;
use crate::fanout::{Args, LoadArgs};
use crate::harness::Harness;
use crate::player::{Mix, PlayerPlan, Protocol};
use crate::publisher::Publishers;
use crate::report::{Dist, Outcome, ProtocolOutcome, Report, ServerCost, utc_now};
use crate::sampler::Sampler;
use crate::source::SourceArgs;
use crate::status_api::{ServerShards, read_shards};

/// What the scenarios built on a run change.
#[derive(Clone, Debug)]
pub(crate) struct Variant {
    /// Its name in the report.
    pub(crate) scenario: &'static str,
    /// Streams published; players spread over them evenly.
    pub(crate) streams: usize,
    /// One player in this many reads at `slow_bytes_per_sec`; 0 for none.
    pub(crate) slow_every: usize,
    pub(crate) slow_bytes_per_sec: u64,
    /// Players leave this long after joining (on average) and are
    /// replaced.
    pub(crate) lifetime: Option<Duration>,
    /// Players when `--players` is not given.
    pub(crate) default_players: usize,
}

impl Variant {
    /// One stream, every player healthy and staying.
    pub(crate) fn fanout() -> Variant {
        Variant {
            scenario: "fanout",
            streams: 1,
            slow_every: 0,
            slow_bytes_per_sec: 0,
            lifetime: None,
            default_players: 1000,
        }
    }
}

/// Runs one measurement; `server` names the server in the report.
pub(crate) fn measure(
    args: &Args,
    variant: &Variant,
    server: Option<&str>,
) -> anyhow::Result<Report> {
    let load = &args.load;
    let mix = Mix {
        rtmp: load.players_or(variant.default_players),
        http_flv: args.http_players,
    };
    match &args.http {
        None => anyhow::ensure!(
            mix.http_flv == 0,
            "--http-players needs --http http://HOST:PORT/APP/STREAM.flv"
        ),
        Some(url) => {
            anyhow::ensure!(
                url.is_flv_stream(),
                "--http must name a stream: http://HOST[:PORT]/APP/STREAM.flv, not {url}"
            );
            anyhow::ensure!(
                mix.http_flv > 0,
                "--http needs --http-players N (--players counts the RTMP players)"
            );
        }
    }
    let players = mix.total();
    let local = players <= load.players_per_process;
    let sockets = variant.streams + if local { players } else { 0 };
    let harness = Harness::start(&args.harness, sockets)?;
    let harness_line = harness.describe();
    let publishers = Publishers::start(
        &harness.runtime,
        &args.target,
        variant.streams,
        &args.source,
        load.ramp_per_sec,
    )?;
    eprintln!(
        "{}: publishing {} stream(s) to {}; warming up one GOP",
        variant.scenario, variant.streams, args.target
    );
    std::thread::sleep(Duration::from_secs_f64(args.source.gop_secs + 0.5));

    let mut sampler = Sampler {
        server_pids: args.server_pid.clone(),
        server_cpus: match &args.server_cpus {
            Some(list) => parse_cpu_list(list)?,
            None => Vec::new(),
        },
        harness_pids: Vec::new(),
        harness_cpus: harness.cpus(),
    };
    let idle = sampler.sample()?;
    let shape = args.source.shape();
    let plan = PlayerPlan {
        target: args.target.clone(),
        http: args.http.clone(),
        mix,
        local_ip: None,
        stamped: publishers.stamped(),
        video_interval_us: shape.video_interval().as_micros() as u64,
        audio_interval_us: shape.audio_interval().as_micros() as u64,
        join_timeout: Duration::from_secs(load.join_timeout_secs),
        leave_after_gop: false,
        read_every: Duration::from_millis(load.read_every_ms),
        probe_every: load.probe_every(players),
        streams: variant.streams,
        slow_every: variant.slow_every,
        slow_bytes_per_sec: variant.slow_bytes_per_sec,
        lifetime: variant.lifetime,
    };
    let mut audience = Audience::start(
        &harness.runtime,
        &args.harness,
        plan,
        load.players_per_process,
        load.ramp_per_sec,
    )?;
    sampler.harness_pids = audience.pids();

    // Every player joins or fails.
    let ramp = if load.ramp_per_sec > 0.0 {
        players as f64 / load.ramp_per_sec
    } else {
        0.0
    };
    let deadline = Instant::now()
        + Duration::from_secs_f64(ramp)
        + Duration::from_secs(load.join_timeout_secs + 5);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let counts = audience.counts()?;
        eprintln!(
            "{}: {} joined, {} failed of {}",
            variant.scenario, counts.joined, counts.failed, players
        );
        anyhow::ensure!(publishers.all_publishing(), "a publisher stopped");
        if counts.settled() >= players as u64 || Instant::now() > deadline {
            break;
        }
    }
    std::thread::sleep(Duration::from_secs_f64(load.settle_secs));

    // The steady window.
    let shards_start = read_shards(args.server_http.as_ref());
    let start = sampler.sample()?;
    audience.set_measuring(true)?;
    publishers.set_measuring(true);
    let window = Duration::from_secs(load.duration);
    let began = Instant::now();
    let mut rss_timeline = vec![start.server_rss_kib];
    while began.elapsed() < window {
        std::thread::sleep((window - began.elapsed()).min(Duration::from_secs(1)));
        rss_timeline.push(sampler.sample()?.server_rss_kib);
    }
    let end = sampler.sample()?;
    let shards_end = read_shards(args.server_http.as_ref());
    audience.set_measuring(false)?;
    publishers.set_measuring(false);
    let processes = audience.processes();
    let tallies = audience.finish()?;
    let tally = tallies.all()?;
    let published = publishers.finish()?;
    harness.runtime.shutdown();
    harness.runtime.join()?;

    let cost = sampler.cost(&start, &end);
    let outcome = Outcome::of(&tally, cost.secs);
    // Under churn `ok` counts sessions; the audience never exceeds
    // `players` at once.
    let viewers = (outcome.ok + tally.slow_joined - tally.slow_dropped)
        .min(players as u64)
        .max(1) as f64;
    let server_cost = (!args.server_pid.is_empty()).then(|| ServerCost {
        pids: args.server_pid.clone(),
        idle_rss_kib: idle.server_rss_kib,
        rss_kib: end.server_rss_kib,
        max_rss_kib: rss_timeline.iter().copied().max().unwrap_or_default(),
        cpu_us_per_viewer_s: cost.server_cpu_us as f64 / viewers / cost.secs,
        kib_per_viewer: (end.server_rss_kib as f64 - idle.server_rss_kib as f64) / viewers,
        rss_growth_kib_per_min: (end.server_rss_kib as f64 - start.server_rss_kib as f64)
            / (cost.secs / 60.0),
        rss_timeline_kib: rss_timeline,
    });
    Ok(Report {
        scenario: variant.scenario,
        server: server.map(str::to_owned),
        date: utc_now(),
        target: args.target.to_string(),
        players,
        streams: variant.streams,
        source: describe_source(&args.source),
        harness: harness_line,
        processes,
        reading: describe_reading(load, mix, players),
        protocols: Protocol::ALL
            .into_iter()
            .filter(|p| mix.of(*p) > 0)
            .map(|p| ProtocolOutcome {
                protocol: p.name(),
                url: match (p, &args.http) {
                    (Protocol::HttpFlv, Some(url)) => url.to_string(),
                    _ => args.target.to_string(),
                },
                players: mix.of(p),
                outcome: Outcome::of(tallies.of(p), cost.secs),
            })
            .collect(),
        harness_lag_ms: Dist::of(&tallies.lag_us, 1000.0),
        server_cpus: args.server_cpus.clone(),
        server_shards: ServerShards::over(args.server_http.as_ref(), &shards_start, &shards_end),
        invalid: Report::judge(&cost, published.error.as_deref()),
        ingest_mbps: published.window_bytes as f64 * 8.0 / cost.secs / 1e6,
        outcome,
        cost,
        server_cost,
        published_tags: published.tags,
        publish_late_p99_ms: published.late_us.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

/// One line for how players read.
fn describe_reading(load: &LoadArgs, mix: Mix, players: usize) -> String {
    if load.read_every_ms == 0 {
        "every player reads as bytes arrive and records latency".to_owned()
    } else {
        format!(
            "players read every {} ms, except {} probes that read as bytes arrive and record latency",
            load.read_every_ms,
            // Each protocol numbers its own players, and so its probes.
            Protocol::ALL
                .into_iter()
                .map(|p| mix.of(p).div_ceil(load.probe_every(players)))
                .sum::<usize>()
        )
    }
}

/// One line for the source flags.
pub(crate) fn describe_source(source: &SourceArgs) -> String {
    match &source.source {
        Some(path) => format!("{} (looped; latency from arrival spacing)", path.display()),
        None => format!(
            "synthetic H.264 {} kbit/s at {} fps, {} s GOP, AAC {} kbit/s",
            source.bitrate_kbps, source.fps, source.gop_secs, source.audio_kbps
        ),
    }
}
