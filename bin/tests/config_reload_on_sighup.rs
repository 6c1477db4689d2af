//! SIGHUP re-reads the config file: after an app's play token changes,
//! new players need the new token while a player connected with the old one
//! carries on; a broken file is refused with a clear line and the running
//! configuration stays.

mod common;

use std::time::Duration;

use common::{Arcly, Clip, Player, RawRtmp, ffmpeg_publish};

const OLD: &str = "[apps.paid]\nplay_tokens = [\"old\"]\n";
const NEW: &str = "[apps.paid]\nplay_tokens = [\"new\"]\n";

fn play_is_refused(server: &Arcly, name: &str) -> bool {
    let attempt = RawRtmp::try_play(server.rtmp, "paid", name)
        .unwrap_or_else(|e| panic!("raw play paid/{name}: {e}\n{}", server.log_tail()));
    !attempt.accepted()
}

#[test]
fn sighup_changes_play_tokens_for_new_players_only() {
    common::require_ffmpeg();
    let server = Arcly::start_with_config(OLD);
    let mut publisher = ffmpeg_publish(&Clip::SMALL.file(), &server.url("paid/show"), true);
    server.wait_live(1, &mut publisher);
    let mut connected = Player::copy(&server.url("paid/show?token=old"));
    connected.wait_video_frames(10, Duration::from_secs(10), &server);
    assert!(play_is_refused(&server, "show?token=new"));

    server.rewrite_config(NEW);
    server.signal("HUP");
    server
        .wait_log_line(&["reloaded the configuration"], Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no reload line\n{}", server.log_tail()));
    assert!(
        play_is_refused(&server, "show?token=old"),
        "the old token still plays"
    );
    assert!(
        !play_is_refused(&server, "show?token=new"),
        "the new token is refused"
    );
    connected.assert_flowing(30, "the player connected with the old token", &server);

    server.rewrite_config("[apps.paid\nplay_tokens = oops");
    server.signal("HUP");
    let line = server
        .wait_log_line(&["reload failed"], Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no refusal line\n{}", server.log_tail()));
    assert!(
        line.contains("arcly.toml:1:"),
        "the line names file and line: {line}"
    );
    assert!(
        !play_is_refused(&server, "show?token=new"),
        "the running config stays"
    );
    connected.assert_flowing(30, "the connected player, after a broken reload", &server);
    drop((connected, publisher));
    server.stop();
}
