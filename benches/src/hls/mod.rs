//! `arcly-bench hls`: what arcly's HLS and LL-HLS cost and how quickly a
//! part reaches players. The harness publishes the synthetic stamped source
//! over RTMP (the fan-out publisher), waits until both playlists list
//! media, then runs two kinds of clients on its own pinned shards for a
//! settle period and the steady window:
//!
//! - LL-HLS clients ([`ll_client`]) loop like a real LL-HLS player on
//!   `ll.m3u8`: blocking reload for the next part, then `GET` that part.
//! - Segment clients ([`segment_client`]) `GET` the newest complete
//!   segment of `index.m3u8` back to back, re-reading the playlist every
//!   target duration.
//!
//! What each figure includes (all on loopback; the harness and the server
//! share one clock):
//!
//! - **ready, end to end**: from the send time stamped into the part's last
//!   video frame (the wall clock read just before the publisher encodes the
//!   frame into RTMP and writes it) to the harness reading the first byte
//!   of the blocking reload's answer that lists the part. It holds the
//!   publisher's write and loopback TCP, arcly's RTMP read and demux, the
//!   hop to the stream's owner shard, the packager publishing the part (on
//!   the frame that completes it), rendering the playlist for each waiting
//!   request, the HTTP write, loopback TCP, and the harness waking up to
//!   read. The two targets (last frame ingested → part servable;
//!   part servable → blocking answer) are each a piece of it, so a p99
//!   within 10 ms here meets both; the split between them is not visible
//!   from outside (`fanout --http-players` measures the same path without
//!   packaging). Every waiting client is answered when the part is out, one
//!   after another, so the p99 includes that fan-out. A client that fell
//!   behind (the part was already out when it asked) measures its own
//!   delay as well; those answers are counted as "behind".
//! - **blocking wait**: reload sent → first byte of its answer: how long
//!   the server held the request (with the round trip), which is spread
//!   over a part duration when clients ask just after the previous part.
//! - **part GET**: part request sent → its last byte.
//! - **segment requests/s**: segment `GET`s answered `200` in the window
//!   over its length; per server core two ways: with `--server-pid`, over
//!   the process's CPU time (everything the server did counted: ingest,
//!   packaging and the LL-HLS clients too; run with `--ll-clients 0` for
//!   segments alone), which leaves out the loopback TCP work the kernel
//!   does in softirqs; with `--server-cpus`, over the busy time of the CPUs
//!   the server is pinned to, softirqs included (and anything else that ran
//!   there).
//!
//! The run is invalid when the harness's CPUs were saturated (its clients
//! then measure the harness) or the publisher stopped; the harness's timer
//! lag says how much a busy harness delayed its own reads.

mod http;
mod ll_client;
mod part;
mod playlist;
mod report;
mod segment_client;
mod swarm;
mod tally;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use arcly_shard::ShardCtx;
use arcly_shard::placement::parse_cpu_list;

use self::http::HttpClient;
use self::playlist::MediaPlaylist;
use self::report::HlsReport;
use self::swarm::{ClientPlan, Clients};
use crate::harness::{Harness, HarnessArgs};
use crate::publisher::Publisher;
use crate::report::{Dist, Report, utc_now, write_json};
use crate::run::describe_source;
use crate::sampler::Sampler;
use crate::source::SourceArgs;
use crate::target::{HttpUrl, Target};

/// How long the server may take to accept the publisher.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Beyond two GOPs, how long both playlists may take to list media.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Flags of `arcly-bench hls`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The stream, `rtmp://HOST[:PORT]/APP/STREAM`; the harness publishes
    /// it.
    #[arg(long)]
    target: Target,
    /// The server's HTTP root, `http://HOST[:PORT]`: the stream's playlists
    /// are `/APP/STREAM/ll.m3u8` and `/APP/STREAM/index.m3u8` under it.
    #[arg(long, value_name = "URL")]
    http: HttpUrl,
    /// LL-HLS clients (blocking reload, then the part).
    #[arg(long, default_value_t = 50, value_name = "N")]
    ll_clients: usize,
    /// Segment clients (the newest MPEG-TS segment, back to back).
    #[arg(long, default_value_t = 20, value_name = "M")]
    segment_clients: usize,
    /// Seconds of the steady window.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds between starting the clients and the steady window.
    #[arg(long, default_value_t = 2.0)]
    settle_secs: f64,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    harness: HarnessArgs,
    /// The server's process ids (comma-separated), for its CPU and segment
    /// requests per core.
    #[arg(long, value_delimiter = ',', value_name = "PID")]
    server_pid: Vec<u32>,
    /// The server's CPUs, to report how busy they were (softirqs included).
    #[arg(long, value_name = "LIST")]
    server_cpus: Option<String>,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Runs the measurement and prints the report.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let report = measure(args)?;
    report.print();
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(())
}

