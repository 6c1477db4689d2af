//! When the publisher disconnects and does not come back within the grace
//! period, players get `NetStream.Play.UnpublishNotify` and Stream EOF (and
//! ffmpeg, which stops on that status, ends). A publisher that reconnects
//! within the grace period continues the stream for the players still
//! connected.

mod common;

use std::time::{Duration, Instant};

use common::{Amf, Arcly, Clip, Player, RawRtmp, ffmpeg_publish};

#[test]
fn players_are_told_when_the_publisher_leaves_for_good() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start_with_config("[streams]\nunpublish_grace_secs = 1\n");
    let url = server.url("live/leaving");
    let mut publisher = ffmpeg_publish(&clip, &url, true);
    server.wait_live(1, &mut publisher);

    let mut raw = RawRtmp::try_play(server.rtmp, "live", "leaving")
        .unwrap_or_else(|e| panic!("raw play: {e}\n{}", server.log_tail()));
    assert!(raw.accepted(), "raw play: {}", raw.describe());
    let mut player = Player::copy(&url);
    player.wait_video_frames(10, Duration::from_secs(10), &server);

    // Media reaches the raw player before the publisher leaves.
    let mut media = 0;
    let until = Instant::now() + Duration::from_secs(3);
    while media < 10 && Instant::now() < until {
        let msg = raw.client.read_message().expect("raw player read");
        media += usize::from(msg.msg_type == 8 || msg.msg_type == 9);
    }
    assert!(media >= 10, "the raw player got {media} media messages");

    publisher.kill();
    let left = Instant::now();
    let (mut unpublish_notify, mut stream_eof) = (None, None);
    let mut ended = None;
    while left.elapsed() < Duration::from_secs(6)
        && (unpublish_notify.is_none() || stream_eof.is_none())
    {
        let msg = match raw.client.read_message() {
            Ok(msg) => msg,
            Err(e) => {
                ended = Some(format!("{e} after {:.2?}", left.elapsed()));
                break;
            }
        };
        match msg.msg_type {
            20 => {
                let values = Amf::decode_all(&msg.payload).unwrap_or_default();
                let code = values
                    .iter()
                    .find_map(|v| v.get("code").and_then(Amf::as_str));
                if code == Some("NetStream.Play.UnpublishNotify") {
                    unpublish_notify = Some(left.elapsed());
                }
            }
            4 if msg.payload.starts_with(&[0, 1]) => stream_eof = Some(left.elapsed()),
            _ => {}
        }
    }
    let seen: Vec<&String> = raw
        .client
        .seen
        .iter()
        .filter(|s| !matches!(s.as_str(), "audio" | "video"))
        .collect();
    eprintln!(
        "after the publisher left: UnpublishNotify {unpublish_notify:?}, Stream EOF {stream_eof:?}, \
         connection end {ended:?}; non-media messages: {seen:?}"
    );
    assert!(
        unpublish_notify.is_some(),
        "no onStatus NetStream.Play.UnpublishNotify within 6 s of the publisher leaving (grace 1 s)\n\
         server log:\n{}",
        server.log_tail()
    );
    assert!(
        stream_eof.is_some(),
        "no User Control Stream EOF within 6 s of the publisher leaving (grace 1 s)"
    );
    assert!(
        player.process.wait_exit(Duration::from_secs(5)).is_some(),
        "ffmpeg kept playing after the stream ended: {}",
        player.process.describe()
    );
    server.stop();
}

#[test]
fn a_publisher_that_reconnects_within_the_grace_period_continues_the_stream() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start_with_config("[streams]\nunpublish_grace_secs = 5\n");
    let url = server.url("live/flaky");
    let mut first = ffmpeg_publish(&clip, &url, true);
    server.wait_live(1, &mut first);
    // Several players, so that both shards (owner and mirror) likely serve.
    let mut players: Vec<Player> = (0..3).map(|_| Player::copy(&url)).collect();
    for p in &mut players {
        p.wait_video_frames(10, Duration::from_secs(10), &server);
    }

    first.kill();
    std::thread::sleep(Duration::from_millis(300));
    let mut second = ffmpeg_publish(&clip, &url, true);
    for (i, p) in players.iter_mut().enumerate() {
        p.assert_flowing(
            30,
            &format!("player {i} after its publisher reconnected within the grace period"),
            &server,
        );
    }
    assert!(
        second.try_status().is_none(),
        "the reconnecting publisher was refused: {}\nserver log:\n{}",
        second.describe(),
        server.log_tail()
    );
    drop(players);
    drop(second);
    server.stop();
}
