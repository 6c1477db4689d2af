//! One player: connects, plays the target, and measures what arrives —
//! join time, delivery latency, gaps, frames and bytes. It parses only what
//! it measures: the RTMP session hands over whole frames, and of a frame
//! only the stamp at its start is read.

use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arcly_engine::{MediaFrame, TrackKind};
use arcly_protocols::rtmp::{ClientEvent, ClientRole};
use arcly_shard::ShardCtx;
use futures_lite::future;

use crate::client::{RtmpClient, describe};
use crate::clock::wall_us;
use crate::source::stamp_of;
use crate::tally::Tally;
use crate::target::Target;

/// What every player of a swarm does.
#[derive(Clone, Debug)]
pub(crate) struct PlayerPlan {
    /// The stream.
    pub(crate) target: Target,
    /// Source address of every connection; the kernel's choice if `None`.
    pub(crate) local_ip: Option<IpAddr>,
    /// Whether frames carry stamps; if not, latency comes from arrival
    /// spacing (see [`Watch`]).
    pub(crate) stamped: bool,
    /// The expected interval between video and between audio frames, for
    /// the coordinated-omission correction, µs.
    pub(crate) video_interval_us: u64,
    pub(crate) audio_interval_us: u64,
    /// A player without a keyframe this long after it started fails.
    pub(crate) join_timeout: Duration,
    /// Leave once the first GOP is complete (the join scenario); such
    /// players pace their reads (by their role) from the first keyframe.
    pub(crate) leave_after_gop: bool,
    /// After its first GOP, a player that is not a probe reads at most this
    /// often, taking everything that arrived meanwhile in one read (zero:
    /// every player reads as soon as bytes arrive). Reading in bulk keeps
    /// the harness's cost per frame low enough for thousands of players
    /// per core.
    pub(crate) read_every: Duration,
    /// One player in this many is a probe: it always reads as soon as bytes
    /// arrive, and only probes record latency when `read_every` is set.
    pub(crate) probe_every: usize,
    /// Streams the players spread over: player `i` plays stream
    /// `target-(i % streams)` (see [`Target::numbered`]); with 1, `target`.
    pub(crate) streams: usize,
    /// One player in this many (never a probe) is slow: after its first
    /// GOP it reads at `slow_bytes_per_sec`; 0 for none.
    pub(crate) slow_every: usize,
    /// How fast slow players read, bytes per second.
    pub(crate) slow_bytes_per_sec: u64,
    /// Churn: players leave about this long after joining (spread evenly
    /// over 0.5× to 1.5×) and are replaced; `None`: they stay.
    pub(crate) lifetime: Option<Duration>,
}

/// How a player reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Reads as soon as bytes arrive and records latency.
    Probe,
    /// Reads at most every `read_every`.
    Bulk,
    /// Reads at `slow_bytes_per_sec`, below the stream's rate.
    Slow,
}

impl PlayerPlan {
    /// The role of player `index` (in its process).
    pub(crate) fn role(&self, index: usize) -> Role {
        if self.read_every.is_zero() || index.is_multiple_of(self.probe_every.max(1)) {
            Role::Probe
        } else if self.slow_every > 0 && index % self.slow_every == self.slow_every - 1 {
            Role::Slow
        } else {
            Role::Bulk
        }
    }

    /// The stream player `index` plays.
    pub(crate) fn target_for(&self, index: usize) -> Target {
        if self.streams > 1 {
            self.target.numbered(index % self.streams)
        } else {
            self.target.clone()
        }
    }

    /// How long player `index` stays after joining, under churn.
    fn lifetime_of(&self, index: usize) -> Option<Duration> {
        // The fractional parts of i·φ spread evenly over [0, 1).
        let spread = (index as f64 * 0.618_033_988_749_895).fract();
        self.lifetime.map(|l| l.mul_f64(0.5 + spread))
    }
}

/// Live counts every player updates and the orchestrating thread reads.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Players that received a keyframe.
    pub(crate) joined: AtomicU64,
    /// Players that never did.
    pub(crate) failed: AtomicU64,
    /// Joined players the server let go of before the end.
    pub(crate) dropped: AtomicU64,
    /// Players that left after their first GOP (join scenario).
    pub(crate) left: AtomicU64,
    /// Set during the steady window: latency and window counters record.
    pub(crate) measuring: AtomicBool,
}

