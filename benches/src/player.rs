//! One player: connects, plays the stream over RTMP or HTTP-FLV, and
//! measures what arrives — join time, delivery latency, gaps, frames and
//! bytes. The protocols differ only in how bytes become frames (a
//! [`PlaySession`]); pacing, roles, join timeouts and every measurement
//! ([`Watch`]) are one code path. Each parses only what it measures: the
//! RTMP session hands over whole frames, HTTP-FLV the head of each tag, and
//! of a frame only the stamp at its start is read.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arcly_protocols::rtmp::{ClientEvent, ClientRole};
use arcly_shard::ShardCtx;
use futures_lite::future;

use crate::client::{RtmpClient, describe};
use crate::clock::wall_us;
use crate::http_flv::HttpFlvClient;
use crate::tally::Tally;
use crate::target::{HttpUrl, Target};
use crate::watch::{ReceivedFrame, Watch};

/// The protocols a player speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Protocol {
    Rtmp,
    HttpFlv,
}

impl Protocol {
    /// Every protocol, in report order.
    pub(crate) const ALL: [Protocol; 2] = [Protocol::Rtmp, Protocol::HttpFlv];

    /// Its name in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Rtmp => "rtmp",
            Protocol::HttpFlv => "http-flv",
        }
    }

    /// Its place in [`Protocol::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// How many players speak each protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mix {
    pub(crate) rtmp: usize,
    pub(crate) http_flv: usize,
}

/// Where a player sits in the audience: its protocol, and its index among
/// that protocol's players (which picks its role and stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seat {
    /// Its index among all players (in its process).
    pub(crate) player: usize,
    pub(crate) protocol: Protocol,
    pub(crate) index: usize,
}

impl Mix {
    /// Only RTMP players.
    pub(crate) fn rtmp(players: usize) -> Mix {
        Mix {
            rtmp: players,
            http_flv: 0,
        }
    }

    /// Players in all.
    pub(crate) fn total(self) -> usize {
        self.rtmp + self.http_flv
    }

    /// Players of `protocol`.
    pub(crate) fn of(self, protocol: Protocol) -> usize {
        match protocol {
            Protocol::Rtmp => self.rtmp,
            Protocol::HttpFlv => self.http_flv,
        }
    }

    /// The seat of player `player` of [`Mix::total`]: the protocols
    /// interleave evenly, so each is spread over the ramp and the harness's
    /// shards alike.
    pub(crate) fn seat(self, player: usize) -> Seat {
        let total = self.total().max(1) as u128;
        let http = self.http_flv as u128;
        // HTTP-FLV players among players 0..i: ⌊i·h/n⌋.
        let before = |i: usize| (i as u128 * http / total) as usize;
        let http_before = before(player);
        if before(player + 1) > http_before {
            Seat {
                player,
                protocol: Protocol::HttpFlv,
                index: http_before,
            }
        } else {
            Seat {
                player,
                protocol: Protocol::Rtmp,
                index: player - http_before,
            }
        }
    }

    /// Shares of `parts` processes, as even as can be for each protocol.
    pub(crate) fn split(self, parts: usize) -> Vec<Mix> {
        let parts = parts.max(1);
        let share = |n: usize, w: usize| n / parts + usize::from(w < n % parts);
        (0..parts)
            .map(|w| Mix {
                rtmp: share(self.rtmp, w),
                http_flv: share(self.http_flv, w),
            })
            .collect()
    }
}

/// What every player of a swarm does.
#[derive(Clone, Debug)]
pub(crate) struct PlayerPlan {
    /// The stream, for RTMP players.
    pub(crate) target: Target,
    /// The same stream as HTTP-FLV (`/APP/STREAM.flv`), for HTTP-FLV
    /// players.
    pub(crate) http: Option<HttpUrl>,
    /// Players of each protocol.
    pub(crate) mix: Mix,
    /// Source address of every connection; the kernel's choice if `None`.
    pub(crate) local_ip: Option<IpAddr>,
    /// Whether frames carry stamps; if not, latency comes from arrival
    /// spacing (see [`crate::watch::Watch`]).
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
    /// Streams the players spread over: the `i`-th player of a protocol
    /// plays stream `target-(i % streams)` (see [`Target::numbered`]);
    /// with 1, `target`.
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
    /// The role of the `index`-th player of a protocol (in its process):
    /// each protocol has its share of probes and slow players.
    pub(crate) fn role(&self, index: usize) -> Role {
        if self.read_every.is_zero() || index.is_multiple_of(self.probe_every.max(1)) {
            Role::Probe
        } else if self.slow_every > 0 && index % self.slow_every == self.slow_every - 1 {
            Role::Slow
        } else {
            Role::Bulk
        }
    }

