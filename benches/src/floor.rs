//! `arcly-bench floor`: what the Linux kernel alone charges a server for
//! sending live media to viewers over loopback TCP — no RTMP, no server,
//! just `write` — so a target for a server's CPU per viewer-second can be
//! set against the kernel's own cost.
//!
//! One sender thread, pinned, writes to N loopback connections on a fixed
//! tick: one video frame (and the audio due with it) per write at batch 0,
//! or all media of a window per write with `--batch-ms`. Receivers on
//! another CPU read rarely, so the sender is never woken by them. On
//! loopback the receive path (TCP input, queueing to the reader's socket)
//! runs in softirq on the sender's CPU, inside its `write`, and is part of
//! the floor. Whether the kernel charges that softirq time to the sender
//! thread depends on `CONFIG_IRQ_TIME_ACCOUNTING`: without it (tick
//! accounting) it is in the thread's time; with it, it is not, and only the
//! sender CPU's busy share and softirq share show it, which is why both
//! are printed.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::procfs;
use crate::report::{Dist, utc_now, write_json};
use crate::tally::histogram;

/// AAC: 1,024 samples per frame at 44.1 kHz, about 43 frames a second.
const AAC_SAMPLE_RATE: u64 = 44_100;
const AAC_FRAME_SAMPLES: u64 = 1_024;

/// `/proc` CPU times are in `USER_HZ`, 100 on every Linux arcly runs on.
const USER_HZ: u64 = 100;

/// How long the receivers may take to read the last bytes after the sender
/// stopped.
const FINAL_DRAIN: Duration = Duration::from_secs(2);

/// Flags of `arcly-bench floor`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Loopback TCP connections, one per viewer.
    #[arg(long, default_value_t = 1000)]
    viewers: usize,
    /// Video frames per second.
    #[arg(long, default_value_t = 25)]
    fps: u64,
    /// Bytes per video frame (1,000 at 25 fps: 200 kbit/s).
    #[arg(long, default_value_t = 1000)]
    frame_bytes: u64,
    /// Bytes per AAC frame, about 43 frames a second (93: 32 kbit/s; 0: no
    /// audio).
    #[arg(long, default_value_t = 93)]
    audio_bytes: u64,
    /// Seconds of the measured window.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of sending before the window.
    #[arg(long, default_value_t = 2.0)]
    settle_secs: f64,
    /// Write batching: 0 writes each video frame (with the audio due with
    /// it) on its own; MS writes all media of every MS ms at once.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    batch_ms: u64,
    /// The CPU of the sender thread.
    #[arg(long, default_value_t = 0)]
    cpu_sender: usize,
    /// The CPU of the receiver thread.
    #[arg(long, default_value_t = 1)]
    cpu_receiver: usize,
    /// Receivers read every MS ms, taking all that arrived (as the
    /// harness's players do), so the sender never wakes them per frame.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    read_every_ms: u64,
    /// Leave Nagle's algorithm on for the sending ends (no `TCP_NODELAY`),
    /// as nginx-rtmp does: the kernel then holds a small write while
    /// earlier bytes are unacknowledged and sends them together.
    #[arg(long)]
    nagle: bool,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// What is written on each tick: the media whose timestamps have come due
/// since the last one. Tick `k` is at `k` × the tick length after the
/// start, and carries every frame stamped at or before it not sent yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Schedule {
    fps: u64,
    frame_bytes: u64,
    audio_bytes: u64,
    /// 0: a tick per video frame.
    batch_ms: u64,
}

impl Schedule {
    /// A tick lasts `num / den` seconds, exactly.
    fn tick_fraction(&self) -> (u128, u128) {
        if self.batch_ms == 0 {
            (1, u128::from(self.fps))
        } else {
            (u128::from(self.batch_ms), 1000)
        }
    }

    /// When tick `k` is due, after the start.
    fn tick_at(&self, k: u64) -> Duration {
        let (num, den) = self.tick_fraction();
        Duration::from_nanos((u128::from(k) * num * 1_000_000_000 / den) as u64)
    }

    /// The first tick at or after `secs`.
    fn first_tick_at(&self, secs: f64) -> u64 {
        let (num, den) = self.tick_fraction();
        (secs * den as f64 / num as f64).ceil() as u64
    }