fn measure(args: &Args) -> anyhow::Result<HlsReport> {
    anyhow::ensure!(
        args.source.source.is_none(),
        "hls measures parts by the synthetic source's stamps; --source is not supported"
    );
    anyhow::ensure!(
        args.ll_clients + args.segment_clients > 0,
        "no clients: give --ll-clients or --segment-clients"
    );
    let base = stream_dir(&args.target);
    let plan = ClientPlan {
        addr: args.http.addr,
        host: args.http.host.clone(),
        base: base.clone(),
        ll_clients: args.ll_clients,
        segment_clients: args.segment_clients,
    };
    let harness = Harness::start(&args.harness, 1 + args.ll_clients + args.segment_clients)?;
    let harness_line = harness.describe();
    let publisher = Publisher::start(
        &harness.runtime,
        0,
        args.target.clone(),
        args.source.open()?,
    )
    .wait_publishing(PUBLISH_TIMEOUT)?;
    eprintln!(
        "hls: publishing {}; waiting for {base}ll.m3u8 and index.m3u8 to list media",
        args.target
    );
    let limit = READY_TIMEOUT + Duration::from_secs_f64(args.source.gop_secs * 2.0);
    let (target_duration_s, part_target_us) = harness
        .runtime
        .spawn_on(0, {
            let plan = plan.clone();
            move |ctx: ShardCtx| async move { wait_for_media(ctx, &plan, limit).await }
        })
        .join()?
        .map_err(anyhow::Error::msg)?;

    let sampler = Sampler {
        server_pids: args.server_pid.clone(),
        server_cpus: match &args.server_cpus {
            Some(list) => parse_cpu_list(list)?,
            None => Vec::new(),
        },
        harness_pids: Vec::new(),
        harness_cpus: harness.cpus(),
    };
    let clients = Clients::start(&harness.runtime, plan);
    eprintln!(
        "hls: {} LL-HLS and {} segment clients started; settling {} s",
        args.ll_clients, args.segment_clients, args.settle_secs
    );
    std::thread::sleep(Duration::from_secs_f64(args.settle_secs));

    // The steady window.
    let start = sampler.sample()?;
    clients.set_measuring(true);
    publisher.set_measuring(true);
    let window = Duration::from_secs(args.duration);
    let began = Instant::now();
    while began.elapsed() < window && publisher.is_publishing() {
        std::thread::sleep((window - began.elapsed()).min(Duration::from_secs(1)));
    }
    let end = sampler.sample()?;
    clients.set_measuring(false);
    publisher.set_measuring(false);
    let tally = clients.finish()?;
    let published = publisher.finish()?;
    harness.runtime.shutdown();
    harness.runtime.join()?;

    let cost = sampler.cost(&start, &end);
    let (ll, segments) = HlsReport::outcomes(
        &tally,
        args.ll_clients,
        args.segment_clients,
        &cost,
        !args.server_pid.is_empty(),
        sampler.server_cpus.len(),
    );
    let url = |name: &str| args.http.at(&format!("{base}{name}")).to_string();
    Ok(HlsReport {
        scenario: "hls",
        date: utc_now(),
        target: args.target.to_string(),
        ll_playlist: url("ll.m3u8"),
        ts_playlist: url("index.m3u8"),
        target_duration_s,
        part_target_ms: part_target_us.map(|us| us as f64 / 1000.0),
        source: describe_source(&args.source),
        harness: harness_line,
        ll,
        segments,
        server_pids: args.server_pid.clone(),
        server_cpus: args.server_cpus.clone(),
        invalid: Report::judge(&cost, published.error.as_deref()),
        harness_lag_ms: Dist::of(&tally.lag_us, 1000.0),
        cost,
        published_tags: published.tags,
        publish_late_p99_ms: published.late_us.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

/// The stream's directory on the HTTP side, `/APP/STREAM/`, from the RTMP
/// target (its query string, a publish token, left out).
fn stream_dir(target: &Target) -> String {
    let app = target.tc_url.rsplit('/').next().unwrap_or_default();
    let stream = target.stream.split('?').next().unwrap_or_default();
    format!("/{app}/{stream}/")
}

/// Polls both playlists until `ll.m3u8` lists a part and `index.m3u8` a
/// segment; their target duration (s) and part target (µs).
async fn wait_for_media(
    ctx: ShardCtx,
    plan: &ClientPlan,
    limit: Duration,
) -> Result<(u64, Option<u64>), String> {
    let deadline = Instant::now() + limit;
    let mut client = HttpClient::new(ctx.clone(), plan.addr, plan.host.clone());
    let mut last = String::from("nothing asked yet");
    while Instant::now() < deadline {
        let ll = read_playlist(&mut client, &format!("{}ll.m3u8", plan.base)).await;
        let ts = read_playlist(&mut client, &format!("{}index.m3u8", plan.base)).await;
        match (ll, ts) {
            (Ok(ll), Ok(ts)) if ll.newest_part().is_some() && ts.newest_segment().is_some() => {
                return Ok((ts.target_duration, ll.part_target_us));
            }
            (Ok(_), Ok(_)) => last = "no part or no segment listed yet".to_owned(),
            (Err(e), _) | (_, Err(e)) => last = e,
        }
        ctx.sleep(Duration::from_millis(200)).await;
    }
    Err(format!(
        "the playlists listed no media within {limit:?} ({last})"
    ))
}

async fn read_playlist(client: &mut HttpClient, path: &str) -> Result<MediaPlaylist, String> {
    let answer = client
        .get(path, true, Duration::from_secs(5))
        .await
        .map_err(|e| format!("GET {path}: {}", e.label()))?;
    if answer.status != 200 {
        return Err(format!("GET {path}: {} {}", answer.status, answer.reason));
    }
    let text = std::str::from_utf8(&answer.body).map_err(|_| format!("{path}: not UTF-8"))?;
    MediaPlaylist::parse(text).map_err(|e| format!("{path}: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_directory_comes_from_the_target() {
        let t: Target = "rtmp://127.0.0.1:19750/live/h?token=x".parse().unwrap();
        assert_eq!(stream_dir(&t), "/live/h/");
    }
}