    /// The RTMP stream the `index`-th RTMP player plays.
    pub(crate) fn target_for(&self, index: usize) -> Target {
        if self.streams > 1 {
            self.target.numbered(index % self.streams)
        } else {
            self.target.clone()
        }
    }

    /// The HTTP-FLV URL the `index`-th HTTP-FLV player plays.
    pub(crate) fn http_for(&self, index: usize) -> Option<HttpUrl> {
        let url = self.http.as_ref()?;
        Some(if self.streams > 1 {
            url.numbered(index % self.streams)
        } else {
            url.clone()
        })
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

/// One player's task: what it plays and where it reports.
pub(crate) struct Player<'a> {
    pub(crate) ctx: ShardCtx,
    pub(crate) plan: &'a PlayerPlan,
    pub(crate) seat: Seat,
    pub(crate) progress: &'a Progress,
    /// The tally of the player's protocol.
    pub(crate) tally: &'a RefCell<Tally>,
    pub(crate) record: &'a PlayerRecord,
}

/// A player's connection, whatever its protocol: [`Player::play`] reads,
/// lets the session parse, and measures every frame it hands over.
pub(crate) trait PlaySession {
    /// Reads what the socket has (one large read); the bytes read, 0 when
    /// the server closed. Dropping it mid-way loses no bytes.
    async fn read(&mut self) -> anyhow::Result<usize>;

    /// Sends what the protocol owes the server (RTMP acknowledgements).
    async fn flush(&mut self) -> anyhow::Result<()>;