    /// Video and audio frames stamped at or before tick `k`.
    fn frames_by(&self, k: u64) -> (u64, u64) {
        let (num, den) = self.tick_fraction();
        let elapsed = u128::from(k) * num;
        let video = elapsed * u128::from(self.fps) / den + 1;
        let audio =
            elapsed * u128::from(AAC_SAMPLE_RATE) / (den * u128::from(AAC_FRAME_SAMPLES)) + 1;
        (video as u64, audio as u64)
    }

    /// Bytes written to each viewer on tick `k` (0: no write).
    fn due(&self, k: u64) -> u64 {
        let (video, audio) = self.frames_by(k);
        let (video_before, audio_before) = match k.checked_sub(1) {
            Some(previous) => self.frames_by(previous),
            None => (0, 0),
        };
        (video - video_before) * self.frame_bytes + (audio - audio_before) * self.audio_bytes
    }

    /// Media bytes per second per viewer.
    fn bytes_per_sec(&self) -> f64 {
        self.fps as f64 * self.frame_bytes as f64
            + AAC_SAMPLE_RATE as f64 / AAC_FRAME_SAMPLES as f64 * self.audio_bytes as f64
    }
}

/// What one run measured.
#[derive(Clone, Debug, Serialize)]
struct FloorReport {
    scenario: &'static str,
    date: String,
    viewers: usize,
    fps: u64,
    frame_bytes: u64,
    audio_bytes: u64,
    batch_ms: u64,
    cpu_sender: usize,
    cpu_receiver: usize,
    read_every_ms: u64,
    /// Length of the window, s (a whole number of ticks).
    window_secs: f64,
    /// Media per viewer, kbit/s.
    kbit_per_viewer: f64,
    /// `write` calls in the window (ticks with bytes due × viewers).
    writes: u64,
    writes_per_viewer_s: f64,
    /// The sender thread's run time in the window (`schedstat`, ns exact),
    /// µs per viewer-second and per write.
    sender_us_per_viewer_s: f64,
    sender_us_per_write: f64,
    /// The same from utime + stime (`stat`, sampled at the scheduler tick,
    /// what the harness's `--server-pid` CPU reads).
    sender_ticks_us_per_viewer_s: f64,
    /// Share of the sender CPU busy in the window (softirqs and anything
    /// else on it included), 0..=1, and that as µs per viewer-second.
    sender_cpu_busy: f64,
    sender_cpu_busy_us_per_viewer_s: f64,
    /// Share of the sender CPU spent in softirq, 0..=1.
    sender_cpu_softirq: f64,
    /// How late the sender woke for its ticks, ms.
    tick_late_ms: Dist,
    /// Wall time of one tick's writes to every viewer, ms.
    tick_burst_ms: Dist,
    /// Nagle's algorithm was on for the senders (`--nagle`).
    nagle: bool,
    /// Receiver passes that found a viewer missing bytes the sender had
    /// finished writing, and the most bytes one was missing (with Nagle,
    /// bytes the kernel held for an acknowledgement).
    receivers_behind: u64,
    max_behind_bytes: u64,
    /// Bytes written and read over the whole run.
    bytes_sent: u64,
    bytes_read: u64,
    /// Why the run does not count, if it does not.
    invalid: Option<String>,
}

