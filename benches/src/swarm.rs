//! A swarm of players spread over the harness's shards: each shard starts
//! its share on the ramp's schedule, tallies what its players measure, and
//! hands the tally back when the swarm finishes.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arcly_shard::{Runtime, ShardCtx, ShardJoinHandle, Task};
use hdrhistogram::Histogram;

use crate::player::{Player, PlayerPlan, PlayerRecord, PlayerState, Progress, Protocol, Seat};
use crate::tally::{Tallies, Tally, histogram};

/// How often an idle shard looks whether the swarm should finish.
const STOP_POLL: Duration = Duration::from_millis(50);

/// Players started per turn before a shard lets its players run.
const SPAWN_BURST: usize = 64;

/// The sleep whose lateness measures the harness's own lag.
const LAG_TICK: Duration = Duration::from_millis(5);

/// Players, spread over shards.
pub(crate) struct Swarm {
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
    shards: Vec<ShardJoinHandle<Tallies>>,
}

impl Swarm {
    /// Starts the plan's players on `runtime`'s shards (player `i` on shard
    /// `i % shards`), player `i` at `start + i / ramp_per_sec` (all at once
    /// if the ramp is 0).
    pub(crate) fn start(
        runtime: &Runtime,
        plan: PlayerPlan,
        ramp_per_sec: f64,
        start: Instant,
    ) -> Swarm {
        let players = plan.mix.total();
        let progress = Arc::new(Progress::default());
        let stop = Arc::new(AtomicBool::new(false));
        let plan = Arc::new(plan);
        let shards = runtime.shards();
        let handles = (0..shards)
            .map(|shard| {
                let (plan, progress, stop) = (plan.clone(), progress.clone(), stop.clone());
                let schedule = Schedule {
                    first: shard,
                    step: shards,
                    players,
                    ramp_per_sec,
                    start,
                };
                runtime.spawn_on(shard, move |ctx: ShardCtx| async move {
                    run_shard(ctx, plan, schedule, progress, stop).await
                })
            })
            .collect();
        Swarm {
            progress,
            stop,
            shards: handles,
        }
    }

    /// The live counts.
    pub(crate) fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Starts or stops the steady window.
    pub(crate) fn set_measuring(&self, on: bool) {
        self.progress.measuring.store(on, Ordering::Release);
    }

    /// Ends every player and returns what they measured.
    pub(crate) fn finish(self) -> anyhow::Result<Tallies> {
        self.set_measuring(false);
        self.stop.store(true, Ordering::Release);
        let mut total = Tallies::default();
        for handle in self.shards {
            total.merge(&handle.join()?)?;
        }
        Ok(total)
    }
}

/// When a shard starts which players.
#[derive(Clone, Copy, Debug)]
struct Schedule {
    first: usize,
    step: usize,
    players: usize,
    ramp_per_sec: f64,
    start: Instant,
}

impl Schedule {
    fn due(&self, player: usize) -> Instant {
        if self.ramp_per_sec > 0.0 {
            self.start + Duration::from_secs_f64(player as f64 / self.ramp_per_sec)
        } else {
            self.start
        }
    }
}

/// Records, in the steady window, how late this shard wakes from a short
/// sleep: a busy harness delays every frame it receives by about as much.
async fn measure_lag(ctx: ShardCtx, progress: Arc<Progress>, lag_us: Rc<RefCell<Histogram<u64>>>) {
    loop {
        let start = Instant::now();
        ctx.sleep(LAG_TICK).await;
        let late = start.elapsed().saturating_sub(LAG_TICK);
        if progress.measuring.load(Ordering::Relaxed) {
            lag_us
                .borrow_mut()
                .saturating_record(late.as_micros() as u64);
        }
    }
}

/// One player session started on this shard.
struct Session {
    seat: Seat,
    record: Rc<PlayerRecord>,
    /// Dropping it cancels the player.
    _task: Task<()>,
    /// Under churn: a new session took its place.
    replaced: bool,
}

async fn run_shard(
    ctx: ShardCtx,
    plan: Arc<PlayerPlan>,
    schedule: Schedule,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
) -> Tallies {
    // One tally per protocol, and the lag, each shared by this shard's
    // tasks.
    let tallies: Rc<[RefCell<Tally>; 2]> = Rc::default();
    let lag_us = Rc::new(RefCell::new(histogram()));
    let lag = ctx.spawn(measure_lag(ctx.clone(), progress.clone(), lag_us.clone()));
    let start = |seat: Seat| {
        let record = Rc::new(PlayerRecord::new(plan.role(seat.index)));
        let task = ctx.spawn({
            let (ctx, plan, progress) = (ctx.clone(), plan.clone(), progress.clone());
            let (tallies, record) = (tallies.clone(), record.clone());
            async move {
                let player = Player {
                    ctx,
                    plan: &plan,
                    seat,
                    progress: &progress,
                    tally: &tallies[seat.protocol.index()],
                    record: &record,
                };
                player.play().await;
            }
        });
        Session {
            seat,
            record,
            _task: task,
            replaced: false,
        }
    };
    let mut sessions = Vec::new();
    let mut next = schedule.first;
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        let mut burst = 0;
        while next < schedule.players && schedule.due(next) <= now && burst < SPAWN_BURST {
            sessions.push(start(plan.mix.seat(next)));
            next += schedule.step;
            burst += 1;
        }
        if burst == SPAWN_BURST {
            ctx.yield_now().await;
            continue;
        }
        if plan.lifetime.is_some() {
            // Churn: a player whose time was up is replaced by a new one in
            // the same place (same role, same stream).
            let mut leavers = Vec::new();
            for session in sessions.iter_mut() {
                if !session.replaced && session.record.state.get() == PlayerState::Left {
                    session.replaced = true;
                    leavers.push(session.seat);
                }
            }
            sessions.extend(leavers.into_iter().map(start));
        }
        let wait = if next < schedule.players {
            schedule.due(next).saturating_duration_since(now)
        } else {
            STOP_POLL
        };
        ctx.sleep(wait.min(STOP_POLL)).await;
    }
    // Cancel the players still running (closing their sockets), then count.
    drop(lag);
    let records: Vec<_> = sessions
        .into_iter()
        .map(|s| (s.seat.protocol, s.record))
        .collect();
    let mut out = Tallies::default();
    for protocol in Protocol::ALL {
        *out.of_mut(protocol) = tallies[protocol.index()].take();
    }
    out.lag_us = lag_us.replace(histogram());
    for (protocol, record) in records {
        out.of_mut(protocol).count(&record, plan.join_timeout);
    }
    out
}