    /// Hands every frame the bytes read so far completed to `on_frame`, in
    /// order; `Some(reason)` if the session is over.
    fn drain(&mut self, on_frame: &mut dyn FnMut(&ReceivedFrame<'_>)) -> Option<String>;

    /// Leaves: stops playing and closes our side.
    async fn close(self);
}

impl Player<'_> {
    /// Plays until the server lets go, the player's time is up (the join
    /// scenario, churn), or the task is cancelled; it reads as its
    /// [`Role`] says.
    pub(crate) async fn play(&self) {
        let (ctx, plan, local_ip) = (&self.ctx, self.plan, self.plan.local_ip);
        match self.seat.protocol {
            Protocol::Rtmp => {
                let target = plan.target_for(self.seat.index);
                let connect = async {
                    let mut client =
                        RtmpClient::connect(ctx, &target, ClientRole::Play, local_ip).await?;
                    client.start().await?;
                    Ok(client)
                };
                self.follow(connect).await;
            }
            Protocol::HttpFlv => {
                let url = plan.http_for(self.seat.index);
                let connect = async {
                    let url = url.ok_or_else(|| anyhow::anyhow!("no HTTP-FLV URL (--http)"))?;
                    HttpFlvClient::open(ctx, &url, local_ip).await
                };
                self.follow(connect).await;
            }
        }
    }

    /// Connects with `connect` and reads until the first keyframe, within
    /// the join timeout; then keeps reading at the pace of its role.
    async fn follow<S: PlaySession>(&self, connect: impl Future<Output = anyhow::Result<S>>) {
        let (ctx, plan, record, progress) = (&self.ctx, self.plan, self.record, self.progress);
        let role = record.role;
        let mut watch = Watch::new(plan, role == Role::Probe, Instant::now(), wall_us());
        let joining = async {
            let mut session = connect.await?;
            loop {
                if let Some(end) = self.drain(&mut session, &mut watch) {
                    anyhow::bail!("{end}");
                }
                if watch.joined() {
                    break;
                }
                anyhow::ensure!(
                    session.read().await? > 0,
                    "the server closed the connection"
                );
                session.flush().await?;
            }
            Ok(session)
        };
        let timeout = async {
            ctx.sleep(plan.join_timeout).await;
            Err(anyhow::anyhow!(
                "no keyframe within {}s",
                plan.join_timeout.as_secs()
            ))
        };
        let mut session = match future::or(joining, timeout).await {
            Ok(session) => session,
            Err(e) => {
                record.state.set(PlayerState::Failed);
                progress.failed.fetch_add(1, Ordering::Relaxed);
                self.tally.borrow_mut().note(format!("join: {e:#}"));
                return;
            }
        };
        let joined = Instant::now();
        let lifetime = plan.lifetime_of(self.seat.player);
        let mut last_read = (Instant::now(), 0);
        let end = loop {
            if let Some(end) = self.drain(&mut session, &mut watch) {
                break end;
            }
            let time_up = lifetime.is_some_and(|l| joined.elapsed() >= l);
            if time_up || plan.leave_after_gop && watch.gop_complete {
                record.state.set(PlayerState::Left);
                progress.left.fetch_add(1, Ordering::Relaxed);
                session.close().await;
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
            match session.read().await {
                Ok(0) => break "the server closed the connection".to_owned(),
                Ok(n) => last_read = (started, n),
                Err(e) => break format!("{e:#}"),
            }
            if let Err(e) = session.flush().await {
                break format!("{e:#}");
            }
        };
        record.state.set(PlayerState::Dropped);
        progress.dropped.fetch_add(1, Ordering::Relaxed);
        self.tally.borrow_mut().note(format!("after join: {end}"));
    }

    /// Measures the frames the session completed; `Some(reason)` if the
    /// session is over.
    fn drain(&self, session: &mut impl PlaySession, watch: &mut Watch) -> Option<String> {
        let now = Instant::now();
        let wall = wall_us();
        let measuring = self.progress.measuring.load(Ordering::Relaxed);
        let mut tally = self.tally.borrow_mut();
        session.drain(&mut |frame| {
            let was_joined = watch.joined();
            watch.on_frame(frame, now, wall, measuring, &mut tally, self.record);
            if !was_joined && watch.joined() {
                self.record.state.set(PlayerState::Joined);
                self.progress.joined.fetch_add(1, Ordering::Relaxed);
            }
        })
    }
}

impl PlaySession for RtmpClient {
    async fn read(&mut self) -> anyhow::Result<usize> {
        RtmpClient::read(self).await
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        RtmpClient::flush(self).await
    }

    fn drain(&mut self, on_frame: &mut dyn FnMut(&ReceivedFrame<'_>)) -> Option<String> {
        while let Some(event) = self.next_event() {
            match event {
                ClientEvent::Frame(frame) => on_frame(&ReceivedFrame::of(&frame)),
                ClientEvent::StreamEnded => return Some("the stream ended".to_owned()),
                ClientEvent::Closed { reason } => return Some(describe(&reason)),
                ClientEvent::Status(info) if info.level == "error" => return Some(info.code),
                _ => {}
            }
        }
        None
    }

    async fn close(self) {
        RtmpClient::close(self).await;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plan of one RTMP player, every player a probe.
    pub(crate) fn plan(stamped: bool) -> PlayerPlan {
        PlayerPlan {
            target: "rtmp://127.0.0.1:1/live/x".parse().unwrap(),
            http: None,
            mix: Mix::rtmp(1),
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
        assert_eq!(plan.http_for(5), None);
        plan.http = Some("http://127.0.0.1:2/live/x.flv".parse().unwrap());
        assert_eq!(plan.http_for(5).unwrap().path, "/live/x-2.flv");
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
    fn protocols_interleave_evenly_and_number_their_own_players() {
        let mix = Mix {
            rtmp: 6,
            http_flv: 3,
        };
        let seats: Vec<(Protocol, usize)> = (0..9)
            .map(|i| mix.seat(i))
            .map(|s| (s.protocol, s.index))
            .collect();
        use Protocol::{HttpFlv, Rtmp};
        assert_eq!(
            seats,
            vec![
                (Rtmp, 0),
                (Rtmp, 1),
                (HttpFlv, 0),
                (Rtmp, 2),
                (Rtmp, 3),
                (HttpFlv, 1),
                (Rtmp, 4),
                (Rtmp, 5),
                (HttpFlv, 2)
            ]
        );
        for mix in [
            Mix::rtmp(7),
            Mix {
                rtmp: 0,
                http_flv: 5,
            },
            Mix {
                rtmp: 1000,
                http_flv: 333,
            },
        ] {
            for protocol in Protocol::ALL {
                let indices: Vec<usize> = (0..mix.total())
                    .map(|i| mix.seat(i))
                    .filter(|s| s.protocol == protocol)
                    .map(|s| s.index)
                    .collect();
                assert_eq!(
                    indices,
                    (0..mix.of(protocol)).collect::<Vec<_>>(),
                    "{mix:?}"
                );
            }
        }
    }

    #[test]
    fn each_protocol_gets_its_share_of_probes() {
        // 200 + 200 players and 100 probes: one in 4 of each protocol.
        let mut plan = plan(true);
        plan.mix = Mix {
            rtmp: 200,
            http_flv: 200,
        };
        plan.read_every = Duration::from_millis(500);
        plan.probe_every = 4;
        let probes = |protocol| {
            (0..400)
                .map(|i| plan.mix.seat(i))
                .filter(|s| s.protocol == protocol && plan.role(s.index) == Role::Probe)
                .count()
        };
        assert_eq!(
            (probes(Protocol::Rtmp), probes(Protocol::HttpFlv)),
            (50, 50)
        );
    }

    #[test]
    fn workers_share_each_protocol_evenly() {
        let mix = Mix {
            rtmp: 10,
            http_flv: 5,
        };
        let shares = mix.split(3);
        assert_eq!(
            shares
                .iter()
                .map(|m| (m.rtmp, m.http_flv))
                .collect::<Vec<_>>(),
            vec![(4, 2), (3, 2), (3, 1)]
        );
        assert_eq!(shares.iter().map(|m| m.total()).sum::<usize>(), 15);
    }
}
