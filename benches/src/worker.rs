//! Players in child processes, for audiences larger than one process may
//! hold open: `fanout` and `join` start `arcly-bench worker` children, each
//! with a share of the players and a source address of its own
//! (127.0.0.2, .3, ...), and merge what they measured.
//!
//! The parent writes commands to a worker's stdin, one per line:
//! `measure` (the steady window starts), `rest` (it ends), `finish` (end
//! every player and report; also on end of input). The worker writes
//! frames to stdout — a kind byte, a little-endian u32 length, the payload:
//! `P` progress (four u64: joined, failed, dropped, left), every 200 ms,
//! then one `T` tally (see [`Tallies::encode`]: per protocol, counters then
//! histograms in hdrhistogram's V2 format; then the harness's lag).

use std::io::{self, BufRead, Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::harness::{Harness, HarnessArgs};
use crate::player::{Counts, Mix, PlayerPlan};
use crate::swarm::Swarm;
use crate::tally::Tallies;
use crate::target::{HttpUrl, Target};

/// Frame kinds.
const PROGRESS: u8 = b'P';
const TALLY: u8 = b'T';

/// How often a worker reports progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Flags of the hidden `arcly-bench worker` (set by the parent).
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// The stream to play.
    #[arg(long)]
    target: Target,
    /// The same stream as HTTP-FLV.
    #[arg(long)]
    http: Option<HttpUrl>,
    /// RTMP players in this process.
    #[arg(long)]
    players: usize,
    /// HTTP-FLV players in this process.
    #[arg(long, default_value_t = 0)]
    http_players: usize,
    /// Players started per second (0: all at once).
    #[arg(long)]
    ramp_per_sec: f64,
    /// Source address of every connection.
    #[arg(long)]
    source_ip: Option<IpAddr>,
    /// Frames carry no stamps (a replayed file).
    #[arg(long)]
    unstamped: bool,
    /// Expected video frame interval, µs.
    #[arg(long)]
    video_interval_us: u64,
    /// Expected audio frame interval, µs.
    #[arg(long)]
    audio_interval_us: u64,
    /// Seconds a player may take to get a keyframe.
    #[arg(long)]
    join_timeout_secs: u64,
    /// Leave after the first complete GOP.
    #[arg(long)]
    leave_after_gop: bool,
    /// Players that are not probes read at most every MS ms.
    #[arg(long)]
    read_every_ms: u64,
    /// One player in this many is a probe.
    #[arg(long)]
    probe_every: usize,
    /// Streams the players spread over.
    #[arg(long)]
    streams: usize,
    /// One player in this many is slow (0: none).
    #[arg(long)]
    slow_every: usize,
    /// How fast slow players read, bytes per second.
    #[arg(long)]
    slow_bytes_per_sec: u64,
    /// Churn: mean time a player stays, ms.
    #[arg(long)]
    lifetime_ms: Option<u64>,
    #[command(flatten)]
    harness: HarnessArgs,
}

