//! A segment client: reads `index.m3u8`, then `GET`s the newest complete
//! segment it lists over and over, as fast as the answers come, on one
//! keep-alive connection, and reads the playlist again every target
//! duration. It stands for many players fetching the same new segment, the
//! load an origin behind a CDN's edges sees; bodies are counted, not kept.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arcly_shard::ShardCtx;

use super::http::HttpClient;
use super::playlist::{MediaPlaylist, resolve};
use super::swarm::{ClientPlan, Control};
use super::tally::{SegmentTally, count_error};

/// How long a playlist or a segment may take.
const FETCH_LIMIT: Duration = Duration::from_secs(5);

/// Pause after a failure, or while the playlist lists no segment yet.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Runs one client until its task is dropped.
pub(crate) async fn run(
    ctx: ShardCtx,
    plan: &ClientPlan,
    control: &Control,
    tally: &RefCell<SegmentTally>,
) {
    let mut client = HttpClient::new(ctx.clone(), plan.addr, plan.host.clone());
    let playlist = format!("{}index.m3u8", plan.base);
    let fail = |what: String| count_error(&mut tally.borrow_mut().errors, what);
    loop {
        let (newest, reload_at) = match client.get(&playlist, true, FETCH_LIMIT).await {
            Ok(a) if a.status == 200 => {
                let parsed = std::str::from_utf8(&a.body)
                    .map_err(|_| "not UTF-8".to_owned())
                    .and_then(|text| MediaPlaylist::parse(text).map_err(|e| format!("{e:#}")));
                match parsed {
                    Ok(p) => {
                        if control.measuring.load(Ordering::Relaxed) {
                            tally.borrow_mut().playlists += 1;
                        }
                        let reload_at = Instant::now() + Duration::from_secs(p.target_duration);
                        (p.newest_segment().map(|s| s.uri.clone()), reload_at)
                    }
                    Err(e) => {
                        fail(format!("index.m3u8: {e}"));
                        (None, Instant::now())
                    }
                }
            }
            Ok(a) => {
                fail(format!("index.m3u8: {} {}", a.status, a.reason));
                (None, Instant::now())
            }
            Err(e) => {
                fail(format!("index.m3u8: {}", e.label()));
                (None, Instant::now())
            }
        };
        let Some(path) = newest.map(|uri| resolve(&plan.base, &uri)) else {
            ctx.sleep(RETRY_AFTER).await;
            continue;
        };
        let path = match path {
            Ok(path) => path,
            Err(e) => {
                fail(format!("index.m3u8: {e:#}"));
                ctx.sleep(RETRY_AFTER).await;
                continue;
            }
        };
        while Instant::now() < reload_at {
            let sent = Instant::now();
            match client.get(&path, false, FETCH_LIMIT).await {
                Ok(a) if a.status == 200 => {
                    if control.measuring.load(Ordering::Relaxed) {
                        let mut t = tally.borrow_mut();
                        t.requests += 1;
                        t.bytes += a.len;
                        t.response_us
                            .saturating_record((a.done - sent).as_micros() as u64);
                    }
                }
                Ok(a) => {
                    fail(format!("segment: {} {}", a.status, a.reason));
                    break;
                }
                Err(e) => {
                    fail(format!("segment: {}", e.label()));
                    ctx.sleep(RETRY_AFTER).await;
                    break;
                }
            }
        }
    }
}