/// Opens the connections, sends for settle + duration, prints the cost.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.viewers > 0, "--viewers must be at least 1");
    anyhow::ensure!(args.fps > 0, "--fps must be at least 1");
    anyhow::ensure!(args.duration > 0, "--duration must be at least 1 s");
    let limit = procfs::open_files_limit()?;
    let needed = 2 * args.viewers as u64 + 32;
    anyhow::ensure!(
        limit >= needed,
        "{} viewers need {needed} open files and the limit is {limit}: raise it with `ulimit -n {needed}`",
        args.viewers
    );
    if args.cpu_sender == args.cpu_receiver {
        eprintln!("note: sender and receivers share CPU {}", args.cpu_sender);
    }
    let schedule = Schedule {
        fps: args.fps,
        frame_bytes: args.frame_bytes,
        audio_bytes: args.audio_bytes,
        batch_ms: args.batch_ms,
    };
    let allowed = core_affinity::get_core_ids().unwrap_or_default();
    for cpu in [args.cpu_sender, args.cpu_receiver] {
        anyhow::ensure!(
            allowed.iter().any(|c| c.id == cpu),
            "CPU {cpu} is not one this process may run on"
        );
    }
    let window = Window {
        first: schedule.first_tick_at(args.settle_secs.max(0.0)),
        end: schedule.first_tick_at(args.settle_secs.max(0.0) + args.duration as f64),
    };
    let (mut senders, mut receivers) = connect(args.viewers, !args.nagle)?;
    let shared = Shared::default();
    let every = Duration::from_millis(args.read_every_ms);
    // Scoped, so the connections outlive both threads: a receiver never
    // sees the sender close before it has read everything.
    let (sent, received) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let receiver = std::thread::Builder::new()
            .name("floor-receiver".into())
            .spawn_scoped(scope, || {
                receive(&mut receivers, args.cpu_receiver, every, &shared)
            })
            .context("spawn the receiver thread")?;
        let sender = std::thread::Builder::new()
            .name("floor-sender".into())
            .spawn_scoped(scope, || {
                send(&mut senders, args.cpu_sender, schedule, window, &shared)
            });
        let sent = match sender {
            Ok(sender) => sender.join().expect("the sender thread does not panic"),
            Err(e) => Err(e).context("spawn the sender thread"),
        };
        shared.stop.store(true, Ordering::Release);
        let received = receiver.join().expect("the receiver thread does not panic");
        Ok((sent?, received?))
    })?;

    let report = FloorReport::of(args, &schedule, &sent, &received);
    report.print();
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(())
}

