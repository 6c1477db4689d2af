//! The publisher: sends the source to the target on the harness's first
//! shard, paced by the wall clock, while answering the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use arcly_protocols::rtmp::{ClientEvent, ClientRole};
use arcly_shard::{Runtime, ShardCtx, ShardJoinHandle};
use futures_lite::future;
use hdrhistogram::Histogram;

use crate::client::{RtmpClient, describe};
use crate::clock::wall_us;
use crate::source::{Source, SourceArgs};
use crate::tally::histogram;
use crate::target::Target;

/// How long the server may take to accept a publisher.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the publisher is.
const CONNECTING: u8 = 0;
const PUBLISHING: u8 = 1;
const FAILED: u8 = 2;

/// What the publisher did.
#[derive(Debug)]
pub(crate) struct PublisherReport {
    /// Tags sent.
    pub(crate) tags: u64,
    /// Tag body bytes sent, in all and in the steady window.
    pub(crate) bytes: u64,
    pub(crate) window_bytes: u64,
    /// How late each send in the steady window was against its schedule,
    /// µs (a late publisher means a busy harness).
    pub(crate) late_us: Histogram<u64>,
    /// Why it stopped early (the first publisher that did), and how many
    /// did.
    pub(crate) error: Option<String>,
    pub(crate) failed: u64,
}

impl PublisherReport {
    fn new() -> PublisherReport {
        PublisherReport {
            tags: 0,
            bytes: 0,
            window_bytes: 0,
            late_us: histogram(),
            error: None,
            failed: 0,
        }
    }

    fn merge(&mut self, other: PublisherReport) -> anyhow::Result<()> {
        self.tags += other.tags;
        self.bytes += other.bytes;
        self.window_bytes += other.window_bytes;
        self.late_us.add(&other.late_us)?;
        self.failed += other.failed;
        if self.error.is_none() {
            self.error = other.error;
        }
        Ok(())
    }
}

/// What the orchestrating thread and the publisher's task share.
#[derive(Debug)]
struct Control {
    state: AtomicU8,
    stop: AtomicBool,
    measuring: AtomicBool,
}

/// A running publisher.
pub(crate) struct Publisher {
    control: Arc<Control>,
    handle: ShardJoinHandle<PublisherReport>,
}

impl Publisher {
    /// Starts publishing `source` to `target` from shard `shard` of
    /// `runtime`.
    pub(crate) fn start(
        runtime: &Runtime,
        shard: usize,
        target: Target,
        source: Source,
    ) -> Publisher {
        let control = Arc::new(Control {
            state: AtomicU8::new(CONNECTING),
            stop: AtomicBool::new(false),
            measuring: AtomicBool::new(false),
        });
        let c = Arc::clone(&control);
        let handle = runtime.spawn_on(shard, move |ctx: ShardCtx| async move {
            let mut report = PublisherReport::new();
            if let Err(e) = publish(&ctx, &target, source, &c, &mut report).await {
                report.error = Some(format!("{target}: {e:#}"));
                report.failed = 1;
            }
            c.state.store(FAILED, Ordering::Release);
            report
        });
        Publisher { control, handle }
    }

