//! Token auth from the TOML file and from flags: a wrong or missing token is
//! refused, the right one is accepted, apps without tokens stay open, and
//! play tokens guard playback the same way.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Arcly, Clip, Player, RawRtmp, ffmpeg_publish, run};

const CONFIG: &str = r#"
[apps.secure]
publish_tokens = ["s3cret"]

[apps.paid]
play_tokens = ["v1ew"]
"#;

/// A raw publish of `name` to `app`; panics unless the server refused it.
fn assert_publish_refused(server: &Arcly, app: &str, name: &str) {
    let attempt = RawRtmp::try_publish(server.rtmp, app, name);
    match attempt {
        Ok(a) => {
            eprintln!("raw publish {app}/{name}: {}", a.describe());
            assert!(
                !a.accepted(),
                "publishing {app}/{name} was accepted: {}",
                a.describe()
            );
            if a.stage == "connect" {
                assert_eq!(
                    a.reply.code(),
                    Some("NetConnection.Connect.Rejected"),
                    "{}",
                    a.describe()
                );
            } else {
                assert_eq!(a.reply.level(), Some("error"), "{}", a.describe());
            }
        }
        // Closing the connection without a status is a refusal too, if a
        // terse one; say so.
        Err(e) => eprintln!("raw publish {app}/{name}: connection ended without a status: {e}"),
    }
}

#[test]
fn publish_tokens_from_the_config_file() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start_with_config(CONFIG);

    // Wrong token, and no token: refused. ffmpeg gives up by itself, fast.
    let wrong = run(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-re"])
            .arg("-i")
            .arg(&clip)
            .args(["-t", "5", "-c", "copy", "-f", "flv"])
            .arg(server.url("secure/cam?token=wrong")),
        Duration::from_secs(15),
    );
    eprintln!("ffmpeg with a wrong token: {}", wrong.describe());
    assert!(
        !wrong.timed_out() && !wrong.success() && wrong.elapsed < Duration::from_secs(4),
        "ffmpeg publishing with a wrong token was not refused quickly: {}\nserver log:\n{}",
        wrong.describe(),
        server.log_tail()
    );
    assert_publish_refused(&server, "secure", "cam?token=wrong");
    assert_publish_refused(&server, "secure", "cam");
    assert_eq!(
        server.total("streams_owned"),
        0,
        "a refused publisher left a stream behind"
    );

    // The right token: accepted, and an open player receives it.
    let mut good = ffmpeg_publish(&clip, &server.url("secure/cam?token=s3cret"), true);
    server.wait_live(1, &mut good);
    let mut player = Player::copy(&server.url("secure/cam"));
    player.wait_video_frames(10, Duration::from_secs(10), &server);

    // An app without tokens stays open.
    let mut open = ffmpeg_publish(&clip, &server.url("live/open"), true);
    server.wait_live(2, &mut open);
    let mut open_player = Player::copy(&server.url("live/open"));
    open_player.wait_video_frames(10, Duration::from_secs(10), &server);
    player.assert_flowing(10, "the secure stream", &server);

    drop((player, open_player, good, open));
    server.stop();
}

#[test]
fn publish_tokens_from_flags() {
    let server = Arcly::start_with(&["--publish-token", "secure=fl4g"], None);
    assert_publish_refused(&server, "secure", "cam?token=nope");
    let ok = RawRtmp::try_publish(server.rtmp, "secure", "cam?token=fl4g").unwrap_or_else(|e| {
        panic!(
            "raw publish with the right token: {e}\n{}",
            server.log_tail()
        )
    });
    eprintln!("raw publish with the right token: {}", ok.describe());
    assert!(ok.accepted(), "{}", ok.describe());
    assert_eq!(
        ok.reply.code(),
        Some("NetStream.Publish.Start"),
        "{}",
        ok.describe()
    );
    let open = RawRtmp::try_publish(server.rtmp, "live", "anything").unwrap();
    assert!(open.accepted(), "app live is open: {}", open.describe());
    drop((ok, open));
    server.stop();
}

#[test]
fn play_tokens_guard_playback() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start_with_config(CONFIG);
    let mut publisher = ffmpeg_publish(&clip, &server.url("paid/show"), true);
    server.wait_live(1, &mut publisher);

    for name in ["show", "show?token=wrong"] {
        let attempt = RawRtmp::try_play(server.rtmp, "paid", name)
            .unwrap_or_else(|e| panic!("raw play paid/{name}: {e}\n{}", server.log_tail()));
        eprintln!("raw play paid/{name}: {}", attempt.describe());
        assert!(
            !attempt.accepted(),
            "playing paid/{name} was accepted: {}",
            attempt.describe()
        );
    }
    let mut player = Player::copy(&server.url("paid/show?token=v1ew"));
    player.wait_video_frames(10, Duration::from_secs(10), &server);
    drop((player, publisher));
    server.stop();
}