/// Runs a worker: plays, reports progress, and the tally when told.
pub(crate) fn run(args: &WorkerArgs) -> anyhow::Result<()> {
    let mix = Mix {
        rtmp: args.players,
        http_flv: args.http_players,
    };
    let harness = Harness::start(&args.harness, mix.total())?;
    let plan = PlayerPlan {
        target: args.target.clone(),
        http: args.http.clone(),
        mix,
        local_ip: args.source_ip,
        stamped: !args.unstamped,
        video_interval_us: args.video_interval_us,
        audio_interval_us: args.audio_interval_us,
        join_timeout: Duration::from_secs(args.join_timeout_secs),
        leave_after_gop: args.leave_after_gop,
        read_every: Duration::from_millis(args.read_every_ms),
        probe_every: args.probe_every,
        streams: args.streams,
        slow_every: args.slow_every,
        slow_bytes_per_sec: args.slow_bytes_per_sec,
        lifetime: args.lifetime_ms.map(Duration::from_millis),
    };
    let swarm = Swarm::start(&harness.runtime, plan, args.ramp_per_sec, Instant::now());
    let (tx, commands) = mpsc::channel();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = io::stdout().lock();
    loop {
        match commands.recv_timeout(PROGRESS_EVERY) {
            Ok(command) => match command.trim() {
                "measure" => swarm.set_measuring(true),
                "rest" => swarm.set_measuring(false),
                "finish" => break,
                other => anyhow::bail!("unknown worker command {other:?}"),
            },
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let counts: Vec<u8> = swarm
            .progress()
            .counts()
            .to_array()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        write_frame(&mut out, PROGRESS, &counts)?;
    }
    let tally = swarm.finish()?;
    write_frame(&mut out, TALLY, &tally.encode()?)?;
    harness.runtime.shutdown();
    harness.runtime.join()?;
    Ok(())
}

/// Writes one frame and flushes.
fn write_frame(out: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    out.write_all(&[kind])?;
    out.write_all(&(payload.len() as u32).to_le_bytes())?;
    out.write_all(payload)?;
    out.flush()
}

/// Reads one frame; `None` at a clean end of input.
fn read_frame(input: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match input.read_exact(&mut head[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    input.read_exact(&mut head[1..])?;
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut payload = vec![0u8; len];
    input.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

/// What the parent knows of one worker.
#[derive(Debug, Default)]
struct Status {
    counts: Counts,
    tally: Option<Tallies>,
    error: Option<String>,
}

/// One child process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    status: Arc<Mutex<Status>>,
    reader: JoinHandle<()>,
}

/// The worker processes of a run.
pub(crate) struct WorkerSet {
    workers: Vec<Worker>,
}

impl WorkerSet {
    /// Starts enough workers for the plan's players at most `per_process`
    /// each, sharing the ramp and each protocol's players; worker `w`
    /// connects from 127.0.0.(2 + w) when the target is on loopback.
    pub(crate) fn spawn(
        plan: &PlayerPlan,
        per_process: usize,
        ramp_per_sec: f64,
        harness: &HarnessArgs,
    ) -> anyhow::Result<WorkerSet> {
        let count = plan.mix.total().div_ceil(per_process.max(1));
        anyhow::ensure!(count <= 250, "{count} worker processes are too many");
        let exe = std::env::current_exe().context("find arcly-bench's own executable")?;
        let mut workers = Vec::with_capacity(count);
        for (w, share) in plan.mix.split(count).into_iter().enumerate() {
            let mut command = Command::new(&exe);
            command
                .arg("worker")
                .args(["--target", &plan.target.to_string()])
                .args(["--players", &share.rtmp.to_string()])
                .args(["--http-players", &share.http_flv.to_string()])
                .args(["--ramp-per-sec", &(ramp_per_sec / count as f64).to_string()])
                .args(["--video-interval-us", &plan.video_interval_us.to_string()])
                .args(["--audio-interval-us", &plan.audio_interval_us.to_string()])
                .args([
                    "--join-timeout-secs",
                    &plan.join_timeout.as_secs().to_string(),
                ])
                .args(["--read-every-ms", &plan.read_every.as_millis().to_string()])
                .args(["--probe-every", &plan.probe_every.to_string()])
                .args(["--streams", &plan.streams.to_string()])
                .args(["--slow-every", &plan.slow_every.to_string()])
                .args(["--slow-bytes-per-sec", &plan.slow_bytes_per_sec.to_string()]);
            if let Some(http) = &plan.http {
                command.args(["--http", &http.to_string()]);
            }
            if let Some(lifetime) = plan.lifetime {
                command.args(["--lifetime-ms", &lifetime.as_millis().to_string()]);
            }
            let loopback = plan.target.addr.ip().is_loopback()
                && plan.http.as_ref().is_none_or(|h| h.addr.ip().is_loopback());
            if loopback {
                let ip = Ipv4Addr::new(127, 0, 0, 2 + w as u8);
                command.args(["--source-ip", &ip.to_string()]);
            }
            if !plan.stamped {
                command.arg("--unstamped");
            }
            if plan.leave_after_gop {
                command.arg("--leave-after-gop");
            }
            if let Some(shards) = harness.shards {
                command.args(["--shards", &shards.to_string()]);
            }
            if let Some(cpus) = &harness.cpus {
                command.args(["--cpus", cpus]);
            }
            let mut child = command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .context("start a worker process")?;
            let (stdin, mut stdout) = match (child.stdin.take(), child.stdout.take()) {
                (Some(stdin), Some(stdout)) => (stdin, stdout),
                _ => anyhow::bail!("a worker's pipes are missing"),
            };
            let status = Arc::new(Mutex::new(Status::default()));
            let reader = {
                let status = Arc::clone(&status);
                std::thread::spawn(move || read_worker(&mut stdout, &status))
            };
            workers.push(Worker {
                child,
                stdin,
                status,
                reader,
            });
        }
        Ok(WorkerSet { workers })
    }

    /// The workers' process ids.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.workers.iter().map(|w| w.child.id()).collect()
    }

    /// The sum of the workers' latest progress.
    pub(crate) fn counts(&self) -> Counts {
        self.workers
            .iter()
            .fold(Counts::default(), |sum, w| sum.plus(lock(&w.status).counts))
    }

    /// The first worker failure, if any.
    pub(crate) fn error(&self) -> Option<String> {
        self.workers
            .iter()
            .find_map(|w| lock(&w.status).error.clone())
    }

    /// Starts or ends the steady window in every worker.
    pub(crate) fn set_measuring(&mut self, on: bool) -> anyhow::Result<()> {
        let command: &[u8] = if on { b"measure\n" } else { b"rest\n" };
        for w in &mut self.workers {
            w.stdin.write_all(command).context("command a worker")?;
        }
        Ok(())
    }

    /// Ends every worker's players and merges their tallies.
    pub(crate) fn finish(self) -> anyhow::Result<Tallies> {
        let mut total = Tallies::default();
        let mut workers = self.workers;
        for w in &mut workers {
            // A worker that died already cannot take the command; its
            // missing tally says so below.
            let _ = w.stdin.write_all(b"finish\n");
        }
        for (i, mut w) in workers.into_iter().enumerate() {
            drop(w.stdin);
            let _ = w.reader.join();
            let exit = w.child.wait().context("wait for a worker")?;
            let mut status = lock(&w.status);
            let tally = status.tally.take().with_context(|| {
                format!(
                    "worker {i} exited ({exit}) without a tally{}",
                    status
                        .error
                        .as_ref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                )
            })?;
            total.merge(&tally)?;
        }
        Ok(total)
    }
}

fn lock(status: &Mutex<Status>) -> std::sync::MutexGuard<'_, Status> {
    status
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read_worker(stdout: &mut impl Read, status: &Mutex<Status>) {
    loop {
        let frame = read_frame(stdout);
        let mut status = lock(status);
        match frame {
            Ok(Some((PROGRESS, payload))) if payload.len() == 32 => {
                let mut values = [0u64; 4];
                for (v, bytes) in values.iter_mut().zip(payload.chunks_exact(8)) {
                    *v = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
                }
                status.counts = Counts::from_array(values);
            }
            Ok(Some((TALLY, payload))) => match Tallies::decode(&payload) {
                Ok(tally) => status.tally = Some(tally),
                Err(e) => status.error = Some(format!("{e:#}")),
            },
            Ok(Some((kind, _))) => {
                status.error = Some(format!("unknown frame kind {kind}"));
                return;
            }
            Ok(None) => return,
            Err(e) => {
                status.error = Some(e.to_string());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_a_pipe() {
        let mut tally = Tallies::default();
        tally.of_mut(crate::player::Protocol::HttpFlv).started = 3;
        tally.lag_us.record(1234).unwrap();
        let mut pipe = Vec::new();
        write_frame(&mut pipe, PROGRESS, &[7; 32]).unwrap();
        write_frame(&mut pipe, TALLY, &tally.encode().unwrap()).unwrap();
        let status = Mutex::new(Status::default());
        read_worker(&mut &pipe[..], &status);
        let status = status.into_inner().unwrap();
        assert_eq!(status.counts.joined, u64::from_le_bytes([7; 8]));
        assert_eq!(status.tally, Some(tally));
        assert_eq!(status.error, None);
    }

    #[test]
    fn a_cut_frame_is_an_error_and_an_empty_pipe_is_the_end() {
        assert!(read_frame(&mut &b""[..]).unwrap().is_none());
        let mut pipe = Vec::new();
        write_frame(&mut pipe, TALLY, &[1, 2, 3]).unwrap();
        assert!(read_frame(&mut &pipe[..pipe.len() - 1]).is_err());
    }
}