    /// Waits until the server accepted the publish, for at most `limit`.
    pub(crate) fn wait_publishing(self, limit: Duration) -> anyhow::Result<Publisher> {
        let deadline = Instant::now() + limit;
        loop {
            match self.control.state.load(Ordering::Acquire) {
                PUBLISHING => return Ok(self),
                FAILED => {
                    let report = self.finish()?;
                    anyhow::bail!(
                        "publish failed: {}",
                        report.error.unwrap_or_else(|| "stopped".to_owned())
                    );
                }
                _ if Instant::now() > deadline => {
                    anyhow::bail!("publish did not start within {limit:?}")
                }
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// Whether it still publishes.
    pub(crate) fn is_publishing(&self) -> bool {
        self.control.state.load(Ordering::Acquire) == PUBLISHING
    }

    /// Starts or ends the steady window (lateness is recorded inside it).
    pub(crate) fn set_measuring(&self, on: bool) {
        self.control.measuring.store(on, Ordering::Release);
    }

    /// Stops publishing (the stream ends) and returns what it did.
    pub(crate) fn finish(self) -> anyhow::Result<PublisherReport> {
        self.control.stop.store(true, Ordering::Release);
        Ok(self.handle.join()?)
    }
}

async fn publish(
    ctx: &ShardCtx,
    target: &Target,
    mut source: Source,
    control: &Control,
    report: &mut PublisherReport,
) -> anyhow::Result<()> {
    let mut client = RtmpClient::connect(ctx, target, ClientRole::Publish, None).await?;
    client.start().await?;
    control.state.store(PUBLISHING, Ordering::Release);
    let start = Instant::now();
    while !control.stop.load(Ordering::Acquire) {
        let due = start + source.next_due();
        // Serve the server (acknowledgements, pings) until the next tag is
        // due; wake at least every 50 ms to see `stop`.
        let now = Instant::now();
        if due > now {
            let wait = (due - now).min(Duration::from_millis(50));
            let read = async { Some(client.read().await) };
            let sleep = async {
                ctx.sleep(wait).await;
                None
            };
            if let Some(read) = future::or(read, sleep).await {
                anyhow::ensure!(read? > 0, "the server closed the connection");
                client.flush().await?;
                while let Some(event) = client.next_event() {
                    match event {
                        ClientEvent::Closed { reason } => anyhow::bail!("{}", describe(&reason)),
                        ClientEvent::Status(info) if info.level == "error" => {
                            anyhow::bail!("{}", info.code)
                        }
                        _ => {}
                    }
                }
            }
            continue;
        }
        // Everything due now goes out in one write.
        while start + source.next_due() <= Instant::now() {
            let measuring = control.measuring.load(Ordering::Relaxed);
            if measuring {
                let late = Instant::now().saturating_duration_since(start + source.next_due());
                report.late_us.saturating_record(late.as_micros() as u64);
            }
            let tag = source.take(wall_us())?;
            report.tags += 1;
            report.bytes += tag.body.len() as u64;
            if measuring {
                report.window_bytes += tag.body.len() as u64;
            }
            client.session().send_tag(&tag)?;
        }
        client.flush().await?;
    }
    client.close().await;
    Ok(())
}

/// The publishers of a run, one per stream, spread over the harness's
/// shards.
pub(crate) struct Publishers {
    publishers: Vec<Publisher>,
    stamped: bool,
}

impl Publishers {
    /// Publishes `streams` streams (`target` itself for one, else
    /// `target-0`, `target-1` ...), each from its own `source`, starting
    /// `ramp_per_sec` per second (all at once for 0), and waits until the
    /// server accepted every one.
    pub(crate) fn start(
        runtime: &Runtime,
        target: &Target,
        streams: usize,
        source: &SourceArgs,
        ramp_per_sec: f64,
    ) -> anyhow::Result<Publishers> {
        let mut publishers = Vec::with_capacity(streams);
        let mut stamped = true;
        let began = Instant::now();
        for n in 0..streams.max(1) {
            if ramp_per_sec > 0.0 {
                let due = began + Duration::from_secs_f64(n as f64 / ramp_per_sec);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            let source = source.open()?;
            stamped &= source.stamped();
            let target = if streams > 1 {
                target.numbered(n)
            } else {
                target.clone()
            };
            publishers.push(Publisher::start(
                runtime,
                n % runtime.shards(),
                target,
                source,
            ));
        }
        let publishers = publishers
            .into_iter()
            .map(|p| p.wait_publishing(PUBLISH_TIMEOUT))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Publishers {
            publishers,
            stamped,
        })
    }

    /// Whether the frames carry stamps.
    pub(crate) fn stamped(&self) -> bool {
        self.stamped
    }

    /// Whether every publisher still publishes.
    pub(crate) fn all_publishing(&self) -> bool {
        self.publishers.iter().all(Publisher::is_publishing)
    }

    /// Starts or ends the steady window.
    pub(crate) fn set_measuring(&self, on: bool) {
        for p in &self.publishers {
            p.set_measuring(on);
        }
    }

    /// Stops every publisher; what they did, summed.
    pub(crate) fn finish(self) -> anyhow::Result<PublisherReport> {
        for p in &self.publishers {
            p.control.stop.store(true, Ordering::Release);
        }
        let mut total = PublisherReport::new();
        for p in self.publishers {
            total.merge(p.finish()?)?;
        }
        Ok(total)
    }
}