/// `n` loopback connections: the accepted ends (the server's, with
/// `TCP_NODELAY` if `nodelay`, as arcly sets it) and the connecting ends
/// (the viewers', non-blocking).
fn connect(n: usize, nodelay: bool) -> anyhow::Result<(Vec<TcpStream>, Vec<TcpStream>)> {
    let listener = TcpListener::bind("127.0.0.1:0").context("listen on 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let mut senders = Vec::with_capacity(n);
    let mut receivers = Vec::with_capacity(n);
    for i in 0..n {
        let viewer = TcpStream::connect(addr).with_context(|| format!("connect viewer {i}"))?;
        let (server, _) = listener
            .accept()
            .with_context(|| format!("accept viewer {i}"))?;
        server.set_nodelay(nodelay)?;
        viewer.set_nonblocking(true)?;
        senders.push(server);
        receivers.push(viewer);
    }
    Ok((senders, receivers))
}

/// What the sender and receiver threads share.
#[derive(Debug, Default)]
struct Shared {
    /// Bytes per viewer of every tick whose writes all returned.
    sent_per_viewer: AtomicU64,
    /// Set by the sender while its window lasts.
    in_window: AtomicBool,
    /// The sender is done; drain and stop.
    stop: AtomicBool,
}

/// Ticks `first..end` are measured.
#[derive(Clone, Copy, Debug)]
struct Window {
    first: u64,
    end: u64,
}

/// What the sender measured.
#[derive(Debug)]
struct Sent {
    window_secs: f64,
    writes: u64,
    run_time: Duration,
    ticks_time: Duration,
    cpu: CpuDelta,
    late_us: Histogram<u64>,
    burst_us: Histogram<u64>,
    bytes: u64,
}

/// The sender thread: pinned, one `write_all` per viewer per tick with
/// bytes due, until the window ends.
fn send(
    streams: &mut [TcpStream],
    cpu: usize,
    schedule: Schedule,
    window: Window,
    shared: &Shared,
) -> anyhow::Result<Sent> {
    pin(cpu)?;
    let mut payload = Vec::new();
    let mut late_us = histogram();
    let mut burst_us = histogram();
    let (mut writes, mut per_viewer) = (0u64, 0u64);
    let mut at_start = None;
    let start = Instant::now();
    for k in 0..=window.end {
        let deadline = start + schedule.tick_at(k);
        if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let woke = Instant::now();
        if k == window.first {
            at_start = Some(ThreadCpu::read(cpu)?);
            shared.in_window.store(true, Ordering::Relaxed);
        }
        if k == window.end {
            break;
        }
        let due = schedule.due(k) as usize;
        if due > 0 {
            payload.resize(due, 0x5a);
            for (i, stream) in streams.iter_mut().enumerate() {
                stream
                    .write_all(&payload[..due])
                    .with_context(|| format!("write {due} bytes to viewer {i}"))?;
            }
            per_viewer += due as u64;
            shared.sent_per_viewer.store(per_viewer, Ordering::Release);
        }
        if k >= window.first {
            late_us.saturating_record(micros(woke.saturating_duration_since(deadline)));
            burst_us.saturating_record(micros(woke.elapsed()));
            if due > 0 {
                writes += streams.len() as u64;
            }
        }
    }
    let at_end = ThreadCpu::read(cpu)?;
    shared.in_window.store(false, Ordering::Relaxed);
    let at_start = at_start.context("the window has no tick")?;
    Ok(Sent {
        window_secs: (schedule.tick_at(window.end) - schedule.tick_at(window.first)).as_secs_f64(),
        writes,
        run_time: at_end.run_time.saturating_sub(at_start.run_time),
        ticks_time: at_end.ticks_time.saturating_sub(at_start.ticks_time),
        cpu: at_end.cpu.since(&at_start.cpu),
        late_us,
        burst_us,
        bytes: per_viewer * streams.len() as u64,
    })
}

/// What the receivers saw.
#[derive(Debug, Default)]
struct Received {
    bytes: u64,
    behind: u64,
    max_behind_bytes: u64,
}

/// The receiver thread: pinned, reads every viewer until it would block,
/// every `every`; after the sender stops, drains what is left.
fn receive(
    streams: &mut [TcpStream],
    cpu: usize,
    every: Duration,
    shared: &Shared,
) -> anyhow::Result<Received> {
    pin(cpu)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut read = vec![0u64; streams.len()];
    let mut received = Received::default();
    let mut next = Instant::now();
    let mut stopped_at = None;
    loop {
        let stopping = shared.stop.load(Ordering::Acquire);
        let sent = shared.sent_per_viewer.load(Ordering::Acquire);
        let in_window = shared.in_window.load(Ordering::Relaxed);
        for (i, stream) in streams.iter_mut().enumerate() {
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => anyhow::bail!("viewer {i}: the sender closed the connection"),
                    Ok(n) => read[i] += n as u64,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e).with_context(|| format!("read viewer {i}")),
                }
            }
            // Loopback delivers within the sender's write, so bytes of a
            // finished tick that are not readable sit in the sender's
            // buffer: this viewer's window was full.
            let behind = sent.saturating_sub(read[i]);
            if in_window && behind > 0 {
                received.behind += 1;
                received.max_behind_bytes = received.max_behind_bytes.max(behind);
            }
        }
        if stopping {
            let stopped_at = *stopped_at.get_or_insert_with(Instant::now);
            if read.iter().all(|&r| r >= sent) || stopped_at.elapsed() > FINAL_DRAIN {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        next += every;
        match next.checked_duration_since(Instant::now()) {
            Some(wait) => std::thread::sleep(wait),
            None => next = Instant::now(),
        }
    }
    received.bytes = read.iter().sum();
    Ok(received)
}

fn pin(cpu: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        core_affinity::set_for_current(core_affinity::CoreId { id: cpu }),
        "cannot pin a thread to CPU {cpu} (not in this process's CPU mask?)"
    );
    Ok(())
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The calling thread's CPU time and its CPU's counters, read together.
#[derive(Clone, Copy, Debug)]
struct ThreadCpu {
    /// `schedstat`: run time, ns exact.
    run_time: Duration,
    /// `stat`: utime + stime, sampled at the scheduler tick.
    ticks_time: Duration,
    cpu: CpuTicks,
}