impl Progress {
    /// The counts now.
    pub(crate) fn counts(&self) -> Counts {
        Counts {
            joined: self.joined.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            left: self.left.load(Ordering::Relaxed),
        }
    }
}

/// A reading of [`Progress`]; sums over processes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) joined: u64,
    pub(crate) failed: u64,
    pub(crate) dropped: u64,
    pub(crate) left: u64,
}

impl Counts {
    /// Players done joining, one way or the other.
    pub(crate) fn settled(&self) -> u64 {
        self.joined + self.failed
    }

    /// As four numbers (for a pipe).
    pub(crate) fn to_array(self) -> [u64; 4] {
        [self.joined, self.failed, self.dropped, self.left]
    }

    /// From [`Counts::to_array`].
    pub(crate) fn from_array([joined, failed, dropped, left]: [u64; 4]) -> Counts {
        Counts {
            joined,
            failed,
            dropped,
            left,
        }
    }

    /// The sum of two readings.
    pub(crate) fn plus(self, other: Counts) -> Counts {
        Counts {
            joined: self.joined + other.joined,
            failed: self.failed + other.failed,
            dropped: self.dropped + other.dropped,
            left: self.left + other.left,
        }
    }
}

/// Where a player is; kept outside its task so that it survives the task
/// being cancelled at the end of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlayerState {
    Joining,
    Joined,
    Failed,
    Dropped,
    Left,
}

/// A player's outcome, read after its task is gone.
#[derive(Debug)]
pub(crate) struct PlayerRecord {
    pub(crate) role: Role,
    /// When the session started.
    pub(crate) started: Instant,
    pub(crate) state: Cell<PlayerState>,
    pub(crate) gaps: Cell<u64>,
}

impl PlayerRecord {
    /// A player about to start.
    pub(crate) fn new(role: Role) -> PlayerRecord {
        PlayerRecord {
            role,
            started: Instant::now(),
            state: Cell::new(PlayerState::Joining),
            gaps: Cell::new(0),
        }
    }
}

/// Player `index` plays until the server lets go, its time is up (the join
/// scenario, churn), or the task is cancelled; it reads as its
/// [`Role`] says.
pub(crate) async fn play(
    ctx: ShardCtx,
    plan: &PlayerPlan,
    index: usize,
    progress: &Progress,
    tally: &RefCell<Tally>,
    record: &PlayerRecord,
) {
    let role = record.role;
    let target = plan.target_for(index);
    let mut watch = Watch::new(plan, role == Role::Probe, Instant::now(), wall_us());
    let joining = async {
        let mut client =
            RtmpClient::connect(&ctx, &target, ClientRole::Play, plan.local_ip).await?;
        client.start().await?;
        while !watch.joined() {
            if let Some(end) = drain(&mut client, &mut watch, progress, tally, record) {
                anyhow::bail!("{end}");
            }
            if watch.joined() {
                break;
            }
            anyhow::ensure!(client.read().await? > 0, "the server closed the connection");
            client.flush().await?;
        }
        Ok(client)
    };
    let timeout = async {
        ctx.sleep(plan.join_timeout).await;
        Err(anyhow::anyhow!(
            "no keyframe within {}s",
            plan.join_timeout.as_secs()
        ))
    };
    let mut client = match future::or(joining, timeout).await {
        Ok(client) => client,
        Err(e) => {
            record.state.set(PlayerState::Failed);
            progress.failed.fetch_add(1, Ordering::Relaxed);
            tally.borrow_mut().note(format!("join: {e:#}"));
            return;
        }
    };
    let joined = Instant::now();
    let lifetime = plan.lifetime_of(index);
    let mut last_read = (Instant::now(), 0);
    let end = loop {
        if let Some(end) = drain(&mut client, &mut watch, progress, tally, record) {
            break end;
        }
        let time_up = lifetime.is_some_and(|l| joined.elapsed() >= l);
        if time_up || plan.leave_after_gop && watch.gop_complete {
            record.state.set(PlayerState::Left);
            progress.left.fetch_add(1, Ordering::Relaxed);
            client.close().await;
            return;
        }
        // Joiners that leave after their GOP pace their reads from the
        // first keyframe on; everyone else once the first GOP is in.
        if watch.gop_complete || plan.leave_after_gop {
            let pause = match role {
                Role::Probe => Duration::ZERO,
                Role::Bulk => plan.read_every,
                Role::Slow => Duration::from_secs_f64(
                    last_read.1 as f64 / plan.slow_bytes_per_sec.max(1) as f64,
                ),
            };
            let wait = pause.saturating_sub(last_read.0.elapsed());
            if !wait.is_zero() {
                ctx.sleep(wait).await;
            }
        }
        let started = Instant::now();
        match client.read().await {
            Ok(0) => break "the server closed the connection".to_owned(),
            Ok(n) => last_read = (started, n),
            Err(e) => break format!("{e:#}"),
        }
        if let Err(e) = client.flush().await {
            break format!("{e:#}");
        }
    };
    record.state.set(PlayerState::Dropped);
    progress.dropped.fetch_add(1, Ordering::Relaxed);
    tally.borrow_mut().note(format!("after join: {end}"));
}

