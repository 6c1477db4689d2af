//! An LL-HLS client, looping as a real LL-HLS player does: read
//! `ll.m3u8`, then ask for the next part with a blocking reload
//! (`_HLS_msn`/`_HLS_part`), which the server holds until the part is
//! out, then `GET` the part the answer lists, and ask for the one after
//! it. One keep-alive connection carries it all.
//!
//! Per part it records, in the steady window: the send time of the part's
//! last video frame (its stamp, read from the part's `mdat`) → the first
//! byte of the reload's answer ("ready, end to end"); reload sent → that
//! byte (the blocking wait); and part `GET` → its last byte. A client asks
//! for every part in turn, so a stall shows in the parts after it too,
//! each measured from its own last frame (no coordinated omission).

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arcly_shard::ShardCtx;

use super::http::HttpClient;
use super::part::part_stamps;
use super::playlist::{MediaPlaylist, PartId, resolve};
use super::swarm::{ClientPlan, Control};
use super::tally::{LlTally, count_error};

/// How long a plain playlist or a part may take.
const FETCH_LIMIT: Duration = Duration::from_secs(5);

/// Beyond the server's own limit on a blocking reload (three target
/// durations, then `503`), how long the client waits for its answer.
const RELOAD_GRACE: Duration = Duration::from_secs(2);

/// Pause before starting again after a failure.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Runs one client until its task is dropped.
pub(crate) async fn run(
    ctx: ShardCtx,
    plan: &ClientPlan,
    control: &Control,
    tally: &RefCell<LlTally>,
) {
    let mut client = HttpClient::new(ctx.clone(), plan.addr, plan.host.clone());
    let playlist = format!("{}ll.m3u8", plan.base);
    let mut first = true;
    loop {
        if !first {
            if control.measuring.load(Ordering::Relaxed) {
                tally.borrow_mut().resyncs += 1;
            }
            ctx.sleep(RETRY_AFTER).await;
        }
        first = false;
        let fail = |what: String| count_error(&mut tally.borrow_mut().errors, what);
        let start = match fetch_playlist(&mut client, &playlist, FETCH_LIMIT).await {
            Ok((_, p)) => p,
            Err(e) => {
                fail(format!("ll.m3u8: {e}"));
                continue;
            }
        };
        if start.ended {
            fail("ll.m3u8: the stream ended".to_owned());
            continue;
        }
        let reload_limit = Duration::from_secs(start.target_duration * 3) + RELOAD_GRACE;
        follow(
            &mut client,
            plan,
            &playlist,
            start.next_part(),
            reload_limit,
            control,
            tally,
        )
        .await;
    }
}

/// Follows the stream part by part from `next` until the client loses
/// its place.
async fn follow(
    client: &mut HttpClient,
    plan: &ClientPlan,
    playlist: &str,
    mut next: PartId,
    reload_limit: Duration,
    control: &Control,
    tally: &RefCell<LlTally>,
) {
    let fail = |what: String| count_error(&mut tally.borrow_mut().errors, what);
    // The last video frame of the part measured before, for gaps.
    let mut last_seq = None;
    loop {
        let reload = format!("{playlist}?_HLS_msn={}&_HLS_part={}", next.0, next.1);
        let (answer, listed) = match fetch_playlist(client, &reload, reload_limit).await {
            Ok(got) => got,
            Err(e) => return fail(format!("blocking reload: {e}")),
        };
        let Some(part) = listed.part_at_or_after(next) else {
            return fail("blocking reload: answered without the awaited part".to_owned());
        };
        let behind = listed.newest_part().is_some_and(|n| n.id > part.id);
        let uri = part.uri.clone();
        next = listed.part_after(part.id);
        let path = match resolve(&plan.base, &uri) {
            Ok(path) => path,
            Err(e) => return fail(format!("part: {e:#}")),
        };
        let sent = Instant::now();
        let got = match client.get(&path, true, FETCH_LIMIT).await {
            Ok(got) if got.status == 200 => got,
            Ok(got) => {
                fail(format!("part: {} {}", got.status, got.reason));
                last_seq = None;
                continue;
            }
            Err(e) => {
                fail(format!("part: {}", e.label()));
                last_seq = None;
                continue;
            }
        };
        let stamps = match part_stamps(&got.body) {
            Ok(stamps) => stamps,
            Err(e) => {
                fail(format!("part: {e:#}"));
                last_seq = None;
                continue;
            }
        };
        if control.measuring.load(Ordering::Relaxed) {
            let mut t = tally.borrow_mut();
            t.reloads += 1;
            t.parts += 1;
            t.part_bytes += got.len;
            let ready = answer
                .first_byte_wall_us
                .saturating_sub(stamps.last_video.sent_us);
            t.ready_us.saturating_record(ready);
            t.wait_us
                .saturating_record(micros(answer.first_byte - answer.sent));
            t.fetch_us.saturating_record(micros(got.done - sent));
            t.behind += u64::from(behind);
            if let Some(last) = last_seq {
                t.gaps += stamps.first_video.seq.saturating_sub(last + 1);
            }
        }
        last_seq = Some(stamps.last_video.seq);
    }
}

/// A playlist read: the answer (for its timing) and what it lists; a
/// status other than 200 or a playlist that does not parse is an error.
async fn fetch_playlist(
    client: &mut HttpClient,
    path: &str,
    limit: Duration,
) -> Result<(Timed, MediaPlaylist), String> {
    let sent = Instant::now();
    let answer = client.get(path, true, limit).await.map_err(|e| e.label())?;
    if answer.status != 200 {
        return Err(format!("{} {}", answer.status, answer.reason));
    }
    let text = std::str::from_utf8(&answer.body).map_err(|_| "not UTF-8".to_owned())?;
    let playlist = MediaPlaylist::parse(text).map_err(|e| format!("{e:#}"))?;
    Ok((
        Timed {
            sent,
            first_byte: answer.first_byte,
            first_byte_wall_us: answer.first_byte_wall_us,
        },
        playlist,
    ))
}

/// When a request went out and its answer started to come back.
struct Timed {
    sent: Instant,
    first_byte: Instant,
    first_byte_wall_us: u64,
}

fn micros(d: Duration) -> u64 {
    d.as_micros() as u64
}