impl ThreadCpu {
    fn read(cpu: usize) -> anyhow::Result<ThreadCpu> {
        let schedstat = read_proc("/proc/thread-self/schedstat")?;
        let stat = read_proc("/proc/thread-self/stat")?;
        let proc_stat = read_proc("/proc/stat")?;
        Ok(ThreadCpu {
            run_time: parse_schedstat(&schedstat).context("parse /proc/thread-self/schedstat")?,
            ticks_time: parse_task_ticks(&stat)
                .map(|t| Duration::from_micros(t * 1_000_000 / USER_HZ))
                .context("parse /proc/thread-self/stat")?,
            cpu: parse_cpu_ticks(&proc_stat, cpu)
                .with_context(|| format!("no cpu{cpu} in /proc/stat"))?,
        })
    }
}

fn read_proc(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("read {path}"))
}

/// One CPU's counters from `/proc/stat`, in `USER_HZ` ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct CpuTicks {
    /// Everything but idle and iowait.
    busy: u64,
    softirq: u64,
    total: u64,
}

/// The change of a CPU's counters over the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct CpuDelta(CpuTicks);

impl CpuTicks {
    fn since(&self, earlier: &CpuTicks) -> CpuDelta {
        CpuDelta(CpuTicks {
            busy: self.busy.saturating_sub(earlier.busy),
            softirq: self.softirq.saturating_sub(earlier.softirq),
            total: self.total.saturating_sub(earlier.total),
        })
    }
}

impl CpuDelta {
    fn share(&self, part: u64) -> f64 {
        part as f64 / self.0.total.max(1) as f64
    }
}

/// The `cpuN` line of `/proc/stat`: user nice system idle iowait irq
/// softirq steal (guest time is already in user).
fn parse_cpu_ticks(proc_stat: &str, cpu: usize) -> Option<CpuTicks> {
    let name = format!("cpu{cpu}");
    let line = proc_stat
        .lines()
        .find(|l| l.split_ascii_whitespace().next() == Some(name.as_str()))?;
    let values: Vec<u64> = line
        .split_ascii_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = values.iter().sum();
    let idle = values.get(3)? + values.get(4)?;
    Some(CpuTicks {
        busy: total - idle,
        softirq: *values.get(6)?,
        total,
    })
}