/// Takes the session's events after a read; `Some(reason)` if the session
/// is over.
fn drain(
    client: &mut RtmpClient,
    watch: &mut Watch,
    progress: &Progress,
    tally: &RefCell<Tally>,
    record: &PlayerRecord,
) -> Option<String> {
    let now = Instant::now();
    let wall = wall_us();
    let measuring = progress.measuring.load(Ordering::Relaxed);
    while let Some(event) = client.next_event() {
        match event {
            ClientEvent::Frame(frame) => {
                let was_joined = watch.joined();
                watch.on_frame(
                    &frame,
                    now,
                    wall,
                    measuring,
                    &mut tally.borrow_mut(),
                    record,
                );
                if !was_joined && watch.joined() {
                    record.state.set(PlayerState::Joined);
                    progress.joined.fetch_add(1, Ordering::Relaxed);
                }
            }
            ClientEvent::StreamEnded => return Some("the stream ended".to_owned()),
            ClientEvent::Closed { reason } => return Some(describe(&reason)),
            ClientEvent::Status(info) if info.level == "error" => return Some(info.code),
            _ => {}
        }
    }
    None
}

/// A player's measurements as frames arrive.
///
/// Latency: with stamps, receive wall clock − the stamp's send time. Without
/// (a replayed file), the spacing of arrivals: (receive − dts) minus the
/// smallest such offset the player has seen, i.e. the delay beyond its
/// quickest frame. Either is recorded only in the steady window, only by
/// probes, and only for live frames: a joiner's GOP, sent before it
/// connected (or, without stamps, its first GOP), is join time, not
/// delivery latency. Samples are corrected for coordinated omission at the
/// track's frame interval.
#[derive(Debug)]
struct Watch {
    stamped: bool,
    probe: bool,
    intervals: [u64; 2],
    started: Instant,
    /// Wall clock at `started`, µs since the UNIX epoch.
    started_wall_us: u64,
    keyframes: u64,
    last_video: Option<Instant>,
    gop_complete: bool,
    /// Next expected sequence number, per track (video, audio).
    next_seq: [Option<u64>; 2],
    /// Smallest (receive − dts) seen, µs (unstamped sources).
    min_offset_us: Option<i64>,
}

impl Watch {
    fn new(plan: &PlayerPlan, probe: bool, started: Instant, started_wall_us: u64) -> Watch {
        Watch {
            stamped: plan.stamped,
            probe,
            intervals: [plan.video_interval_us, plan.audio_interval_us],
            started,
            started_wall_us,
            keyframes: 0,
            last_video: None,
            gop_complete: false,
            next_seq: [None, None],
            min_offset_us: None,
        }
    }

    fn joined(&self) -> bool {
        self.keyframes > 0
    }

