//! HTTP-FLV: `GET /{app}/{stream}.flv` streams a live RTMP publish to
//! ffprobe and ffmpeg (chunked on HTTP/1.1), whichever shard the request
//! lands on; HTTP/1.0 gets a close-delimited body; an unknown stream is 404.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{Arcly, Clip, Player, ffmpeg_publish, run};

#[test]
fn ffmpeg_plays_http_flv_from_both_shards() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start();
    let mut publisher = ffmpeg_publish(&clip, &server.url("live/web"), true);
    server.wait_live(1, &mut publisher);
    let url = format!("http://{}/live/web.flv", server.http);

    let probe = run(
        Command::new("ffprobe").args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
            &url,
        ]),
        Duration::from_secs(20),
    );
    assert!(probe.success(), "ffprobe: {}", probe.describe());
    let codecs: Vec<&str> = probe.stdout.lines().map(str::trim).collect();
    assert!(
        codecs.contains(&"h264") && codecs.contains(&"aac"),
        "{codecs:?}"
    );

    // Several players so both shards serve HTTP-FLV (SO_REUSEPORT spreads them).
    let mut players: Vec<Player> = (0..4).map(|_| Player::copy(&url)).collect();
    for player in &mut players {
        player.wait_video_frames(30, Duration::from_secs(15), &server);
        player.assert_flowing(30, "http-flv player", &server);
    }

    let decoded = run(
        Command::new("ffmpeg").args([
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-i",
            &url,
            "-t",
            "3",
            "-f",
            "null",
            "-",
        ]),
        Duration::from_secs(30),
    );
    assert!(
        decoded.success() && decoded.stderr.trim().is_empty(),
        "decode: {}",
        decoded.describe()
    );
}

#[test]
fn http_1_0_body_is_close_delimited_and_unknown_streams_are_404() {
    common::require_ffmpeg();
    let clip = Clip::SMALL.file();
    let server = Arcly::start();
    let mut publisher = ffmpeg_publish(&clip, &server.url("live/old"), true);
    server.wait_live(1, &mut publisher);

    let mut client = TcpStream::connect(server.http).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(b"GET /live/old.flv HTTP/1.0\r\n\r\n")
        .unwrap();
    let mut got = vec![0u8; 64 << 10];
    let mut filled = 0;
    while filled < 4096 {
        let n = client.read(&mut got[filled..]).unwrap();
        assert!(n > 0, "closed after {filled} bytes");
        filled += n;
    }
    let text = String::from_utf8_lossy(&got[..filled]);
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "{head}"
    );
    assert!(
        body.starts_with("FLV\u{1}"),
        "body starts {:?}",
        &body[..16.min(body.len())]
    );

    let (status, _) = common::http_get(server.http, "/live/nothing.flv").unwrap();
    assert_eq!(status, 404);
}