/// utime + stime (fields 14 and 15) of a task's `stat`, counted after the
/// last `)` since the name may hold spaces and parentheses.
fn parse_task_ticks(stat: &str) -> Option<u64> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_ascii_whitespace();
    let utime: u64 = fields.nth(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The run time (first field, ns) of a task's `schedstat`.
fn parse_schedstat(schedstat: &str) -> Option<Duration> {
    let ns = schedstat.split_ascii_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

impl FloorReport {
    fn of(args: &Args, schedule: &Schedule, sent: &Sent, received: &Received) -> FloorReport {
        let viewer_secs = (args.viewers as f64 * sent.window_secs).max(1e-9);
        let per_viewer_s = |d: Duration| d.as_secs_f64() * 1e6 / viewer_secs;
        let busy = sent.cpu.share(sent.cpu.0.busy);
        let tick_late_ms = Dist::of(&sent.late_us, 1000.0);
        let mut report = FloorReport {
            scenario: "floor",
            date: utc_now(),
            viewers: args.viewers,
            fps: args.fps,
            frame_bytes: args.frame_bytes,
            audio_bytes: args.audio_bytes,
            batch_ms: args.batch_ms,
            cpu_sender: args.cpu_sender,
            cpu_receiver: args.cpu_receiver,
            read_every_ms: args.read_every_ms,
            window_secs: sent.window_secs,
            kbit_per_viewer: schedule.bytes_per_sec() * 8.0 / 1000.0,
            writes: sent.writes,
            writes_per_viewer_s: sent.writes as f64 / viewer_secs,
            sender_us_per_viewer_s: per_viewer_s(sent.run_time),
            sender_us_per_write: sent.run_time.as_secs_f64() * 1e6 / sent.writes.max(1) as f64,
            sender_ticks_us_per_viewer_s: per_viewer_s(sent.ticks_time),
            sender_cpu_busy: busy,
            sender_cpu_busy_us_per_viewer_s: busy * 1e6 / args.viewers as f64,
            sender_cpu_softirq: sent.cpu.share(sent.cpu.0.softirq),
            tick_late_ms,
            tick_burst_ms: Dist::of(&sent.burst_us, 1000.0),
            nagle: args.nagle,
            receivers_behind: received.behind,
            max_behind_bytes: received.max_behind_bytes,
            bytes_sent: sent.bytes,
            bytes_read: received.bytes,
            invalid: None,
        };
        report.invalid = report.judge(schedule);
        report
    }

    /// Invalid when the sender did not keep up with its ticks, or a
    /// receiver fell behind (without Nagle, which holds bytes on purpose),
    /// or bytes went missing.
    fn judge(&self, schedule: &Schedule) -> Option<String> {
        let mut why = Vec::new();
        let tick_ms = schedule.tick_at(1).as_secs_f64() * 1000.0;
        if self.tick_late_ms.p99 > tick_ms {
            why.push(format!(
                "the sender fell behind its {tick_ms:.0} ms ticks (late p99 {:.1} ms)",
                self.tick_late_ms.p99
            ));
        }
        if self.receivers_behind > 0 && !self.nagle {
            why.push(format!(
                "receivers fell behind {} times (up to {} bytes)",
                self.receivers_behind, self.max_behind_bytes
            ));
        }
        if self.bytes_read != self.bytes_sent {
            why.push(format!(
                "{} bytes sent, {} read",
                self.bytes_sent, self.bytes_read
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// The human table.
    fn print(&self) {
        println!(
            "arcly-bench floor (loopback TCP, no server) — {}",
            self.date
        );
        let batching = if self.batch_ms == 0 {
            "batch 0: a write per video frame".to_owned()
        } else {
            format!(
                "batch {} ms: a write per {} ms",
                self.batch_ms, self.batch_ms
            )
        };
        println!(
            "  load      {} viewers × {} fps, {} B video + {} B audio ({:.0} kbit/s per viewer); {batching}",
            self.viewers, self.fps, self.frame_bytes, self.audio_bytes, self.kbit_per_viewer
        );
        let nagle = if self.nagle {
            "Nagle on (no TCP_NODELAY)"
        } else {
            "TCP_NODELAY"
        };
        println!(
            "  pinning   sender on CPU {}, receivers on CPU {} reading every {} ms; {nagle}",
            self.cpu_sender, self.cpu_receiver, self.read_every_ms
        );
        println!(
            "  writes    {:.2} per viewer-second ({} in the {:.1} s window)",
            self.writes_per_viewer_s, self.writes, self.window_secs
        );
        println!(
            "  sender    {:.1} µs CPU per viewer-second, {:.2} µs per write (run time); {:.1} µs per viewer-second by utime + stime",
            self.sender_us_per_viewer_s,
            self.sender_us_per_write,
            self.sender_ticks_us_per_viewer_s
        );
        println!(
            "  cpu {:<5} {:.0} % busy ({:.1} µs per viewer-second), {:.0} % in softirq",
            self.cpu_sender,
            self.sender_cpu_busy * 100.0,
            self.sender_cpu_busy_us_per_viewer_s,
            self.sender_cpu_softirq * 100.0
        );
        let (late, burst) = (&self.tick_late_ms, &self.tick_burst_ms);
        println!(
            "  ticks     {} late p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; writes to all viewers p50 {:.2} ms, p99 {:.2} ms",
            late.count, late.p50, late.p99, late.max, burst.p50, burst.p99
        );
        println!(
            "  received  {} of {} bytes; {} reads found a viewer behind (max {} bytes)",
            self.bytes_read, self.bytes_sent, self.receivers_behind, self.max_behind_bytes
        );
        match &self.invalid {
            Some(why) => println!("  verdict   INVALID: {why}"),
            None => println!("  verdict   valid"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(batch_ms: u64) -> Schedule {
        Schedule {
            fps: 25,
            frame_bytes: 1000,
            audio_bytes: 93,
            batch_ms,
        }
    }

    #[test]
    fn batch_0_writes_one_video_frame_and_the_audio_due_with_it() {
        let s = schedule(0);
        assert_eq!(s.tick_at(1), Duration::from_millis(40));
        // Tick 0 carries video 0 and audio 0; then audio frames (23.2 ms)
        // come one or two per 40 ms tick.
        assert_eq!(s.due(0), 1000 + 93);
        for k in 1..250 {
            let audio = (s.due(k) - 1000) / 93;
            assert!((1..=2).contains(&audio), "tick {k}: {audio} audio frames");
            assert_eq!((s.due(k) - 1000) % 93, 0);
        }
        // Audio at 40 ms: frames at 0 and 23.2 ms are due; at 80 ms: 46.4
        // and 69.7 ms.
        assert_eq!(s.due(1), 1000 + 93);
        assert_eq!(s.due(2), 1000 + 2 * 93);
    }

    #[test]
    fn a_batch_window_carries_all_media_stamped_in_it() {
        let s = schedule(350);
        assert_eq!(s.tick_at(2), Duration::from_millis(700));
        // 350 ms holds 8.75 video frames (40 ms) and 15.07 audio (23.2 ms).
        for k in 1..100 {
            let due = s.due(k);
            let video = (8..=9).find(|v| due >= v * 1000 && (due - v * 1000).is_multiple_of(93));
            let video = video.unwrap_or_else(|| panic!("tick {k}: {due} bytes"));
            assert!((15..=16).contains(&((due - video * 1000) / 93)), "tick {k}");
        }
    }

    #[test]
    fn batching_changes_the_writes_not_the_bytes() {
        // 7 s: 175 ticks of 40 ms or 20 of 350 ms, the same media.
        let total = |s: Schedule, ticks: u64| (0..=ticks).map(|k| s.due(k)).sum::<u64>();
        let unbatched = total(schedule(0), 175);
        assert_eq!(unbatched, total(schedule(350), 20));
        assert_eq!(unbatched, 176 * 1000 + (7 * 44_100 / 1024 + 1) * 93);
        let writes = |s: Schedule, ticks: u64| (0..=ticks).filter(|&k| s.due(k) > 0).count();
        assert_eq!(writes(schedule(0), 175), 176);
        assert_eq!(writes(schedule(350), 20), 21);
    }

    #[test]
    fn short_batches_skip_ticks_with_nothing_due() {
        let s = Schedule {
            audio_bytes: 0,
            ..schedule(10)
        };
        let due: Vec<u64> = (0..9).map(|k| s.due(k)).collect();
        assert_eq!(due, [1000, 0, 0, 0, 1000, 0, 0, 0, 1000]);
    }

    #[test]
    fn the_window_starts_on_a_whole_tick() {
        assert_eq!(schedule(0).first_tick_at(2.0), 50);
        assert_eq!(schedule(350).first_tick_at(2.0), 6);
        let thirty = Schedule {
            fps: 30,
            ..schedule(0)
        };
        assert_eq!(thirty.first_tick_at(1.0), 30);
        assert_eq!(thirty.tick_at(30), Duration::from_secs(1));
        // 200 kbit/s of video and 32.04 kbit/s of audio.
        assert!((schedule(0).bytes_per_sec() * 8.0 - 232_041.4).abs() < 0.1);
    }

    #[test]
    fn reads_thread_times_and_a_cpu_line() {
        let stat = "77 (floor (send)) R 1 2 3 0 -1 4194624 1 0 0 0 713 288 0 0 20 0 1 0 5";
        assert_eq!(parse_task_ticks(stat), Some(713 + 288));
        assert_eq!(
            parse_schedstat("123456789 2000 31\n"),
            Some(Duration::from_nanos(123_456_789))
        );
        let proc_stat =
            "cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 30 0 10 50 10 0 20 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\n";
        assert_eq!(
            parse_cpu_ticks(proc_stat, 0),
            Some(CpuTicks {
                busy: 60,
                softirq: 20,
                total: 120
            })
        );
        assert_eq!(parse_cpu_ticks(proc_stat, 1).map(|c| c.total), Some(3));
        assert_eq!(parse_cpu_ticks(proc_stat, 2), None);
    }

    #[test]
    fn reads_this_thread() {
        // The kernel updates a running thread's run time at the scheduler
        // tick, so spin past a few ticks first.
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(spin.elapsed());
        }
        let now = ThreadCpu::read(0).unwrap();
        assert!(now.run_time > Duration::ZERO);
        assert!(now.cpu.total > 0);
    }
}