    fn on_frame(
        &mut self,
        frame: &MediaFrame,
        now: Instant,
        wall_us: u64,
        measuring: bool,
        tally: &mut Tally,
        record: &PlayerRecord,
    ) {
        let track = match frame.track() {
            _ if frame.is_config() => return,
            TrackKind::Video => 0,
            TrackKind::Audio => 1,
            TrackKind::Data => return,
        };
        let len = frame.len() as u64;
        tally.frames += 1;
        tally.bytes += len;
        if measuring {
            tally.window_frames += 1;
            tally.window_bytes += len;
        }
        if track == 0 {
            if frame.is_keyframe() {
                self.keyframes += 1;
                let since_start = |t: Instant| t.duration_since(self.started).as_micros() as u64;
                if self.keyframes == 1 {
                    tally.join_key_us.saturating_record(since_start(now));
                } else if self.keyframes == 2 {
                    let last = self.last_video.unwrap_or(now);
                    tally.join_gop_us.saturating_record(since_start(last));
                    self.gop_complete = true;
                }
            }
            self.last_video = Some(now);
        }
        let interval = self.intervals[track];
        let (latency, live) = if self.stamped {
            let Some(stamp) = stamp_of(frame) else {
                return;
            };
            let expected = self.next_seq[track].unwrap_or(stamp.seq);
            if stamp.seq > expected {
                record.gaps.set(record.gaps.get() + stamp.seq - expected);
            }
            self.next_seq[track] = Some(expected.max(stamp.seq + 1));
            (
                wall_us.saturating_sub(stamp.sent_us),
                stamp.sent_us >= self.started_wall_us,
            )
        } else {
            let offset = wall_us as i64 - frame.dts.as_micros();
            let min = *self.min_offset_us.get_or_insert(offset);
            let min = min.min(offset);
            self.min_offset_us = Some(min);
            ((offset - min) as u64, self.gop_complete)
        };
        if measuring && self.probe && live {
            let _ = tally
                .latency_us
                .record_correct(latency.min(3_600_000_000), interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use arcly_media::flv::FlvTag;

    use super::*;
    use crate::source::{Shape, Synthetic};

    fn plan(stamped: bool) -> PlayerPlan {
        PlayerPlan {
            target: "rtmp://127.0.0.1:1/live/x".parse().unwrap(),
            local_ip: None,
            stamped,
            video_interval_us: 40_000,
            audio_interval_us: 23_219,
            join_timeout: Duration::from_secs(10),
            leave_after_gop: false,
            read_every: Duration::ZERO,
            probe_every: 1,
            streams: 1,
            slow_every: 0,
            slow_bytes_per_sec: 0,
            lifetime: None,
        }
    }

    /// The frames of `secs` of the standard synthetic stream, as a player
    /// decodes them, stamped as sent at `sent_us(due)`.
    fn stream(secs: u64, sent_us: impl Fn(Duration) -> u64) -> Vec<MediaFrame> {
        let mut source = Synthetic::new(Shape {
            bitrate_kbps: 200,
            fps: 25.0,
            gop_secs: 2.0,
            audio_kbps: 32,
        })
        .unwrap();
        let mut frames = Vec::new();
        while source.next_due().0 < Duration::from_secs(secs) {
            let frame = source.take(sent_us(source.next_due().0));
            let tag = FlvTag::from_frame(&frame).unwrap();
            frames.push(tag.decode_frame().unwrap().unwrap());
        }
        frames
    }

    #[test]
    fn measures_join_gop_latency_and_gaps() {
        let t0 = Instant::now();
        let base = 1_000_000_000u64;
        let frames = stream(5, |due| base + due.as_micros() as u64);
        let mut watch = Watch::new(&plan(true), true, t0, 0);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        let mut dropped = 0;
        for (i, frame) in frames.iter().enumerate() {
            // Lose video frames 10 and 11 and one audio frame.
            if frame.track() == TrackKind::Video && matches!(stamp_of(frame).unwrap().seq, 10 | 11)
                || frame.track() == TrackKind::Audio && stamp_of(frame).unwrap().seq == 30
            {
                dropped += 1;
                continue;
            }
            // Every frame arrives 5 ms after it was sent.
            let sent = stamp_of(frame).unwrap().sent_us;
            let at = t0 + Duration::from_micros(sent - base);
            watch.on_frame(frame, at, sent + 5_000, i > 10, &mut tally, &record);
        }
        assert_eq!(dropped, 3);
        assert_eq!(record.gaps.get(), 3);
        assert!(watch.gop_complete);
        assert_eq!(tally.join_key_us.max(), 0);
        // The last video frame of the first GOP is frame 49, at 1.96 s.
        let gop = tally.join_gop_us.max();
        assert!((1_959_000..=1_961_000).contains(&gop), "{gop}");
        let latency = &tally.latency_us;
        assert!(
            latency.equivalent(latency.min(), 5_000) && latency.equivalent(latency.max(), 5_000)
        );
        assert_eq!(tally.frames as usize, frames.len() - 3);
    }

    #[test]
    fn roles_are_spread_evenly_and_everyone_probes_when_reading_at_once() {
        let mut plan = plan(true);
        assert!((0..10).all(|i| plan.role(i) == Role::Probe));
        plan.read_every = Duration::from_millis(100);
        plan.probe_every = 4;
        plan.slow_every = 3;
        let roles: Vec<Role> = (0..9).map(|i| plan.role(i)).collect();
        use Role::{Bulk, Probe, Slow};
        assert_eq!(
            roles,
            vec![Probe, Bulk, Slow, Bulk, Probe, Slow, Bulk, Bulk, Probe]
        );
    }

    #[test]
    fn streams_and_lifetimes_per_player() {
        let mut plan = plan(true);
        assert_eq!(plan.target_for(5).stream, "x");
        plan.streams = 3;
        assert_eq!(plan.target_for(5).stream, "x-2");
        assert_eq!(plan.lifetime_of(1), None);
        plan.lifetime = Some(Duration::from_secs(10));
        let lifetimes: Vec<Duration> = (0..1000).filter_map(|i| plan.lifetime_of(i)).collect();
        assert!(
            lifetimes
                .iter()
                .all(|l| (5.0..15.0).contains(&l.as_secs_f64()))
        );
        let mean = lifetimes.iter().map(Duration::as_secs_f64).sum::<f64>() / 1000.0;
        assert!((mean - 10.0).abs() < 0.1, "{mean}");
    }

    #[test]
    fn only_probes_record_latency() {
        let t0 = Instant::now();
        let mut watch = Watch::new(&plan(true), false, t0, 0);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        for frame in stream(1, |_| 0).iter().take(10) {
            watch.on_frame(frame, t0, 1_000, true, &mut tally, &record);
        }
        assert_eq!(tally.latency_us.len(), 0);
        assert_eq!(tally.window_frames, 10);
    }

    #[test]
    fn frames_sent_before_the_player_connected_are_not_latency() {
        let t0 = Instant::now();
        // The player connected at 1.0 s; the GOP it gets first was sent
        // from 0 s on, all of it arriving at 1.01 s.
        let mut watch = Watch::new(&plan(true), true, t0, 1_000_000);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        for frame in stream(2, |due| due.as_micros() as u64) {
            let sent = stamp_of(&frame).unwrap().sent_us;
            let wall = sent.max(1_010_000);
            watch.on_frame(&frame, t0, wall, true, &mut tally, &record);
        }
        // Only frames sent from 1.0 s on count: 25 video and 43 audio,
        // none more than 10 ms late.
        assert_eq!(tally.latency_us.len(), 25 + 43);
        assert!(tally.latency_us.max() <= tally.latency_us.highest_equivalent(10_000));
    }

    #[test]
    fn a_late_frame_is_corrected_for_coordinated_omission() {
        let t0 = Instant::now();
        let mut watch = Watch::new(&plan(true), true, t0, 0);
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        let frames = stream(1, |_| 0);
        let video: Vec<_> = frames
            .iter()
            .filter(|f| f.track() == TrackKind::Video)
            .collect();
        watch.on_frame(video[0], t0, 1_000, true, &mut tally, &record);
        // 200 ms late: the 4 frames that should have come in between are
        // filled in at 160, 120, 80 and 40 ms.
        watch.on_frame(video[1], t0, 200_000, true, &mut tally, &record);
        assert_eq!(tally.latency_us.len(), 6);
        assert_eq!(record.gaps.get(), 0);
    }

    #[test]
    fn unstamped_latency_is_the_delay_beyond_the_quickest_frame() {
        let t0 = Instant::now();
        let mut watch = Watch::new(&plan(false), true, t0, 0);
        // Past its first GOP, the player is live.
        watch.gop_complete = true;
        let mut tally = Tally::default();
        let record = PlayerRecord::new(Role::Probe);
        let mut frames = stream(1, |_| 0);
        frames.retain(|f| f.track() == TrackKind::Video);
        // dts 0 arrives at 10 ms, dts 40 ms at 50 ms, dts 80 ms at 100 ms.
        for (frame, wall_ms) in frames.iter().zip([10u64, 50, 100]) {
            watch.on_frame(frame, t0, wall_ms * 1000, true, &mut tally, &record);
        }
        assert_eq!(tally.latency_us.len(), 3);
        assert_eq!(tally.latency_us.min(), 0);
        assert!(tally.latency_us.equivalent(tally.latency_us.max(), 10_000));
    }
}
