//! HMAC-signed URLs against a real `arcly`: with an app's
//! `signing_secret`, `?expires=UNIX_SECS&sign=HEX` where
//! `sign = hex(HMAC-SHA256(secret, "{app}/{stream}:{expires}"))` plays
//! over RTMP, HTTP-FLV and HLS until it expires; an expired, tampered or
//! missing signature is refused. Publishers have a secret of their own,
//! so a viewer's URL never publishes.
//!
//! The signatures are computed here from the scheme with the `hmac` crate,
//! not with the server's code.

mod common;

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use common::{Arcly, Clip, Player, RawRtmp, ffmpeg_publish, http_get, run};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const PLAY_SECRET: &str = "play-secret-0123456789";
const PUBLISH_SECRET: &str = "publish-secret-0123456789";

const CONFIG: &str = r#"
[apps.paid]
signing_secret = "play-secret-0123456789"
publish_signing_secret = "publish-secret-0123456789"
"#;

/// `expires={expires}&sign={hex HMAC-SHA256(secret, "{app}/{stream}:{expires}")}`.
fn signed(secret: &str, app: &str, stream: &str, expires: u64) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{app}/{stream}:{expires}").as_bytes());
    let sign: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("expires={expires}&sign={sign}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A raw RTMP play of `paid/show?{query}`: refused, with `why` in the log.
fn assert_rtmp_play_refused(server: &Arcly, query: &str, why: &str) {
    let attempt = RawRtmp::try_play(server.rtmp, "paid", &format!("show?{query}"))
        .unwrap_or_else(|e| panic!("raw play ?{query}: {e}\n{}", server.log_tail()));
    assert!(
        !attempt.accepted(),
        "playing paid/show?{query} was accepted: {}",
        attempt.describe()
    );
    server
        .wait_log_line(&["play paid/show refused", why], Duration::from_secs(2))
        .unwrap_or_else(|| panic!("no refusal with `{why}` in the log\n{}", server.log_tail()));
}

/// An HTTP-FLV request for `paid/show.flv?{query}`: 403 saying `why`.
fn assert_http_flv_refused(server: &Arcly, query: &str, why: &str) {
    let (status, body) = http_get(server.http, &format!("/paid/show.flv?{query}")).unwrap();
    assert_eq!(status, 403, "?{query}: {body}");
    assert!(body.contains(why), "?{query}: wanted `{why}` in {body:?}");
}

#[test]
fn a_signed_url_plays_until_it_expires_and_a_tampered_one_never() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start_with_config(CONFIG);
    let publish = signed(PUBLISH_SECRET, "paid", "show", now() + 600);
    let mut publisher = ffmpeg_publish(&clip, &server.url(&format!("paid/show?{publish}")), true);
    server.wait_live(1, &mut publisher);

    // Valid: RTMP (ffmpeg), HTTP-FLV (ffprobe) and HLS.
    let valid = signed(PLAY_SECRET, "paid", "show", now() + 600);
    let mut player = Player::copy(&server.url(&format!("paid/show?{valid}")));
    player.wait_video_frames(10, Duration::from_secs(10), &server);
    let probe = run(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            &format!("http://{}/paid/show.flv?{valid}", server.http),
        ]),
        Duration::from_secs(20),
    );
    assert!(
        probe.success() && probe.stdout.contains("h264"),
        "ffprobe with a signed HTTP-FLV url: {}",
        probe.describe()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) =
            http_get(server.http, &format!("/paid/show/index.m3u8?{valid}")).unwrap();
        assert_ne!(status, 403, "a signed HLS playlist was refused: {body}");
        if status == 200 {
            assert!(body.starts_with("#EXTM3U"), "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no HLS playlist: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Expired: genuine, but its time has passed.
    let expired = signed(PLAY_SECRET, "paid", "show", now() - 60);
    assert_rtmp_play_refused(&server, &expired, "signature expired");
    assert_http_flv_refused(&server, &expired, "signature expired");
    let (status, _) = http_get(server.http, &format!("/paid/show/index.m3u8?{expired}")).unwrap();
    assert_eq!(status, 403, "an expired HLS url");

    // Tampered: a later expiry, another stream's signature, a flipped
    // digit, another secret.
    let later = valid.replacen("expires=", "expires=1", 1);
    let other_stream = signed(PLAY_SECRET, "paid", "other", now() + 600);
    let mut flipped = valid.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let forged = signed("a-guessed-secret-000", "paid", "show", now() + 600);
    for query in [&later, &other_stream, &flipped, &forged] {
        assert_http_flv_refused(&server, query, "bad signature");
    }
    assert_rtmp_play_refused(&server, &flipped, "bad signature");

    // Missing.
    assert_http_flv_refused(&server, "token=x", "missing signature");
    assert_rtmp_play_refused(&server, "", "missing signature");

    player.assert_flowing(10, "the signed RTMP player", &server);
    drop((player, publisher));
    server.stop();
}

#[test]
fn publishers_need_their_own_signature() {
    let server = Arcly::start_with_config(CONFIG);
    // A viewer's URL does not publish.
    let play = signed(PLAY_SECRET, "paid", "show", now() + 600);
    let attempt = RawRtmp::try_publish(server.rtmp, "paid", &format!("show?{play}")).unwrap();
    assert!(!attempt.accepted(), "{}", attempt.describe());
    server
        .wait_log_line(
            &["publish paid/show refused", "bad signature"],
            Duration::from_secs(2),
        )
        .unwrap_or_else(|| panic!("no refusal in the log\n{}", server.log_tail()));
    let expired = signed(PUBLISH_SECRET, "paid", "show", now() - 1);
    let attempt = RawRtmp::try_publish(server.rtmp, "paid", &format!("show?{expired}")).unwrap();
    assert!(!attempt.accepted(), "{}", attempt.describe());

    let publish = signed(PUBLISH_SECRET, "paid", "show", now() + 600);
    let attempt = RawRtmp::try_publish(server.rtmp, "paid", &format!("show?{publish}")).unwrap();
    assert!(attempt.accepted(), "{}", attempt.describe());
    // Apps without secrets stay open.
    let open = RawRtmp::try_publish(server.rtmp, "live", "cam").unwrap();
    assert!(open.accepted(), "{}", open.describe());
    drop((attempt, open));
    server.stop();
}
