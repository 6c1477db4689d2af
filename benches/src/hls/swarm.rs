//! The HLS clients of a run, spread over the harness's shards: client `i`
//! of each kind runs on shard `i % shards`, all started at once. Each
//! shard tallies its own clients and hands the tally back when the run
//! stops them.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arcly_shard::{Runtime, ShardCtx, ShardJoinHandle, Task};

use super::tally::{HlsTally, LlTally, SegmentTally};
use super::{ll_client, segment_client};
use crate::tally::histogram;

/// How often a shard looks whether the run stops.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The sleep whose lateness measures the harness's own lag.
const LAG_TICK: Duration = Duration::from_millis(5);

/// Where the clients go, and how many of each kind.
#[derive(Clone, Debug)]
pub(crate) struct ClientPlan {
    /// The server's HTTP address, and `HOST:PORT` for `Host`.
    pub(crate) addr: SocketAddr,
    pub(crate) host: String,
    /// The stream's directory, `/APP/STREAM/`.
    pub(crate) base: String,
    pub(crate) ll_clients: usize,
    pub(crate) segment_clients: usize,
}

/// What the orchestrating thread and the shards share.
#[derive(Debug, Default)]
pub(crate) struct Control {
    /// Inside the steady window: record.
    pub(crate) measuring: AtomicBool,
    stop: AtomicBool,
}

/// The running clients.
pub(crate) struct Clients {
    control: Arc<Control>,
    shards: Vec<ShardJoinHandle<HlsTally>>,
}

impl Clients {
    /// Starts the plan's clients on every shard of `runtime`.
    pub(crate) fn start(runtime: &Runtime, plan: ClientPlan) -> Clients {
        let control = Arc::new(Control::default());
        let plan = Arc::new(plan);
        let shards = runtime.shards();
        let handles = (0..shards)
            .map(|shard| {
                let (plan, control) = (plan.clone(), control.clone());
                runtime.spawn_on(shard, move |ctx: ShardCtx| async move {
                    run_shard(ctx, plan, control, shard, shards).await
                })
            })
            .collect();
        Clients {
            control,
            shards: handles,
        }
    }

    /// Starts or ends the steady window.
    pub(crate) fn set_measuring(&self, on: bool) {
        self.control.measuring.store(on, Ordering::Release);
    }

    /// Stops every client and returns what they measured.
    pub(crate) fn finish(self) -> anyhow::Result<HlsTally> {
        self.set_measuring(false);
        self.control.stop.store(true, Ordering::Release);
        let mut total = HlsTally::default();
        for handle in self.shards {
            total.merge(&handle.join()?)?;
        }
        Ok(total)
    }
}

async fn run_shard(
    ctx: ShardCtx,
    plan: Arc<ClientPlan>,
    control: Arc<Control>,
    shard: usize,
    shards: usize,
) -> HlsTally {
    let ll = Rc::new(RefCell::new(LlTally::default()));
    let segments = Rc::new(RefCell::new(SegmentTally::default()));
    let lag_us = Rc::new(RefCell::new(histogram()));
    let mut tasks: Vec<Task<()>> = Vec::new();
    tasks.push(ctx.spawn({
        let (ctx, control, lag_us) = (ctx.clone(), control.clone(), lag_us.clone());
        async move {
            loop {
                let start = Instant::now();
                ctx.sleep(LAG_TICK).await;
                let late = start.elapsed().saturating_sub(LAG_TICK);
                if control.measuring.load(Ordering::Relaxed) {
                    lag_us
                        .borrow_mut()
                        .saturating_record(late.as_micros() as u64);
                }
            }
        }
    }));
    for _ in (shard..plan.ll_clients).step_by(shards) {
        let (ctx, plan, control, ll) = (ctx.clone(), plan.clone(), control.clone(), ll.clone());
        tasks.push(ctx.clone().spawn(async move {
            ll_client::run(ctx, &plan, &control, &ll).await;
        }));
    }
    for _ in (shard..plan.segment_clients).step_by(shards) {
        let (ctx, plan, control, segments) =
            (ctx.clone(), plan.clone(), control.clone(), segments.clone());
        tasks.push(ctx.clone().spawn(async move {
            segment_client::run(ctx, &plan, &control, &segments).await;
        }));
    }
    while !control.stop.load(Ordering::Acquire) {
        ctx.sleep(STOP_POLL).await;
    }
    // Cancel the clients (closing their connections), then count.
    drop(tasks);
    HlsTally {
        ll: ll.take(),
        segments: segments.take(),
        lag_us: lag_us.replace(histogram()),
    }
}
