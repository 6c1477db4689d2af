//! HLS from a live RTMP publish, on 2 shards: ffmpeg decodes `index.m3u8`
//! (MPEG-TS) and `ll.m3u8` (fMP4, LL-HLS) with no errors, every listed
//! segment holds as much media as its `EXTINF` says (within one frame), the
//! master playlist names the codecs and size, a `Range` of a segment gets
//! `206` with those bytes, and an unknown stream is 404.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{Arcly, Clip, TempDir, ffmpeg_publish, get_file, get_playlist, run, wait_segments};

const STREAM: &str = "live/hls";

#[test]
fn ffmpeg_decodes_both_playlists_and_segments_match_their_durations() {
    let clip = Clip::SMALL;
    let server = Arcly::start();
    let mut publisher = ffmpeg_publish(&clip.file(), &server.url(STREAM), true);
    server.wait_live(1, &mut publisher);
    let ts = wait_segments(&server, STREAM, "index.m3u8", 3);
    let ll = wait_segments(&server, STREAM, "ll.m3u8", 3);

    for playlist in ["index.m3u8", "ll.m3u8"] {
        let url = format!("http://{}/{STREAM}/{playlist}", server.http);
        let decoded = run(
            Command::new("ffmpeg")
                .args(["-hide_banner", "-nostdin", "-v", "error", "-i", &url])
                .args(["-t", "4", "-f", "null", "-"]),
            Duration::from_secs(40),
        );
        assert!(
            decoded.success() && decoded.stderr.trim().is_empty(),
            "ffmpeg on {playlist}: {}",
            decoded.describe()
        );
    }

    // Each segment's frames, counted by ffprobe, against its EXTINF.
    let frame = 1.0 / f64::from(clip.fps);
    let dir = TempDir::new("hls-segments");
    let init = get_file(&server, STREAM, "init.mp4");
    for (playlist, container) in [(&ts, "ts"), (&ll, "mp4")] {
        for segment in playlist.segments() {
            let mut bytes = if container == "mp4" {
                init.clone()
            } else {
                Vec::new()
            };
            bytes.extend(get_file(&server, STREAM, &segment.uri));
            let file = dir.path().join(format!("{}.{container}", segment.uri));
            fs::write(&file, bytes).unwrap();
            let frames = video_frames(&file);
            let media = frames as f64 * frame;
            assert!(
                (media - segment.duration).abs() <= frame + 1e-6,
                "{}: EXTINF {} s but {frames} frames ({media:.3} s)",
                segment.uri,
                segment.duration
            );
        }
    }

    let (status, master) = get_playlist(&server, STREAM, "master.m3u8");
    assert_eq!(status, 200, "{}", master.text);
    let inf = master.tag("EXT-X-STREAM-INF").expect("EXT-X-STREAM-INF");
    assert!(
        inf.contains("CODECS=\"avc1.") && inf.contains(",mp4a.40.2\""),
        "{inf}"
    );
    assert!(
        inf.contains(&format!("RESOLUTION={}x{}", clip.width, clip.height)),
        "{inf}"
    );

    // A byte range of a segment: 206 with exactly those bytes.
    let newest = &ts.segments()[0].uri;
    let whole = get_file(&server, STREAM, newest);
    let mut conn = TcpStream::connect(server.http).unwrap();
    write!(
        conn,
        "GET /{STREAM}/{newest} HTTP/1.1\r\nHost: x\r\nRange: bytes=188-375\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    assert!(head.starts_with("http/1.1 206"), "{head}");
    assert!(
        head.contains(&format!("content-range: bytes 188-375/{}", whole.len())),
        "{head}"
    );
    assert_eq!(&answer[split..], &whole[188..376]);

    let (status, _) = get_playlist(&server, "live/nobody", "ll.m3u8");
    assert_eq!(status, 404);
    let (status, _) = get_playlist(&server, STREAM, "seg999999.ts");
    assert_eq!(status, 404);
}

/// Video frames in a media file, as ffprobe counts them.
fn video_frames(file: &std::path::Path) -> u64 {
    let probe = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-count_packets"])
            .args(["-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"])
            .arg(file),
        Duration::from_secs(20),
    );
    assert!(
        probe.success(),
        "ffprobe {}: {}",
        file.display(),
        probe.describe()
    );
    // MPEG-TS lists the stream under its program too: take the first count.
    probe
        .stdout
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("ffprobe said {:?}", probe.stdout))
}
